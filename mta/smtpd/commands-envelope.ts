/*
 * MAIL and RCPT as Postfix 3.7.11 runs them (smtpd.c mail_cmd, rcpt_cmd; syntax in
 * envelope-syntax.ts): the SIZE check against message_size_limit with Postfix's sticky msg_size
 * (after `552 5.3.4 Message size exceeds fixed limit`, later MAIL commands get 552 too until RSET),
 * smtpd_recipient_limit (`452 4.5.3 Error: too many recipients`, not counted as an error for the
 * first smtpd_recipient_overshoot_limit excess recipients), the policy at the mail and rcpt stages
 * with `NOQUEUE: reject: RCPT from …` lines, and the queue ID taken at the first accepted recipient
 * (`ID: client=host[addr]`, smtpd_delay_open_until_valid_rcpt = yes). access(5) HOLD and DISCARD
 * decisions are logged (`NOQUEUE: hold: RCPT from …`) and passed on to cleanup with the message.
 */
import type { SmtpdSession } from './session.js';
import { R } from './replies.js';
import { EnvelopeSyntaxError, parseMailArgs, parseRcptArgs, type MailArgs, type RcptArgs } from './envelope-syntax.js';
import { mtaEvents, smtpdEvents } from '../log-events.js';

async function syntaxFailure(s: SmtpdSession, err: unknown, command: string): Promise<false> {
  if (!(err instanceof EnvelopeSyntaxError)) throw err;
  if (err.warning !== undefined) {
    const r = err.reply;
    if (r === R.badSender || r === R.badRecipient) s.deps.log.warn(smtpdEvents.illegalAddress(s.client, command, err.warning));
    else s.deps.log.warn(smtpdEvents.dsnNotifyValue(err.warning));
  }
  await s.reply(err.reply);
  return false;
}

export async function mailCommand(s: SmtpdSession, args: string): Promise<boolean> {
  let mail: MailArgs;
  try {
    mail = parseMailArgs(args, { smtputf8Enable: s.settings.smtputf8Enable });
  } catch (err) {
    return syntaxFailure(s, err, 'MAIL');
  }
  if (mail.size !== undefined) s.msgSize = mail.size;
  const limit = s.settings.messageSizeLimit;
  if (limit > 0 && s.msgSize > limit) {
    s.logReject('MAIL', R.sizeExceeded, { from: mail.sender });
    await s.reply(R.sizeExceeded);
    return false;
  }
  const d = await s.decide('mail', { sender: mail.sender });
  let pending: 'hold' | 'discard' | undefined;
  if (d.kind === 'reject' || d.kind === 'defer') {
    s.logReject('MAIL', d.reply, { from: mail.sender });
    await s.reply(d.reply);
    return false;
  }
  if (s.milters) {
    s.milterMacros({ mailAddr: mail.sender });
    const m = await s.milters.mail(milterArgs(args, 'from:'));
    const rep = s.milterVerdict('MAIL', m, { from: mail.sender });
    if (rep) {
      void s.milters.abort();
      await s.reply(rep);
      return false;
    }
    if (m.action === 'hold' || m.action === 'discard') pending = m.action;
  }
  s.tx = { mail, recipients: [] };
  if (s.pendingPrepend.length > 0) s.tx.prepend = s.pendingPrepend.splice(0);
  if (s.sessionActions.hold !== undefined || s.sessionActions.discard !== undefined) s.tx.actions = { ...s.sessionActions };
  if (pending) (s.tx.actions ??= {})[pending] ??= `milter triggers ${pending.toUpperCase()} action`;
  if (d.kind === 'hold' || d.kind === 'discard') s.noteAction('MAIL', d, { from: mail.sender });
  s.state = 'mail';
  await s.reply(R.mailOk);
  return true;
}

/** MAIL/RCPT arguments as Postfix passes them to milters: the address as given, then the parameters. */
function milterArgs(args: string, keyword: string): string[] {
  const rest = args.trimStart().slice(keyword.length).trim();
  const m = /^(<[^>]*>|\S+)\s*(.*)$/.exec(rest);
  if (!m) return [rest];
  return [m[1]!, ...m[2]!.split(/[ \t]+/).filter((w) => w !== '')];
}

export async function rcptCommand(s: SmtpdSession, args: string): Promise<boolean> {
  const tx = s.tx!;
  const st = s.settings;
  const syntax = /^to:/i.test(args.trimStart());
  if (syntax && st.recipientLimit > 0 && tx.recipients.length >= st.recipientLimit) {
    await s.reply(R.tooManyRecipients);
    return s.rcptOvershoot++ < st.recipientOvershootLimit;
  }
  let rcpt: RcptArgs;
  try {
    rcpt = parseRcptArgs(args);
  } catch (err) {
    return syntaxFailure(s, err, 'RCPT');
  }
  const d = await s.decide('rcpt', { recipient: rcpt.address, recipientCount: tx.recipients.length });
  if (d.kind === 'reject' || d.kind === 'defer') {
    s.logReject('RCPT', d.reply, { to: rcpt.address });
    await s.reply(d.reply);
    return false;
  }
  // Logged before the queue ID exists, as Postfix does (smtpd_delay_open_until_valid_rcpt).
  if (d.kind === 'hold' || d.kind === 'discard') s.noteAction('RCPT', d, { to: rcpt.address });
  if (s.milters) {
    s.milterMacros({ rcptAddr: rcpt.address });
    const rep = s.milterVerdict('RCPT', await s.milters.rcpt(milterArgs(args, 'to:')), { to: rcpt.address });
    if (rep) {
      await s.reply(rep);
      return false;
    }
  }
  if (tx.queueId === undefined) {
    tx.queueId = s.deps.cleanup.allocateQueueId();
    s.deps.log.info(mtaEvents.smtpd.client(tx.queueId, s.client, s.sasl));
  }
  tx.recipients.push(rcpt);
  s.state = 'rcpt';
  await s.reply(R.rcptOk);
  return true;
}
