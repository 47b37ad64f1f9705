/*
 * DATA and BDAT (RFC 5321 §4.1.1.4, RFC 3030) as Postfix 3.7.11 runs them, streaming the content to
 * cleanup.submit() as it arrives (never the whole message in memory):
 *  - DATA: `354 End data with <CR><LF>.<CR><LF>`; lines end at LF (CR before it dropped) and `.` on a
 *    line of its own ends the message, also after a bare LF unless smtpd_forbid_bare_newline =
 *    normalize, which requires CRLF.CRLF; leading dots unstuffed; each line passed on ending in CRLF.
 *  - the size is counted as Postfix's queue file counts it (line + 1 byte); past message_size_limit
 *    the content stream fails (cleanup commits nothing), the rest is read and dropped, and the client
 *    gets `552 5.3.4 Error: message file too big`.
 *  - BDAT: `250 2.0.0 Ok: N bytes` per chunk, `250 2.0.0 Ok: N bytes queued as ID` (N = message total)
 *    for LAST; `521 5.5.4 Syntax: BDAT count [LAST]` hangs up; `551 5.7.1 Null BDAT request`;
 *    `552 5.3.4 Chunk exceeds message size limit`; after a failed chunk later chunks are read and
 *    answered `551 5.0.0 Discarded N bytes after earlier error` until RSET.
 * DURABILITY: `250 … queued as ID` is written only after cleanup.submit() resolved 'queued', i.e. after
 * the queue commit; a crash before that reply loses nothing the client was told was accepted.
 */
import type { SmtpdSession } from './session.js';
import type { IncomingMessage, CleanupResult } from '../cleanup/api.js';
import { replyForError, SmtpError, type SmtpReply } from '../../shared/proto/smtp-reply.js';
import { R } from './replies.js';
import { AsyncQueue } from './async-queue.js';
import { bdatSequenceError } from './state.js';
import { smtpdEvents } from '../log-events.js';
import type { MilterResult } from '../milter/client.js';

const CRLF = Buffer.from('\r\n');

class TooBig extends Error {
  override readonly name = 'TooBig';
}

function incoming(s: SmtpdSession): IncomingMessage {
  const tx = s.tx!;
  const m: IncomingMessage = {
    origin: 'smtpd',
    sender: tx.mail.sender === '' ? '' : s.deps.qualify(tx.mail.sender),
    recipients: tx.recipients.map((r) => {
      const out: IncomingMessage['recipients'][number] = { address: s.deps.qualify(r.address) };
      if (r.orcpt !== undefined) out.orcpt = r.orcpt;
      if (r.notify !== undefined) out.notify = r.notify;
      return out;
    }),
    client: s.clientInfo(),
    smtputf8: tx.mail.smtputf8,
  };
  if (tx.queueId !== undefined) m.queueId = tx.queueId;
  if (tx.actions) m.policyActions = { ...tx.actions };
  if (tx.prepend) m.prependHeaders = [...tx.prepend];
  if (tx.mail.envid !== undefined) m.envid = tx.mail.envid;
  if (tx.mail.ret !== undefined) m.ret = tx.mail.ret;
  if (tx.mail.body !== undefined) m.bodyType = tx.mail.body;
  const milters = s.milters;
  if (milters) m.milters = (msg) => milters.message(msg);
  return m;
}

/** The reply for a settled submission (queued / discarded / rejected / failed). */
async function finalReply(s: SmtpdSession, result: Promise<CleanupResult>, bdatBytes?: number): Promise<{ reply: SmtpReply; ok: boolean }> {
  let r: CleanupResult;
  try {
    r = await result;
  } catch (err) {
    s.deps.log.warn(smtpdEvents.cleanupFailure(s.tx?.queueId, err instanceof Error ? err.message : String(err)));
    return { reply: replyForError(err), ok: false };
  }
  if (r.kind === 'rejected') return { reply: r.reply, ok: false };
  return { reply: bdatBytes !== undefined ? R.bdatQueued(bdatBytes, r.queueId) : R.queued(r.queueId), ok: true };
}

