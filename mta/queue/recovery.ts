/*
 * Start-up recovery (DESIGN.md §3), run in one write transaction before qmgr schedules anything.
 * Idempotent: running it twice leaves the same queue.
 *
 *  - records that do not decode or validate, or whose body segments are missing, are set aside in
 *    `corrupt` (Postfix moves unreadable queue files to corrupt/ and logs them);
 *  - messages left `active` by a crash become due now again, in incoming if never attempted and in
 *    deferred otherwise (Postfix qmgr likewise re-reads active/ at start-up): delivery is
 *    at-least-once, so an attempt in flight at the crash may be repeated;
 *  - the due index is rebuilt from the records, dropping stale entries and restoring missing ones;
 *  - body segments whose message has neither a record nor a corrupt entry (a crash cannot leave
 *    these, since enqueue writes both in one transaction, but an older format or a manual edit can)
 *    are removed.
 */
import type { QueueDbs, DueKey } from './lmdb-env.js';
import { decodeRecord, dueKeyOf, encodeRecord } from './record.js';
import { bodyKeysOf, setAsideInTxn } from './txn-helpers.js';
import type { QueueRecord } from './types.js';

const EMPTY = Buffer.alloc(0);

export interface RecoveryReport {
  /** Messages that were active and are due again. */
  madeDue: string[];
  corrupt: Array<{ id: string; reason: string }>;
  /** Messages whose orphaned body segments were removed. */
  orphanBodies: number;
  /** Due-index entries that pointed nowhere or at the wrong time. */
  staleDueEntries: number;
  /** Readable messages left in the queue. */
  messages: number;
}

export function recoverInTxn(dbs: QueueDbs, now: number): RecoveryReport {
  const report: RecoveryReport = { madeDue: [], corrupt: [], orphanBodies: 0, staleDueEntries: 0, messages: 0 };
  const entries = [...dbs.envelope.getRange({})].map(({ key, value }) => ({ id: key, raw: value }));
  const live = new Set<string>();
  const wantDue = new Map<string, DueKey>();

  for (const { id, raw } of entries) {
    let rec: QueueRecord;
    try {
      rec = decodeRecord(raw, id);
      const have = bodyKeysOf(dbs, id).length;
      if (have !== rec.segments) throw new Error(`body has ${have} of ${rec.segments} segments`);
    } catch (err) {
      setAsideInTxn(dbs, id, raw, (err as Error).message, now);
      report.corrupt.push({ id, reason: (err as Error).message });
      continue;
    }
    if (rec.queue === 'active') {
      rec.queue = rec.attempts > 0 ? 'deferred' : 'incoming';
      rec.nextAttempt = now;
      dbs.envelope.putSync(id, encodeRecord(rec));
      report.madeDue.push(id);
    }
    live.add(id);
    const key = dueKeyOf(rec);
    if (key) wantDue.set(JSON.stringify(key), key);
  }
  report.messages = live.size;

  for (const key of [...dbs.due.getKeys({})] as DueKey[]) {
    if (wantDue.delete(JSON.stringify(key))) continue;
    dbs.due.removeSync(key);
    report.staleDueEntries++;
  }
  for (const key of wantDue.values()) dbs.due.putSync(key, EMPTY);

  const corrupt = new Set([...dbs.corrupt.getKeys({})] as string[]);
  const orphans = new Set<string>();
  for (const key of [...dbs.body.getKeys({})] as Array<[string, number]>) {
    const id = key[0];
    if (live.has(id) || corrupt.has(id)) continue;
    dbs.body.removeSync(key);
    orphans.add(id);
  }
  report.orphanBodies = orphans.size;
  return report;
}
