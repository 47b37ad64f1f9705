/*
 * The MTA's durable queue: the LMDB adapter that cleanup enqueues into, qmgr schedules from and
 * postsuper administers (as a second writer process).
 *
 * Follows Postfix's queue contract (reference/postfix.md §6, DESIGN.md §3):
 *  - a message counts only once envelope and body are durable: enqueue() resolves after the commit
 *    that holds both has been fsync'd, so smtpd may say `250 2.0.0 Ok: queued as ID` then;
 *  - concurrent enqueues share commits (group commit): lmdb-js runs every write queued before its
 *    commit starts (on setImmediate), and every write queued while a commit is in progress, in one
 *    LMDB transaction, and with overlapping sync one fdatasync then covers all of them (measured:
 *    50 concurrent enqueues → 1–2 commits, 1 fdatasync under strace; see test/mta/queue/store.test.ts);
 *  - qmgr takes due mail from incoming and deferred alternately, and applies each attempt's
 *    outcomes in one transaction (outcomes.ts);
 *  - unreadable records are set aside in `corrupt` and logged, never thrown at the daemon.
 * Every read-modify-write runs inside an LMDB child transaction, so a check and the write it
 * guards cannot be split by another process (postsuper) and a throw rolls the operation back.
 * Distrusts stored bytes (record.ts) and administrator-supplied IDs (queue-id.ts).
 */
import { EventEmitter } from 'node:events';
import { observeCommit } from '../../shared/lmdb-commit.js';
import { performance } from 'node:perf_hooks';
import { openQueueDbs, type QueueDbs } from './lmdb-env.js';
import { queuePaths, type QueuePaths } from './paths.js';
import { createQueueIdGenerator, isValidQueueId, type QueueIdGenerator } from './queue-id.js';
import { decodeRecord, dueKeyOf, encodeRecord, newRecord, RecordError } from './record.js';
import { bodySize, segments, type BodyInput } from './body.js';
import { applyOutcomes as applyPure, type RetrySettings } from './outcomes.js';
import { asWriteError, QueueWriteError } from './errors.js';
import { recoverInTxn, type RecoveryReport } from './recovery.js';
import { DEFAULT_RETRY } from './settings.js';
import { setAsideInTxn, removeBodyInTxn } from './txn-helpers.js';
import type { Disposition, LiveQueueName, NewEnvelope, QueueName, QueueRecord, RecipientOutcome } from './types.js';

const EMPTY = Buffer.alloc(0);

export interface OpenQueueOptions {
  queueDirectory: string;
  longQueueIds?: boolean;
  retry?: RetrySettings;
  /** Epoch milliseconds, fractional part = sub-millisecond; injectable for tests. */
  clockMs?: () => number;
  readOnly?: boolean;
  /** Warnings (corrupt records, stale index entries), without the `warning: ` prefix. */
  warn?: (msg: string) => void;
  /** This process's share of the queue-ID space when several processes enqueue (queue-id.ts). */
  idSlot?: { index: number; count: number };
}

export interface QueueChange {
  kind: 'enqueued' | 'outcome' | 'admin' | 'recovered';
  ids: readonly string[];
  /** 'enqueued' only: the message went straight to active for the scheduler (DirectAdmission). */
  admitted?: QueueRecord;
}

/**
 * qmgr's offer to take new mail directly (setDirectAdmission): a message that would be due at once
 * in incoming, with nothing else due before it, is stored as active in its enqueue commit and
 * handed over in the 'enqueued' change, instead of a second write transaction (takeDue) moving it
 * from incoming to active. The queue states and recovery are those of takeDue's result.
 */
export interface DirectAdmission {
  /** Called inside the enqueue transaction: true reserves an active slot for the new message. */
  reserve(): boolean;
  /** The reservation is not used after all (the enqueue failed). */
  release(): void;
}

/** Which messages an administrative operation acts on: explicit IDs or ALL, in the given queues. */
export interface Selection {
  ids: readonly string[] | 'ALL';
  queues: readonly QueueName[];
}

export interface OutcomeApplied {
  disposition: Disposition;
  /** The record as stored after the attempt (for the bounce generator and logging); absent when gone. */
  record?: QueueRecord;
}

const defaultClock = (): number => performance.timeOrigin + performance.now();