export async function dataCommand(s: SmtpdSession, args: string): Promise<boolean> {
  if (args.trim() !== '') {
    await s.reply({ code: 501, enhanced: '5.5.4', text: 'Syntax: DATA' });
    return false;
  }
  const d = await s.decide('data');
  if (d.kind === 'reject' || d.kind === 'defer') {
    s.logReject('DATA', d.reply);
    await s.reply(d.reply);
    return false;
  }
  if (d.kind === 'hold' || d.kind === 'discard') s.noteAction('DATA', d);
  s.milterMacros();
  const refused = s.milters ? milterData(s, 'DATA', await s.milters.data()) : undefined;
  if (refused) {
    await s.reply(refused);
    return false;
  }
  await s.reply(R.startData);
  const st = s.settings;
  const limit = st.messageSizeLimit;
  const input = s.io.input;
  let size = 0;
  let done = false;
  let tooBig = false;
  let inputError: unknown;
  s.dataBytes = 0;
  // Reads up to and including the end-of-data line; yields unstuffed CRLF lines while within limits.
  // The lines already buffered are yielded together as one chunk (cleanup splits lines itself):
  // one pass through the generators per network read instead of one per line. The batch is
  // always yielded before waiting for input, so nothing read is held back when the input fails.
  const readLines = async function* (): AsyncGenerator<Buffer> {
    let atLineStart = true;
    let prevEnd: 'crlf' | 'lf' | 'cut' = 'crlf';
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const flush = (): Buffer => {
      const out = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
      batch = [];
      batchBytes = 0;
      return out;
    };
    for (;;) {
      let p = input.takePiece(st.lineLimit);
      if (p === undefined) {
        if (batchBytes > 0) yield flush();
        try {
          p = await input.readPiece(st.lineLimit);
        } catch (err) {
          inputError = err;
          throw err;
        }
      }
      s.dataBytes! += p.data.length + (p.end === 'crlf' ? 2 : p.end === 'lf' ? 1 : 0);
      const endsDot = atLineStart && p.end !== 'cut' && p.data.length === 1 && p.data[0] === 0x2e;
      if (endsDot && (st.forbidBareNewline !== 'normalize' || (p.end === 'crlf' && prevEnd === 'crlf'))) {
        done = true;
        if (batchBytes > 0) yield flush();
        return;
      }
      let data = p.data;
      if (atLineStart && data.length > 0 && data[0] === 0x2e) data = data.subarray(1);
      size += data.length + (p.end === 'cut' ? 0 : 1);
      if (limit > 0 && size > limit) tooBig = true;
      if (!tooBig) {
        if (data.length > 0) batch.push(data);
        if (p.end !== 'cut') batch.push(CRLF);
        batchBytes += data.length + (p.end === 'cut' ? 0 : 2);
      }
      atLineStart = p.end !== 'cut';
      prevEnd = p.end;
    }
  };
  const lines = readLines();
  const msg = incoming(s);
  const content = (async function* (): AsyncGenerator<Buffer> {
    for await (const b of lines) yield b;
    if (tooBig) throw new TooBig('message file too big');
    // smtpd_end_of_data_restrictions: after the final `.`, before cleanup commits anything.
    const refused = await endOfData(s, msg, size);
    if (refused) throw new SmtpError(refused);
  })();
  const result = s.deps.cleanup.submit(msg, content);
  let outcome: { reply: SmtpReply; ok: boolean };
  outcome = await finalReply(s, result);
  // The client went away or timed out mid-message: the session ends with `… after DATA (N bytes)`.
  if (inputError !== undefined) throw inputError;
  // Whatever cleanup did, the client's message must be read to its end before the next command.
  if (!done) for await (const _ of lines) void _;
  s.dataBytes = undefined;
  if (tooBig) {
    s.deps.log.warn(smtpdEvents.fileTooBig(s.tx?.queueId));
    outcome = { reply: R.fileTooBig, ok: false };
  }
  s.resetTransaction();
  await s.reply(outcome.reply);
  return outcome.ok;
}

/**
 * smtpd_end_of_data_restrictions (Postfix smtpd_check_eod, run before the queue file is closed): a
 * reject is logged `ID: reject: END-OF-MESSAGE from …` and returned for cleanup to refuse the
 * message with; HOLD/DISCARD reach cleanup through the message's policy actions.
 */
async function endOfData(s: SmtpdSession, msg: IncomingMessage, size: number): Promise<SmtpReply | undefined> {
  const d = await s.decide('end-of-data', { size });
  if (d.kind === 'reject' || d.kind === 'defer') {
    s.logReject('END-OF-MESSAGE', d.reply, { to: s.tx!.recipients.at(-1)?.address ?? '' });
    return d.reply;
  }
  if (d.kind === 'hold' || d.kind === 'discard') {
    s.noteAction('END-OF-MESSAGE', d, { to: s.tx!.recipients.at(-1)?.address ?? '' });
    (msg.policyActions ??= {})[d.kind] ??= d.reason;
  }
  return undefined;
}

