/*
 * HELO, EHLO, NOOP, RSET, QUIT, VRFY, ETRN with Postfix 3.7.11's replies (smtpd.c helo_cmd,
 * ehlo_cmd, noop_cmd, rset_cmd, quit_cmd, vrfy_cmd, etrn_cmd): `501 Syntax: HELO hostname` without
 * an enhanced code, several HELO words collapsed into one name, NOOP with arguments accepted,
 * `502 5.5.1 VRFY command is disabled`, `252 2.0.0 <address>`, `500 Syntax: ETRN domain`, a leading
 * `@` stripped from the ETRN domain, `459 <domain>: service unavailable` for a site outside
 * fast_flush_domains, `458 Unable to queue messages` when the queue could not be updated, else
 * `250 Queuing started` (the site's deferred mail is due now). Each handler returns whether the command succeeded (false raises the
 * session's error count).
 */
import type { SmtpdSession } from './session.js';
import { R } from './replies.js';
import { reply } from '../../shared/proto/smtp-reply.js';
import { ehloReply } from './ehlo.js';
import { offeredMechanisms } from './sasl/mechanisms.js';
import { parseVrfyArg } from './envelope-syntax.js';
import { smtpdEvents } from '../log-events.js';

async function heloCommon(s: SmtpdSession, args: string, ehlo: boolean): Promise<boolean> {
  const name = args.trim().split(/[ \t]+/).join(' ');
  if (name === '') {
    await s.reply(ehlo ? R.ehloSyntax : R.heloSyntax);
    return false;
  }
  const d = await s.decide('helo', { helo: name });
  if (d.kind === 'reject' || d.kind === 'defer') {
    s.helo = name;
    s.logReject(ehlo ? 'EHLO' : 'HELO', d.reply);
    await s.reply(d.reply);
    return false;
  }
  s.resetTransaction();
  s.helo = name;
  let restricted = false;
  if (s.milters) {
    // Before the EHLO flag is set: Postfix logs a milter's EHLO reject with proto=SMTP (observed).
    s.milterMacros();
    const rep = s.milterVerdict(ehlo ? 'EHLO' : 'HELO', await s.milters.helo(name));
    if (rep?.code === 421) {
      await s.reply(rep);
      return false;
    }
    // Postfix 3.7.11 (observed): a 5xx from the milters still gets 250, but EHLO offers only
    // ENHANCEDSTATUSCODES (Sendmail compatibility); MAIL then gets the milters' reply.
    restricted = rep !== undefined && rep.code >= 500;
  }
  s.ehlo = ehlo;
  if (d.kind === 'hold' || d.kind === 'discard') s.noteAction(ehlo ? 'EHLO' : 'HELO', d);
  if (ehlo && restricted) {
    await s.reply(reply(250, undefined, `${s.settings.myhostname}\nENHANCEDSTATUSCODES`));
    return true;
  }
  if (!ehlo) {
    await s.reply(R.helo(s.settings.myhostname));
    return true;
  }
  await s.reply(ehloReply({
    myhostname: s.settings.myhostname,
    sizeLimit: s.settings.messageSizeLimit,
    disableVrfy: s.settings.disableVrfy,
    offerStarttls: (s.settings.tlsLevel === 'may' || s.settings.tlsLevel === 'encrypt') && !s.tls && s.io.startTls !== undefined,
    authMechanisms: await authMechanisms(s),
    brokenSaslAuthClients: s.settings.brokenSaslAuthClients,
    smtputf8Enable: s.settings.smtputf8Enable,
    discard: s.settings.discardEhloKeywords,
  }));
  return true;
}

/** The mechanisms AUTH may offer now, or undefined when AUTH is off (Postfix hides it then). */
export async function authMechanisms(s: SmtpdSession): Promise<string[] | undefined> {
  const st = s.settings;
  if (!st.saslAuthEnable || !s.deps.sasl || s.sasl) return undefined;
  if (st.tlsAuthOnly && !s.tls) return undefined;
  try {
    const announced = await s.deps.sasl.mechanisms();
    return offeredMechanisms(announced, s.tls ? st.saslTlsSecurityOptions : st.saslSecurityOptions);
  } catch (err) {
    s.deps.log.warn(smtpdEvents.saslBackend(err instanceof Error ? err.message : String(err)));
    return undefined;
  }
}

export const heloCommand = (s: SmtpdSession, args: string) => heloCommon(s, args, false);
export const ehloCommand = (s: SmtpdSession, args: string) => heloCommon(s, args, true);

export async function noopCommand(s: SmtpdSession): Promise<boolean> {
  await s.reply(R.ok);
  return true;
}

export async function rsetCommand(s: SmtpdSession, args: string): Promise<boolean> {
  if (args.trim() !== '') {
    await s.reply(R.rsetSyntax);
    return false;
  }
  s.resetTransaction();
  await s.reply(R.ok);
  return true;
}

export async function quitCommand(s: SmtpdSession): Promise<boolean> {
  await s.reply(R.bye);
  return true;
}

export async function vrfyCommand(s: SmtpdSession, args: string): Promise<boolean> {
  if (s.settings.disableVrfy) {
    await s.reply(R.vrfyDisabled);
    return false;
  }
  if (args.trim() === '') {
    await s.reply(R.vrfySyntax);
    return false;
  }
  const addr = parseVrfyArg(args);
  if (addr === undefined) {
    s.deps.log.warn(smtpdEvents.illegalAddress(s.client, 'VRFY', args.trim()));
    await s.reply(R.badRecipient);
    return false;
  }
  const d = await s.decide('vrfy', { recipient: addr });
  if (d.kind === 'reject' || d.kind === 'defer') {
    s.logReject('VRFY', d.reply, { to: addr });
    await s.reply(d.reply);
    return false;
  }
  await s.reply(R.vrfyOk(addr));
  return true;
}

function flushable(domain: string, list: readonly string[]): boolean {
  const d = domain.toLowerCase();
  return list.some((e) => e === d || (e.startsWith('.') && d.endsWith(e)) || d.endsWith(`.${e}`));
}

export async function etrnCommand(s: SmtpdSession, args: string): Promise<boolean> {
  const words = args.trim().split(/[ \t]+/).filter((w) => w !== '');
  if (words.length !== 1) {
    await s.reply(R.etrnSyntax);
    return false;
  }
  const domain = words[0]!.startsWith('@') ? words[0]!.slice(1) : words[0]!;
  const d = await s.decide('etrn', { etrnDomain: domain });
  if (d.kind === 'reject' || d.kind === 'defer') {
    s.logReject('ETRN', d.reply);
    await s.reply(d.reply);
    return false;
  }
  let granted: boolean;
  try {
    granted = flushable(domain, s.settings.fastFlushDomains) && s.deps.etrn !== undefined && (await s.deps.etrn(domain));
  } catch (err) {
    // The queue could not be updated (Postfix: the flush service failed): 458, the client may retry.
    s.deps.log.warn(smtpdEvents.etrnFailure(domain, err instanceof Error ? err.message : String(err)));
    await s.reply(R.etrnFailed);
    return false;
  }
  if (!granted) {
    s.deps.log.warn(smtpdEvents.etrnReject(domain, s.client));
    await s.reply(R.etrnUnavailable(domain));
    return false;
  }
  await s.reply(R.etrnQueued);
  return true;
}