export class QueueStore {
  readonly paths: QueuePaths;
  private readonly dbs: QueueDbs;
  private readonly ids: QueueIdGenerator;
  private readonly retry: RetrySettings;
  private readonly clock: () => number;
  private readonly warn: (msg: string) => void;
  private readonly events = new EventEmitter();
  private incomingFirst = true;
  private commits = 0;
  private admission: DirectAdmission | undefined;

  private constructor(opts: OpenQueueOptions) {
    this.paths = queuePaths(opts.queueDirectory);
    this.dbs = openQueueDbs(this.paths, opts.readOnly ?? false);
    this.clock = opts.clockMs ?? defaultClock;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.warn = opts.warn ?? (() => undefined);
    this.ids = createQueueIdGenerator({
      long: opts.longQueueIds ?? false,
      clockMs: this.clock,
      ...(opts.idSlot ? { slot: opts.idSlot } : {}),
    });
    this.dbs.root.on('aftercommit', () => {
      this.commits++;
    });
  }

  /** Opens (creating if needed) the queue under queue_directory. Read-only opening throws ENOENT when there is no queue yet. */
  static open(opts: OpenQueueOptions): QueueStore {
    return new QueueStore(opts);
  }

  private now(): number {
    return Math.floor(this.clock());
  }

  /** Commits observed by this process (group-commit evidence for tests and stats). */
  commitCount(): number {
    return this.commits;
  }