/** The milters' answer to DATA (logged); the reply when they refused it. */
function milterData(s: SmtpdSession, stage: string, r: MilterResult): SmtpReply | undefined {
  return s.milterVerdict(stage, r, { to: s.tx!.recipients.at(-1)?.address ?? '' });
}

/** Reads and drops `n` bytes of a refused chunk. */
async function discard(s: SmtpdSession, n: number): Promise<void> {
  s.dataBytes = 0;
  await s.io.input.readExact(n, (b) => {
    s.dataBytes! += b.length;
  });
  s.dataBytes = undefined;
}

export async function bdatCommand(s: SmtpdSession, args: string): Promise<boolean> {
  const words = args.trim().split(/[ \t]+/).filter((w) => w !== '');
  const last = words.length === 2 && words[1]!.toUpperCase() === 'LAST';
  if (words.length < 1 || words.length > 2 || !/^\d+$/.test(words[0]!) || (words.length === 2 && !last) || words[0]!.length > 15) {
    s.deps.log.warn(smtpdEvents.bdatSyntax(s.tx?.queueId, s.client, `BDAT ${args}`.trim()));
    await s.reply(R.bdatSyntax);
    return false;
  }
  const n = Number(words[0]);
  if (n === 0 && !last) {
    s.bdat?.queue?.fail(new TooBig('null BDAT request'));
    s.bdat = { bytes: 0, failed: true };
    s.deps.log.warn(smtpdEvents.bdatNull(s.tx?.queueId, s.client));
    await s.reply(R.bdatNull);
    return false;
  }
  if (s.bdat?.failed) {
    await discard(s, n);
    await s.reply(R.bdatDiscarded(n));
    return false;
  }
  const seq = bdatSequenceError({ state: s.state, heloRequired: false, heloSeen: true, bdatUsed: false, needTls: false });
  if (seq) {
    await discard(s, n);
    if (s.state !== 'idle') s.bdat = { bytes: 0, failed: true };
    await s.reply(seq);
    return false;
  }
  if (!s.bdat) {
    const d = await s.decide('data');
    if (d.kind === 'reject' || d.kind === 'defer') {
      await discard(s, n);
      s.bdat = { bytes: 0, failed: true };
      s.logReject('BDAT', d.reply);
      await s.reply(d.reply);
      return false;
    }
    if (d.kind === 'hold' || d.kind === 'discard') s.noteAction('BDAT', d);
    s.milterMacros();
    const refused = s.milters ? milterData(s, 'BDAT', await s.milters.data()) : undefined;
    if (refused) {
      await discard(s, n);
      s.bdat = { bytes: 0, failed: true };
      await s.reply(refused);
      return false;
    }
    const queue = new AsyncQueue();
    const message = incoming(s);
    const result = s.deps.cleanup.submit(message, queue);
    // Once cleanup has settled it reads no more: later pushes must not wait for it.
    result.then(() => queue.fail(new Error('cleanup finished')), () => queue.fail(new Error('cleanup failed')));
    s.bdat = { bytes: 0, failed: false, queue, result, message };
  }
  const b = s.bdat;
  const limit = s.settings.messageSizeLimit;
  if (limit > 0 && b.bytes + n > limit) {
    b.queue?.fail(new TooBig('chunk exceeds message size limit'));
    b.failed = true;
    await discard(s, n);
    s.deps.log.warn(smtpdEvents.bdatTooBig(s.tx?.queueId, s.client));
    await s.reply(R.chunkTooBig);
    return false;
  }
  s.dataBytes = 0;
  await s.io.input.readExact(n, async (chunk) => {
    s.dataBytes! += chunk.length;
    await b.queue!.push(chunk);
  });
  s.dataBytes = undefined;
  b.bytes += n;
  if (!last) {
    await s.reply(R.bdatOk(n));
    return true;
  }
  const refused = await endOfData(s, b.message!, b.bytes);
  if (refused) b.queue!.fail(new SmtpError(refused));
  else b.queue!.end();
  const outcome = await finalReply(s, b.result!, b.bytes);
  s.resetTransaction();
  await s.reply(outcome.reply);
  return outcome.ok;
}
