/*
 * One mail transaction on an established session (smtp_proto.c smtp_xfer): SIZE check before MAIL,
 * MAIL FROM with SIZE/BODY/SMTPUTF8/RET/ENVID, one RCPT TO per recipient with NOTIFY/ORCPT, DATA,
 * the content, end of data. With PIPELINING, MAIL, every RCPT and DATA go out in one write and the
 * replies are read in order (RFC 2920).
 * Results per recipient: RCPT replies decide each recipient's fate; a MAIL, DATA or end-of-data
 * reply decides it for all still open; a lost connection or timeout leaves them open with a
 * stream failure (the agent may try the next server).
 * MIME downgrade (smtp_proto.c SMTP_MIME_DOWNGRADE): unless disable_mime_output_conversion = yes,
 * content not declared 7BIT that goes to a server without 8BITMIME passes through the 8-bit → 7-bit
 * converter (mime-8to7.ts: 8bit/binary parts become quoted-printable) and MAIL FROM carries no
 * SIZE (the converted size is not known in advance); a hard MIME error there bounces the message
 * and drops the connection without ending DATA, as Postfix does. BODY=8BITMIME or BODY=7BIT is
 * announced only to a server that offers 8BITMIME.
 */
import type { Readable } from 'node:stream';
import type { DeliveryRecipient, DeliveryRequest } from '../api.js';
import { has8bit, xtext, DotStuffer } from './dot-stuff.js';
import { Mime8to7, MimeDowngradeError, type MimeLimits } from './mime-8to7.js';
import { COMMAND, STAGE, localFailure, saidFailure, streamFailure, type Failure, type Stage } from './reasons.js';
import { replyDsn, replyString, type ServerReply } from './reply-parser.js';
import { SessionError, type SmtpSession } from './session.js';
import type { SmtpTimeouts } from './settings.js';

export type RcptResult = { kind: 'delivered'; dsn: string; reply: string } | { kind: 'failed'; failure: Failure };

export interface TransactionResult {
  results: Map<number, RcptResult>;
  /** False when the session must not be used again (stream trouble, unfinished dialogue). */
  reusable: boolean;
}

export interface TransactionInput {
  session: SmtpSession;
  ehlo: Map<string, string> | undefined;
  namaddr: string;
  req: DeliveryRequest;
  recipients: readonly DeliveryRecipient[];
  timeouts: SmtpTimeouts;
  /** Converter limits; absent: no 8-bit → 7-bit conversion (disable_mime_output_conversion = yes). */
  mime?: MimeLimits;
}

/** Whether Postfix's smtp would MIME-downgrade this message for this server. */
export function mustDowngrade(req: DeliveryRequest, ehlo: Map<string, string> | undefined, enabled: boolean): boolean {
  return enabled && ehlo?.has('8BITMIME') !== true && req.bodyType !== '7BIT';
}

class StreamFail {
  constructor(readonly failure: Failure) {}
}

function mailCommand(req: DeliveryRequest, ehlo: Map<string, string> | undefined, downgrading: boolean): string {
  let cmd = `MAIL FROM:<${req.sender}>`;
  if (ehlo === undefined) return cmd;
  if (ehlo.has('SIZE') && !downgrading) cmd += ` SIZE=${req.size}`;
  if (req.bodyType === '8BITMIME' && ehlo.has('8BITMIME')) cmd += ' BODY=8BITMIME';
  else if (req.bodyType === '7BIT' && ehlo.has('8BITMIME')) cmd += ' BODY=7BIT';
  if (req.smtputf8 && ehlo.has('SMTPUTF8')) cmd += ' SMTPUTF8';
  if (ehlo.has('DSN')) {
    if (req.ret) cmd += ` RET=${req.ret}`;
    if (req.envid) cmd += ` ENVID=${xtext(req.envid)}`;
  }
  return cmd;
}

function rcptCommand(r: DeliveryRecipient, ehlo: Map<string, string> | undefined): string {
  let cmd = `RCPT TO:<${r.address}>`;
  if (ehlo?.has('DSN')) {
    if (r.notify && r.notify.length > 0) cmd += ` NOTIFY=${r.notify.join(',')}`;
    if (r.orcpt) cmd += ` ORCPT=${r.orcpt}`;
    else if (r.originalAddress) cmd += ` ORCPT=rfc822;${xtext(r.originalAddress)}`;
  }
  return cmd;
}

const ok2 = (r: ServerReply): boolean => r.code >= 200 && r.code < 300;

