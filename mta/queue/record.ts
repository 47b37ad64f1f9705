/*
 * Queue records as bytes (pure): encoding, and the validation every record read back from disk
 * goes through before the rest of the MTA trusts it.
 *
 * Like Postfix, which discards a queue file that lacks its END record or whose records do not
 * parse (reference/postfix.md §6.3) and moves unreadable files to `corrupt/`, a record that fails
 * here is set aside by the store, never allowed to crash qmgr. Distrusts: every stored byte
 * (another process, a disk error or an older format may have written it).
 */
import type { DsnNotify, LiveQueueName, NewEnvelope, QueueRecord, RecipientRecord } from './types.js';
import { LIVE_QUEUES } from './types.js';
import { isValidQueueId } from './queue-id.js';

export class RecordError extends Error {
  override readonly name = 'RecordError';
}

const NOTIFY: readonly DsnNotify[] = ['NEVER', 'SUCCESS', 'FAILURE', 'DELAY'];

export function encodeRecord(r: QueueRecord): Buffer {
  return Buffer.from(JSON.stringify(r), 'utf8');
}

/** Parses and validates stored bytes; throws RecordError naming the first problem. */
export function decodeRecord(bytes: Uint8Array, expectedId?: string): QueueRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw new RecordError('record is not valid JSON');
  }
  const r = validateRecord(raw);
  if (expectedId !== undefined && r.id !== expectedId) throw new RecordError(`record id ${r.id} stored under ${expectedId}`);
  return r;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function check(cond: boolean, what: string): asserts cond {
  if (!cond) throw new RecordError(`bad or missing ${what}`);
}

function optStr(o: Record<string, unknown>, k: string, what: string): void {
  check(o[k] === undefined || isStr(o[k]), what);
}

function validateRecipient(v: unknown, i: number): RecipientRecord {
  const w = `recipient ${i}`;
  check(isObj(v), w);
  check(isStr(v.address), `${w} address`);
  check(v.status === 'pending' || v.status === 'done', `${w} status`);
  for (const k of ['originalAddress', 'orcpt', 'reason', 'dsnStatus', 'relay']) optStr(v, k, `${w} ${k}`);
  check(v.result === undefined || v.result === 'delivered' || v.result === 'bounced' || v.result === 'expired', `${w} result`);
  check(v.status === 'pending' || v.result !== undefined, `${w} result of a done recipient`);
  check(
    v.notify === undefined || (Array.isArray(v.notify) && v.notify.every((n) => NOTIFY.includes(n as DsnNotify))),
    `${w} notify`,
  );
  return v as unknown as RecipientRecord;
}

/** Structural validation of a decoded value. Returns it typed, or throws RecordError. */
export function validateRecord(v: unknown): QueueRecord {
  check(isObj(v), 'record');
  check(v.v === 1, 'record version');
  check(isStr(v.id) && isValidQueueId(v.id), 'queue id');
  check(LIVE_QUEUES.includes(v.queue as LiveQueueName), 'queue name');
  check(isTime(v.arrivalTime), 'arrival time');
  check(isStr(v.sender), 'sender');
  check(isTime(v.size), 'size');
  check(isTime(v.segments), 'segment count');
  check(typeof v.forcedExpire === 'boolean', 'forced-expire flag');
  check(isTime(v.nextAttempt), 'next attempt time');
  check(isTime(v.attempts), 'attempt count');
  check(v.lastAttempt === undefined || isTime(v.lastAttempt), 'last attempt time');
  check(v.dsnPending === undefined || typeof v.dsnPending === 'boolean', 'dsn-pending flag');
  check(v.requeued === undefined || typeof v.requeued === 'boolean', 'requeued flag');
  optStr(v, 'envid', 'envid');
  check(v.ret === undefined || v.ret === 'FULL' || v.ret === 'HDRS', 'ret');
  check(isObj(v.attrs) && Object.values(v.attrs).every((a) => a === undefined || isStr(a)), 'attributes');
  check(Array.isArray(v.recipients) && v.recipients.length > 0, 'recipients');
  v.recipients.forEach(validateRecipient);
  return v as unknown as QueueRecord;
}

/** The record cleanup's envelope becomes at enqueue time. */
export function newRecord(id: string, env: NewEnvelope, nowMs: number, size: number, segments: number): QueueRecord {
  if (env.recipients.length === 0) throw new RecordError('a message needs at least one recipient');
  const r: QueueRecord = {
    v: 1,
    id,
    queue: env.queue ?? 'incoming',
    arrivalTime: nowMs,
    sender: env.sender,
    size,
    segments,
    forcedExpire: false,
    nextAttempt: nowMs,
    attempts: 0,
    attrs: { ...(env.attrs ?? {}) },
    recipients: env.recipients.map((rc) => {
      const out: RecipientRecord = { address: rc.address, status: 'pending' };
      if (rc.originalAddress !== undefined && rc.originalAddress !== rc.address) out.originalAddress = rc.originalAddress;
      if (rc.orcpt !== undefined) out.orcpt = rc.orcpt;
      if (rc.notify !== undefined) out.notify = [...rc.notify];
      return out;
    }),
  };
  if (env.envid !== undefined) r.envid = env.envid;
  if (env.ret !== undefined) r.ret = env.ret;
  return validateRecord(r);
}

/** The due-index key of a record: only incoming and deferred messages are due. */
export function dueKeyOf(r: Pick<QueueRecord, 'queue' | 'nextAttempt' | 'id'>): [string, number, string] | undefined {
  return r.queue === 'incoming' || r.queue === 'deferred' ? [r.queue, r.nextAttempt, r.id] : undefined;
}
