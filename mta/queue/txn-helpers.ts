/*
 * Small write-transaction steps shared by the store and start-up recovery. Each must be called
 * inside an LMDB write transaction (they use the *Sync calls, which join the open transaction).
 *
 * Setting aside follows Postfix's corrupt/ queue (reference/postfix.md §6.1): the unreadable
 * record is kept byte for byte with the reason, its body stays, and it leaves the live queues.
 */
import type { QueueDbs } from './lmdb-env.js';

/** Upper bound for segment numbers in range scans (a 10 MB body has 40 segments). */
const MAX_SEGMENT = 2 ** 31;

export interface CorruptEntry {
  reason: string;
  /** Epoch ms when set aside. */
  at: number;
  /** The original record bytes, base64. */
  raw: string;
}

export function setAsideInTxn(dbs: QueueDbs, id: string, raw: Uint8Array, reason: string, now: number): void {
  const entry: CorruptEntry = { reason, at: now, raw: Buffer.from(raw).toString('base64') };
  dbs.corrupt.putSync(id, Buffer.from(JSON.stringify(entry)));
  dbs.envelope.removeSync(id);
}

/** Every body segment of `id`, whatever the record says about their number. */
export function bodyKeysOf(dbs: QueueDbs, id: string): Array<[string, number]> {
  return [...dbs.body.getKeys({ start: [id, 0], end: [id, MAX_SEGMENT] })] as Array<[string, number]>;
}

export function removeBodyInTxn(dbs: QueueDbs, id: string): void {
  for (const key of bodyKeysOf(dbs, id)) dbs.body.removeSync(key);
}
