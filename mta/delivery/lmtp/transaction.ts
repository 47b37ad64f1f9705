/*
 * One LMTP mail transaction on an open session, with Postfix lmtp(8)'s observable behaviour
 * (reference/transcripts.md §9, postfix.md §10):
 *  - MAIL FROM with SIZE= only when SIZE is offered, BODY=8BITMIME only for 8-bit content and when
 *    offered, SMTPUTF8 when needed and offered, RET=/ENVID= and per-recipient NOTIFY=/ORCPT= only when
 *    DSN is offered; never BDAT, never XFORWARD;
 *  - MAIL, every RCPT and DATA are pipelined in one write when PIPELINING is offered;
 *  - after the content, one reply per accepted RCPT, in RCPT order (RFC 2033 §4.2);
 *  - 2xx → delivered, 4xx → deferred, 5xx → bounced, per recipient, with
 *    `host H[A] said: REPLY (in reply to RCPT TO command)`; a message above the server's SIZE is
 *    bounced without sending (`message size S exceeds size limit N of server H[A]`, 5.3.4).
 * Connection-level failures throw LmtpSessionError for the agent to apply to every open recipient;
 * the `settled` map says which recipients already have an outcome so nothing is reported twice.
 * DURABILITY: a recipient counts as delivered only on its own 2xx after the final dot; a connection
 * lost while waiting for those replies defers the rest "-- message may be sent more than once".
 */
import type { Readable } from 'node:stream';
import type { DeliveryRecipient } from '../api.js';
import type { RecipientOutcome } from '../../queue/types.js';
import { DotStuffer } from './dot-stuff.js';
import { dsnOf, replyOneLine, type ServerReply } from './reply.js';
import { LmtpSessionError, type LmtpSession } from './session.js';

export interface TransactionInput {
  sender: string;
  recipients: DeliveryRecipient[];
  size: number;
  envid?: string;
  ret?: 'FULL' | 'HDRS';
  smtputf8?: boolean;
  bodyType?: '7BIT' | '8BITMIME' | 'BINARYMIME';
  content(): Readable;
}

/** Outcomes so far, keyed by recipient index; filled as replies arrive. */
export type Settled = Map<number, RecipientOutcome>;

function outcomeFor(index: number, r: ServerReply, relay: string, host: string, inReplyTo: string | undefined): RecipientOutcome {
  const dsn = dsnOf(r);
  const text = replyOneLine(r);
  if (r.code >= 200 && r.code < 300) return { index, kind: 'delivered', dsnStatus: dsn, reply: text, relay };
  const reason = `host ${host} said: ${text}${inReplyTo ? ` (in reply to ${inReplyTo} command)` : ''}`;
  return r.code >= 500
    ? { index, kind: 'bounced', dsnStatus: dsn, reason, relay }
    : { index, kind: 'deferred', dsnStatus: dsn, reason, relay };
}

function mailParams(s: LmtpSession, t: TransactionInput): string {
  const caps = s.capabilities;
  let p = '';
  if (caps.has('SIZE')) p += ` SIZE=${t.size}`;
  if (t.bodyType === '8BITMIME' && caps.has('8BITMIME')) p += ' BODY=8BITMIME';
  if (t.smtputf8 && caps.has('SMTPUTF8')) p += ' SMTPUTF8';
  if (caps.has('DSN')) {
    if (t.ret) p += ` RET=${t.ret}`;
    if (t.envid) p += ` ENVID=${t.envid}`;
  }
  return p;
}

function rcptParams(s: LmtpSession, r: DeliveryRecipient): string {
  if (!s.capabilities.has('DSN')) return '';
  let p = '';
  if (r.notify && r.notify.length > 0) p += ` NOTIFY=${r.notify.join(',')}`;
  if (r.orcpt) p += ` ORCPT=${r.orcpt}`;
  return p;
}