export async function runTransaction(t: TransactionInput): Promise<TransactionResult> {
  const { session: s, ehlo, namaddr, req, timeouts } = t;
  const results = new Map<number, RcptResult>();
  const all = (f: Failure, who: readonly DeliveryRecipient[]): void => {
    for (const r of who) if (!results.has(r.index)) results.set(r.index, { kind: 'failed', failure: f });
  };

  const sizeLimit = Number(ehlo?.get('SIZE') ?? '0');
  if (Number.isFinite(sizeLimit) && sizeLimit > 0 && req.size > sizeLimit) {
    all(localFailure('5.3.4', `message size ${req.size} exceeds size limit ${sizeLimit} of server ${namaddr}`, true), t.recipients);
    return { results, reusable: true };
  }
  const needsUtf8 = has8bit(req.sender) || t.recipients.some((r) => has8bit(r.address));
  if (req.smtputf8 && needsUtf8 && !ehlo?.has('SMTPUTF8')) {
    all(localFailure('5.6.7', `SMTPUTF8 is required, but was not offered by host ${namaddr}`, true), t.recipients);
    return { results, reusable: true };
  }

  const io = async <T>(stage: Stage, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SessionError) throw new StreamFail(streamFailure(err, namaddr, stage));
      throw err;
    }
  };
  const send = (line: string, timeout: number, stage: Stage): Promise<void> => io(stage, () => s.write(line, timeout));
  const read = (timeout: number, stage: Stage): Promise<ServerReply> => io(stage, () => s.read(timeout));
  const pipelining = ehlo?.has('PIPELINING') === true;
  const accepted: DeliveryRecipient[] = [];
  const downgrading = mustDowngrade(req, ehlo, t.mime !== undefined);

  try {
    const mail = `${mailCommand(req, ehlo, downgrading)}\r\n`;
    const rcpts = t.recipients.map((r) => `${rcptCommand(r, ehlo)}\r\n`);
    let mailReply: ServerReply;
    if (pipelining) {
      await send(mail + rcpts.join('') + 'DATA\r\n', timeouts.mail, STAGE.mail);
      mailReply = await read(timeouts.mail, STAGE.mail);
    } else {
      await send(mail, timeouts.mail, STAGE.mail);
      mailReply = await read(timeouts.mail, STAGE.mail);
    }
    if (!ok2(mailReply)) {
      all(saidFailure(namaddr, mailReply, COMMAND.mail), t.recipients);
      if (pipelining) {
        // Drain the pipelined RCPT and DATA replies so the session stays in step.
        for (let i = 0; i < rcpts.length; i++) await read(timeouts.rcpt, STAGE.rcpt);
        const d = await read(timeouts.dataInit, STAGE.data);
        if (d.code === 354) return await finishEmpty(s, timeouts, results, read);
      }
      return { results, reusable: true };
    }
    for (let i = 0; i < t.recipients.length; i++) {
      const r = t.recipients[i]!;
      if (!pipelining) await send(rcpts[i]!, timeouts.rcpt, STAGE.rcpt);
      const reply = await read(timeouts.rcpt, STAGE.rcpt);
      if (ok2(reply)) accepted.push(r);
      else results.set(r.index, { kind: 'failed', failure: saidFailure(namaddr, reply, COMMAND.rcpt) });
    }
    if (accepted.length === 0) {
      if (pipelining) {
        const d = await read(timeouts.dataInit, STAGE.data);
        if (d.code === 354) return await finishEmpty(s, timeouts, results, read);
      }
      return { results, reusable: true };
    }
    if (!pipelining) await send('DATA\r\n', timeouts.dataInit, STAGE.data);
    const dataReply = await read(timeouts.dataInit, STAGE.data);
    if (dataReply.code !== 354) {
      all(saidFailure(namaddr, dataReply, COMMAND.data), accepted);
      return { results, reusable: true };
    }
    await sendContent(req.content(), s, timeouts.dataXfer, io, downgrading ? new Mime8to7(t.mime) : undefined);
    const final = await read(timeouts.dataDone, STAGE.dot);
    if (ok2(final)) {
      for (const r of accepted) results.set(r.index, { kind: 'delivered', dsn: replyDsn(final), reply: replyString(final) });
    } else {
      all(saidFailure(namaddr, final, COMMAND.dot), accepted);
    }
    return { results, reusable: true };
  } catch (err) {
    if (err instanceof StreamFail) {
      all(err.failure, t.recipients);
      return { results, reusable: false };
    }
    if (err instanceof MimeDowngradeError) {
      s.destroy();
      all(localFailure(err.dsn, err.message, true), accepted);
      return { results, reusable: false };
    }
    if (err instanceof ContentError) {
      all(localFailure('4.3.0', `error reading message content: ${err.message}`), t.recipients);
      return { results, reusable: false };
    }
    throw err;
  }
}

/** A server that says 354 although no recipient was accepted gets an empty message ended at once. */
async function finishEmpty(
  s: SmtpSession,
  timeouts: SmtpTimeouts,
  results: Map<number, RcptResult>,
  read: (timeout: number, stage: Stage) => Promise<ServerReply>,
): Promise<TransactionResult> {
  await s.write('.\r\n', timeouts.dataXfer).catch(() => undefined);
  await read(timeouts.dataDone, STAGE.dot).catch(() => undefined);
  return { results, reusable: false };
}

class ContentError extends Error {}

async function sendContent(
  content: Readable,
  s: SmtpSession,
  timeout: number,
  io: <T>(stage: Stage, fn: () => Promise<T>) => Promise<T>,
  mime: Mime8to7 | undefined,
): Promise<void> {
  const stuffer = new DotStuffer();
  const iterator = content[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await iterator.next();
      } catch (err) {
        throw new ContentError(err instanceof Error ? err.message : String(err));
      }
      if (next.done) break;
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : (next.value as Buffer);
      const out = stuffer.push(mime ? mime.push(chunk) : chunk);
      if (out.length > 0) await io(STAGE.body, () => s.write(out, timeout));
    }
  } finally {
    content.destroy();
  }
  const tail = mime ? stuffer.push(mime.end()) : Buffer.alloc(0);
  await io(STAGE.dot, () => s.write(Buffer.concat([tail, stuffer.end()]), timeout));
}
