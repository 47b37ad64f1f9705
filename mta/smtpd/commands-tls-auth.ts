/*
 * STARTTLS (RFC 3207) and AUTH (RFC 4954) as Postfix 3.7.11 answers them.
 *  - STARTTLS: `502 5.5.1 Error: command not implemented` when TLS is off, `501 5.5.4 Syntax:
 *    STARTTLS` with arguments, `554 5.5.1 Error: TLS already active`, `220 2.0.0 Ready to start TLS`;
 *    afterwards the session forgets HELO/EHLO, the transaction and SASL (RFC 3207 §4.2), and plaintext
 *    pipelined after STARTTLS is dropped (input.ts attach()).
 *  - AUTH through the SASL backend (Dovecot auth-client; reference/postfix.md §8): `503 5.5.1 Error:
 *    authentication not enabled`, `503 5.5.1 Error: already authenticated`, `503 5.5.1 Error: MAIL
 *    transaction in progress`, `501 5.5.4 Syntax: AUTH mechanism`, `334 <challenge>` rounds, `*` aborts
 *    (`501 5.7.0 Authentication aborted`), `235 2.7.0 Authentication successful`, `535 5.7.8 Error:
 *    authentication failed: <reason>` (`(reason unavailable)` when Dovecot gives none), logged as
 *    `warning: host[addr]: SASL PLAIN authentication failed: …` for fail2ban.
 * Distrusts the client's responses: base64 is checked here before anything reaches the auth server,
 * responses are bounded by smtpd_sasl_response_limit (line_length_limit here), and credentials are
 * never logged.
 */
import type { SmtpdSession } from './session.js';
import { R } from './replies.js';
import { authMechanisms } from './commands-basic.js';
import { mtaEvents, smtpdEvents } from '../log-events.js';
import { SessionEnd } from './session.js';

export async function starttlsCommand(s: SmtpdSession, args: string): Promise<boolean> {
  const level = s.settings.tlsLevel;
  if ((level !== 'may' && level !== 'encrypt') || !s.io.startTls) {
    await s.reply(R.notImplemented);
    return false;
  }
  if (args.trim() !== '') {
    await s.reply(R.starttlsSyntax);
    return false;
  }
  if (s.tls) {
    await s.reply({ code: 554, enhanced: '5.5.1', text: 'Error: TLS already active' });
    return false;
  }
  await s.reply(R.starttlsReady);
  try {
    s.tls = await s.io.startTls();
  } catch (err) {
    s.deps.log.warn(smtpdEvents.tlsHandshakeFailed(s.client, err instanceof Error ? err.message : String(err)));
    throw new SessionEnd('TLS handshake failed');
  }
  s.deps.log.info(smtpdEvents.tlsEstablished(s.client, s.tls.protocol, s.tls.cipher));
  s.resetTransaction();
  s.helo = undefined;
  s.ehlo = false;
  s.sasl = undefined;
  return true;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export async function authCommand(s: SmtpdSession, args: string): Promise<boolean> {
  const st = s.settings;
  if (!st.saslAuthEnable || !s.deps.sasl || (st.tlsAuthOnly && !s.tls)) {
    await s.reply(R.authNotEnabled);
    return false;
  }
  if (s.sasl) {
    await s.reply(R.authAlready);
    return false;
  }
  if (s.state !== 'idle') {
    await s.reply(R.authInTransaction);
    return false;
  }
  const words = args.trim().split(/[ \t]+/).filter((w) => w !== '');
  if (words.length < 1 || words.length > 2) {
    await s.reply(R.authSyntax);
    return false;
  }
  const mech = words[0]!.toUpperCase();
  let initial = words[1];
  if (initial === '=') initial = '';
  else if (initial !== undefined && !BASE64.test(initial)) {
    return authFail(s, mech, 'Invalid base64 data in initial response');
  }
  const offered = (await authMechanisms(s)) ?? [];
  if (!offered.includes(mech)) return authFail(s, mech, 'Invalid authentication mechanism');
  const facts = { service: st.saslService, lip: s.conn.serverAddr, rip: s.conn.clientAddr, secured: s.tls !== undefined };
  let step = await s.deps.sasl.start(mech, initial, facts);
  for (;;) {
    if (step.kind === 'ok') {
      s.sasl = { method: mech, username: step.user };
      await s.reply(R.authOk);
      return true;
    }
    if (step.kind === 'fail') {
      if (step.temporary && step.reason === undefined) {
        await s.reply(R.authTempFail);
        s.deps.log.warn(mtaEvents.smtpd.saslFailed(s.client, mech, 'temporary failure'));
        return false;
      }
      return authFail(s, mech, step.reason);
    }
    await s.reply({ code: 334, text: step.challenge });
    const line = await s.io.input.readCommand(Math.max(st.lineLimit, 12288));
    const resp = line.text.trim();
    if (resp === '*') {
      await s.reply(R.authAborted);
      return false;
    }
    if (!BASE64.test(resp)) return authFail(s, mech, 'Invalid base64 data in continued response');
    step = await s.deps.sasl.continue(step.id, resp);
  }
}

async function authFail(s: SmtpdSession, mech: string, reason: string | undefined): Promise<false> {
  s.deps.log.warn(mtaEvents.smtpd.saslFailed(s.client, mech, reason ?? '(reason unavailable)'));
  await s.reply(R.authFailed(reason));
  return false;
}