/** Runs the transaction; returns when every recipient has an outcome (in `settled`) or throws LmtpSessionError. */
export async function runTransaction(s: LmtpSession, t: TransactionInput, settled: Settled): Promise<void> {
  const relay = s.relay;
  const host = s.host;
  const to = s.timeouts;
  if (s.sizeLimit !== undefined && t.size > s.sizeLimit) {
    for (const r of t.recipients) {
      settled.set(r.index, {
        index: r.index, kind: 'bounced', dsnStatus: '5.3.4', relay,
        reason: `message size ${t.size} exceeds size limit ${s.sizeLimit} of server ${host}`,
      });
    }
    return;
  }
  const mail = `MAIL FROM:<${t.sender}>${mailParams(s, t)}\r\n`;
  const rcpts = t.recipients.map((r) => `RCPT TO:<${r.address}>${rcptParams(s, r)}\r\n`);
  const pipelining = s.capabilities.has('PIPELINING');

  let mailReply: ServerReply;
  const accepted: DeliveryRecipient[] = [];
  if (pipelining) {
    s.write(mail + rcpts.join('') + 'DATA\r\n');
    mailReply = await s.read(to.mail, 'sending MAIL FROM');
    for (const r of t.recipients) {
      const rr = await s.read(to.rcpt, 'sending RCPT TO');
      if (mailReply.code !== 250) continue; // the server's answers to RCPT after a failed MAIL mean nothing
      if (rr.code >= 200 && rr.code < 300) accepted.push(r);
      else settled.set(r.index, outcomeFor(r.index, rr, relay, host, 'RCPT TO'));
    }
  } else {
    s.write(mail);
    mailReply = await s.read(to.mail, 'sending MAIL FROM');
    if (mailReply.code === 250) {
      for (let i = 0; i < t.recipients.length; i++) {
        const r = t.recipients[i]!;
        s.write(rcpts[i]!);
        const rr = await s.read(to.rcpt, 'sending RCPT TO');
        if (rr.code >= 200 && rr.code < 300) accepted.push(r);
        else settled.set(r.index, outcomeFor(r.index, rr, relay, host, 'RCPT TO'));
      }
    }
  }
  if (mailReply.code !== 250) {
    for (const r of t.recipients) settled.set(r.index, outcomeFor(r.index, mailReply.code < 400 ? { ...mailReply, code: 450 } : mailReply, relay, host, 'MAIL FROM'));
    if (pipelining) await s.read(to.dataInit, 'sending DATA command').catch(() => undefined);
    s.destroy(); // state unknown after a refused MAIL: do not cache
    return;
  }
  if (accepted.length === 0) {
    if (pipelining) {
      const d = await s.read(to.dataInit, 'sending DATA command');
      if (d.code === 354) {
        s.write('.\r\n');
        await s.read(to.dataDone, 'sending end of data').catch(() => undefined);
      }
    }
    return;
  }
  if (!pipelining) s.write('DATA\r\n');
  const dataReply = await s.read(to.dataInit, 'sending DATA command');
  if (dataReply.code !== 354) {
    for (const r of accepted) settled.set(r.index, outcomeFor(r.index, dataReply.code < 400 ? { ...dataReply, code: 450 } : dataReply, relay, host, 'DATA'));
    return;
  }
  await sendContent(s, t.content());
  for (const r of accepted) {
    const rr = await s.read(to.dataDone, 'sending end of data -- message may be sent more than once');
    settled.set(r.index, outcomeFor(r.index, rr, relay, host, 'end of DATA'));
  }
}

async function sendContent(s: LmtpSession, content: Readable): Promise<void> {
  const stuffer = new DotStuffer();
  const stage = 'sending message body';
  try {
    for await (const chunk of content) {
      const out = stuffer.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, 'latin1'));
      if (out.length > 0 && !s.write(out)) await s.drain(s.timeouts.dataXfer, stage);
    }
  } catch (err) {
    if (err instanceof LmtpSessionError) throw err;
    s.destroy();
    // The queue could not be read: a local problem, not the server's.
    throw new LmtpSessionError(`error reading queue file: ${(err as Error).message}`, '4.3.0', true);
  }
  if (!s.write(stuffer.end())) await s.drain(s.timeouts.dataXfer, stage);
}