  onChange(listener: (c: QueueChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /** Tells this process's listeners (qmgr) that the queue changed, e.g. on a postsuper wake-up. */
  notifyChange(c: QueueChange): void {
    this.events.emit('change', c);
  }

  /** Installs (or removes) the scheduler's direct admission of new mail. */
  setDirectAdmission(a: DirectAdmission | undefined): void {
    this.admission = a;
  }

  /** A queue ID not in use (smtpd logs it before DATA; pass it back in NewEnvelope.id). */
  allocateId(): string {
    return this.ids.next((id) => this.dbs.envelope.doesExist(id) || this.dbs.corrupt.doesExist(id));
  }

  /**
   * Stores a message; resolves with its record only once envelope and body are on disk.
   * Rejects with QueueWriteError (→ 452 4.3.1) when that could not be done.
   */
  async enqueue(env: NewEnvelope, body: BodyInput): Promise<QueueRecord> {
    const size = bodySize(body);
    const now = this.now();
    const { envelope, body: bodyDb, due, corrupt } = this.dbs;
    let record: QueueRecord;
    let id = env.id ?? '(unassigned)';
    const admission = this.admission;
    let reserved = false;
    try {
      id = env.id ?? this.allocateId();
      if (!isValidQueueId(id)) throw new QueueWriteError(`invalid queue ID: ${id}`);
      record = await observeCommit(this.dbs.root, this.dbs.root.childTransaction(() => {
        if (envelope.doesExist(id) || corrupt.doesExist(id)) throw new QueueWriteError(`queue ID already in use`);
        let n = 0;
        // Segments are copied into the transaction one at a time: the caller's chunks are never joined whole.
        for (const seg of segments(body)) bodyDb.putSync([id, n++], seg as Buffer);
        const rec = newRecord(id, env, now, size, n);
        // Straight to active only when takeDue would take this message next: due now, and no
        // other incoming or deferred mail due before it (FIFO and the deferred queue's turn kept).
        if (admission && rec.queue === 'incoming' && rec.nextAttempt <= now && !this.dueInTxn(now) && admission.reserve()) {
          reserved = true;
          rec.queue = 'active';
        }
        envelope.putSync(id, encodeRecord(rec));
        const dk = dueKeyOf(rec);
        if (dk) due.putSync(dk, EMPTY);
        return rec;
      }));
      // DURABILITY: the commit above is visible to other processes but, with overlapping sync,
      // not yet fsync'd; a power loss now would roll it back. `flushed` resolves after the fsync
      // covering this commit (and every commit before it). Only then may the caller acknowledge
      // (250 Ok: queued as ID). Crash window: after the fsync and before the 250 reaches the
      // client, the client retries and the message is delivered twice (never lost).
      await this.dbs.root.flushed;
    } catch (err) {
      if (reserved) admission!.release();
      if (err instanceof RecordError) throw err;
      throw asWriteError(err, `${id}: cannot store message`);
    }
    this.notifyChange(reserved ? { kind: 'enqueued', ids: [id], admitted: record } : { kind: 'enqueued', ids: [id] });
    return record;
  }

  /** Inside a write transaction: whether incoming or deferred mail is due at `now`. */
  private dueInTxn(now: number): boolean {
    for (const q of ['incoming', 'deferred'] as const) {
      for (const _ of this.dbs.due.getKeys({ start: [q, 0, ''], end: [q, now + 1, ''], limit: 1 })) return true;
    }
    return false;
  }

  /** Renews this process's read snapshot, so that reads see what other processes committed. */
  refreshSnapshot(): void {
    this.dbs.root.resetReadTxn();
  }

  /** The record of a message, undefined when absent; throws RecordError when unreadable. */
  get(id: string): QueueRecord | undefined {
    const raw = this.dbs.envelope.getBinary(id);
    return raw === undefined ? undefined : decodeRecord(raw, id);
  }

  /** Every readable live record, in queue-ID order (unreadable ones are skipped; recovery sets them aside). */
  *list(queues?: readonly QueueName[]): Generator<QueueRecord> {
    for (const { key, value } of this.dbs.envelope.getRange({})) {
      let rec: QueueRecord;
      try {
        rec = decodeRecord(value, key);
      } catch {
        continue;
      }
      if (queues === undefined || queues.includes(rec.queue)) yield rec;
    }
  }

  /** IDs in the corrupt queue. */
  corruptIds(): string[] {
    return [...this.dbs.corrupt.getKeys({})] as string[];
  }

  /** The message content, segment by segment (one segment in memory at a time). */
  *bodySegments(id: string): Generator<Buffer> {
    const rec = this.get(id);
    if (rec === undefined) throw new RecordError(`${id}: no such message`);
    for (let i = 0; i < rec.segments; i++) {
      const seg = this.dbs.body.getBinary([id, i]);
      if (seg === undefined) throw new RecordError(`${id}: body segment ${i} missing`);
      yield seg;
    }
  }

  readBody(id: string): Buffer {
    return Buffer.concat([...this.bodySegments(id)]);
  }

  /** Earliest due time among incoming and deferred messages, for qmgr's timer. */
  nextDueTime(): number | undefined {
    let best: number | undefined;
    for (const q of ['incoming', 'deferred'] as const) {
      for (const key of this.dbs.due.getKeys({ start: [q, 0, ''], end: [q, Number.MAX_SAFE_INTEGER, ''], limit: 1 })) {
        const t = key[1];
        if (best === undefined || t < best) best = t;
      }
    }
    return best;
  }

  /**
   * Moves up to `limit` due messages (nextAttempt ≤ now) to active and returns them, taking from
   * incoming and deferred alternately so that neither starves; which one goes first alternates
   * between calls. Not waited to disk: after a crash, recovery makes active mail due again anyway.
   */
  async takeDue(limit: number): Promise<QueueRecord[]> {
    const now = this.now();
    const order: LiveQueueName[] = this.incomingFirst ? ['incoming', 'deferred'] : ['deferred', 'incoming'];
    this.incomingFirst = !this.incomingFirst;
    const { envelope, due } = this.dbs;
    // Nothing due: answered from a fresh read snapshot, without a write transaction. qmgr's pump
    // asks again after every non-empty take, so every message used to cost one more (empty) write
    // transaction: a round trip to lmdb-js's writer thread. The snapshot is renewed first so that a
    // commit by another process (postsuper, then its wake-up) is seen, as the write transaction would.
    if (!this.anyDue(order, now)) return [];
    const taken = await observeCommit(this.dbs.root, this.dbs.root.childTransaction(() => {
      const lists = order.map((q) => [...due.getKeys({ start: [q, 0, ''], end: [q, now + 1, ''], limit })]);
      const picked: Array<[string, number, string]> = [];
      for (let i = 0; picked.length < limit && (i < lists[0]!.length || i < lists[1]!.length); i++) {
        for (const list of lists) if (i < list.length && picked.length < limit) picked.push(list[i]!);
      }
      const out: QueueRecord[] = [];
      for (const key of picked) {
        due.removeSync(key);
        const id = key[2];
        const raw = envelope.getBinary(id);
        if (raw === undefined) {
          this.warn(`${id}: stale due-index entry removed`);
          continue;
        }
        let rec: QueueRecord;
        try {
          rec = decodeRecord(raw, id);
        } catch (err) {
          setAsideInTxn(this.dbs, id, raw, (err as Error).message, now);
          this.warn(`${id}: unreadable queue record moved to the corrupt queue: ${(err as Error).message}`);
          continue;
        }
        if (rec.queue !== key[0] || rec.nextAttempt !== key[1]) continue; // stale key; the record has its own
        rec.queue = 'active';
        envelope.putSync(id, encodeRecord(rec));
        out.push(rec);
      }
      return out;
    }));
    return taken;
  }

  /** Whether a due-index entry at or before `now` exists in one of `queues` (fresh read snapshot). */
  private anyDue(queues: readonly LiveQueueName[], now: number): boolean {
    this.dbs.root.resetReadTxn();
    for (const q of queues) {
      for (const _ of this.dbs.due.getKeys({ start: [q, 0, ''], end: [q, now + 1, ''], limit: 1 })) return true;
    }
    return false;
  }

  /**
   * Applies one attempt's per-recipient outcomes in one transaction and waits for it to be on disk.
   * `complete: false` records a partial batch (other batches of the message are still out).
   */
  async applyOutcomes(id: string, outcomes: readonly RecipientOutcome[], opts: { complete?: boolean } = {}): Promise<OutcomeApplied> {
    const now = this.now();
    const result = await this.writeTxn(`${id}: cannot record delivery status`, () => {
      const rec = this.readForUpdate(id, now);
      if (rec === undefined) return { disposition: 'gone' as const };
      const applied = applyPure(rec, outcomes, now, this.retry, opts.complete ?? true);
      if (applied.disposition === 'removed') this.removeInTxn(rec);
      else this.replaceInTxn(rec, applied.record);
      return { disposition: applied.disposition, record: applied.record };
    });
    this.notifyChange({ kind: 'outcome', ids: [id] });
    return result;
  }

  /** The DSN for a dsnPending message has been queued: the message can go. */
  async finishDsn(id: string): Promise<boolean> {
    const now = this.now();
    return this.writeTxn(`${id}: cannot remove message`, () => {
      const rec = this.readForUpdate(id, now);
      if (rec === undefined || !rec.dsnPending) return false;
      this.removeInTxn(rec);
      return true;
    });
  }

  /** postsuper -d. Returns the IDs deleted. `corrupt` in the queue list deletes set-aside records too. */
  delete(sel: Selection): Promise<string[]> {
    return this.adminOp(sel, () => 'delete', true);
  }

  /** postsuper -h: to hold, out of the due index. */
  hold(sel: Selection): Promise<string[]> {
    return this.adminOp(sel, (r) => (r.queue === 'hold' ? undefined : { ...r, queue: 'hold' }));
  }

  /** postsuper -H: from hold to deferred, due now. */
  release(sel: Selection): Promise<string[]> {
    const now = this.now();
    return this.adminOp(sel, (r) => (r.queue !== 'hold' ? undefined : { ...r, queue: 'deferred', nextAttempt: now }));
  }

  /** postsuper -r: back to incoming, due now, flagged for cleanup's rewriting to run again. */
  requeue(sel: Selection): Promise<string[]> {
    const now = this.now();
    return this.adminOp(sel, (r) => ({ ...r, queue: 'incoming', nextAttempt: now, requeued: true }));
  }

  /** postsuper -e: qmgr returns the message at its next attempt (deferred mail becomes due now; hold stays held). */
  expire(sel: Selection): Promise<string[]> {
    const now = this.now();
    return this.adminOp(sel, (r) => {
      if (r.forcedExpire) return undefined;
      return r.queue === 'deferred' ? { ...r, forcedExpire: true, nextAttempt: now } : { ...r, forcedExpire: true };
    });
  }

  /**
   * postqueue -f / -i ID / -s site, sendmail -q, ETRN: the selected deferred messages (those for
   * which `filter`, when given, holds) become due now, so qmgr's next scan takes them like any
   * other due mail. Incoming mail is due already; hold stays held. Returns the IDs made due.
   */
  makeDue(sel: Selection, filter?: (r: QueueRecord) => boolean): Promise<string[]> {
    const now = this.now();
    return this.adminOp(sel, (r) => {
      if (r.queue !== 'deferred' || r.nextAttempt <= now) return undefined;
      return filter === undefined || filter(r) ? { ...r, nextAttempt: now } : undefined;
    });
  }

  /** Start-up recovery (idempotent); run by the daemon before it schedules anything. */
  async recover(): Promise<RecoveryReport> {
    const now = this.now();
    const report = await this.writeTxn('queue recovery', () => recoverInTxn(this.dbs, now));
    for (const c of report.corrupt) this.warn(`${c.id}: unreadable queue record moved to the corrupt queue: ${c.reason}`);
    if (report.orphanBodies > 0) this.warn(`removed the bodies of ${report.orphanBodies} message(s) without an envelope`);
    this.notifyChange({ kind: 'recovered', ids: report.madeDue });
    return report;
  }

  async close(): Promise<void> {
    await this.dbs.root.close();
  }

  // --- transaction helpers -------------------------------------------------------------------

  /** Runs `fn` atomically and waits until the commit is on disk; failures become QueueWriteError. */
  private async writeTxn<T>(what: string, fn: () => T): Promise<T> {
    let out: T;
    try {
      out = await observeCommit(this.dbs.root, this.dbs.root.childTransaction(fn));
      await this.dbs.root.flushed;
    } catch (err) {
      throw asWriteError(err, what);
    }
    return out;
  }

  /** Reads a record inside a write transaction; an unreadable one is set aside and reported absent. */
  private readForUpdate(id: string, now: number): QueueRecord | undefined {
    const raw = this.dbs.envelope.getBinary(id);
    if (raw === undefined) return undefined;
    try {
      return decodeRecord(raw, id);
    } catch (err) {
      setAsideInTxn(this.dbs, id, raw, (err as Error).message, now);
      this.warn(`${id}: unreadable queue record moved to the corrupt queue: ${(err as Error).message}`);
      return undefined;
    }
  }

  private replaceInTxn(old: QueueRecord, rec: QueueRecord): void {
    const oldKey = dueKeyOf(old);
    if (oldKey) this.dbs.due.removeSync(oldKey);
    this.dbs.envelope.putSync(rec.id, encodeRecord(rec));
    const newKey = dueKeyOf(rec);
    if (newKey) this.dbs.due.putSync(newKey, EMPTY);
  }

  private removeInTxn(rec: QueueRecord): void {
    const key = dueKeyOf(rec);
    if (key) this.dbs.due.removeSync(key);
    this.dbs.envelope.removeSync(rec.id);
    removeBodyInTxn(this.dbs, rec.id);
  }

  private async adminOp(
    sel: Selection,
    change: (r: QueueRecord) => QueueRecord | 'delete' | undefined,
    corruptToo = false,
  ): Promise<string[]> {
    const now = this.now();
    const done = await this.writeTxn('queue update', () => {
      const ids = sel.ids === 'ALL' ? ([...this.dbs.envelope.getKeys({})] as string[]) : sel.ids.filter(isValidQueueId);
      const affected: string[] = [];
      for (const id of ids) {
        const rec = this.readForUpdate(id, now);
        if (rec === undefined || !sel.queues.includes(rec.queue)) continue;
        const next = change(rec);
        if (next === undefined) continue;
        if (next === 'delete') this.removeInTxn(rec);
        else this.replaceInTxn(rec, next);
        affected.push(id);
      }
      if (corruptToo && sel.queues.includes('corrupt')) {
        const cids = sel.ids === 'ALL' ? ([...this.dbs.corrupt.getKeys({})] as string[]) : sel.ids.filter(isValidQueueId);
        for (const id of cids) {
          if (!this.dbs.corrupt.doesExist(id)) continue;
          this.dbs.corrupt.removeSync(id);
          removeBodyInTxn(this.dbs, id);
          affected.push(id);
        }
      }
      return affected;
    });
    if (done.length > 0) this.notifyChange({ kind: 'admin', ids: done });
    return done;
  }
}
