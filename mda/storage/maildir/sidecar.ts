/*
 * Postern's own index sidecar: what Dovecot keeps in `dovecot.index*` and a maildir cannot hold.
 * Per mailbox (keyed by the uidlist's mailbox GUID): HIGHESTMODSEQ, the first UID not yet claimed
 * as \Recent (Dovecot's first_recent_uid), and per message its MODSEQ and the flag state that
 * modseq belongs to; per expunged UID the modseq of the expunge (for QRESYNC VANISHED); per message
 * its save date (RFC 8514 SAVEDATE, Dovecot's `date.saved` cache field), in seconds; per message
 * what the IMAP server computed from its content (ENVELOPE, BODYSTRUCTURE, BODY and the top-level
 * header fields: Dovecot's dovecot.index.cache), with the message's GUID it is valid for.
 *
 * Stored in LMDB at `<control root>/postern-index.lmdb` (never a `dovecot.*` name), or in memory
 * for INDEX=MEMORY. It is a cache: deleting it loses only CONDSTORE history (every message is
 * back at modseq 1, as after Dovecot loses its index) and, as with a fresh Dovecot index
 * (first_recent_uid = 1, observed on 2.3.19), every message is \Recent again until a read-write
 * session claims them.
 * All updates for one mailbox happen in one LMDB write transaction, which also serialises
 * processes sharing the file. reconcile() first looks without writing (one read snapshot) and
 * opens a write transaction only when something would change: most commands change nothing.
 * Commits are synchronous and not flushed (LMDB noSync), like Dovecot's index log under
 * `mail_fsync = optimized`: the file is fsync'd once its writer has been quiet for 30 s or closes
 * it, and crash marks (sidecar-marks.ts) make a file that a system crash may have torn be rebuilt at
 * the next open.
 * A flushed commit per change, even off the event loop in lmdb-js's asynchronous transactions,
 * cost a third of the IMAP server's throughput (docs/performance.md, "Eleventh session"). When
 * a commit reaches the disk is no durability promise (DESIGN.md §3 covers messages, not this
 * cache). Without a boot id (not Linux) every commit is flushed, off the event loop, as before.
 *
 * Also per maildir (keyed by its path, since finding the GUID means reading the uidlist) the last
 * STATUS answer computed by a full sync, with what it was valid for: the stamps of new/, cur/,
 * dovecot-uidlist and dovecot-keywords (sync-stamp.ts) and the mailbox's meta entry (UIDVALIDITY,
 * HIGHESTMODSEQ, first-recent UID), which every sidecar-only change moves. Dovecot answers
 * STATUS from its index the same way when the maildir's directories and uidlist are unchanged.
 *
 * Distrusts: its own contents after a UIDVALIDITY change (the mailbox's entries are reset).
 */
import { open as openLmdb, type RootDatabase } from 'lmdb';
import type { ContentRecord } from '../api.js';
import { observeCommit } from '../../../shared/lmdb-commit.js';
import { checkMarksAtOpen, currentBootId, UnsyncedMark } from './sidecar-marks.js';
import { isAscending, uidIndexFinder } from './uid-order.js';

type Key = (string | number)[];

/** The minimal key-value surface the reconcile logic needs. */
interface Kv {
  get(key: Key): unknown;
  put(key: Key, value: unknown): void;
  remove(key: Key): void;
  range(start: Key, end: Key): Iterable<{ key: Key; value: unknown }>;
  txn<T>(fn: () => T): Promise<T>;
  /** A write transaction committed before returning (rare writes whose callers are synchronous). */
  txnSync<T>(fn: () => T): T;
  /** Starts a new read snapshot, so reads outside a write transaction see the latest commit. */
  fresh(): void;
}

/** The read side of Kv, with writes counted instead of done: a dry run of reconcile. */
function dryRun(kv: Kv): { kv: Kv; writes: () => number } {
  let n = 0;
  return {
    kv: { get: (k) => kv.get(k), range: (s, e) => kv.range(s, e), put: () => void n++, remove: () => void n++, txn: async (fn) => fn(), txnSync: (fn) => fn(), fresh: () => undefined },
    writes: () => n,
  };
}

interface Meta { uv: number; hms: number; fr: number }

/** A content record as stored: the values and the message file (GUID) they were computed for. */
interface StoredContent extends ContentRecord { readonly g: string }

/** Content records queued at most before they are written without waiting for the loop to turn. */
const CONTENT_QUEUE_MAX = 256;

const CONTENT_KEYS = ['envelope', 'bodystructure', 'body', 'header'] as const satisfies readonly (keyof ContentRecord)[];

/**
 * One database handle of a sidecar file, shared by the sidecars of that file in this process.
 * Why: a process used to open the file once per store, i.e. per IMAP session. With 2,000 sessions of
 * 100 users, a mail worker held 1,000 lmdb-js handles (each with its own 64 KiB write buffer, 62 MiB
 * in all) and 1,000 crash marks (each created with a directory fsync at the session's start), where
 * 100 do the same work: lmdb-js shares the environment underneath anyway, and LMDB wants one
 * environment per file per process.
 */
interface SharedHandle {
  readonly kv: Kv;
  close(): Promise<void>;
}

/** Open files by path (and boot id, which only tests vary), with the sidecars using each. */
const openFiles = new Map<string, { refs: number; handle: Promise<SharedHandle> }>();

async function openShared(path: string, boot: string | undefined): Promise<SharedHandle> {
  if (boot !== undefined) await checkMarksAtOpen(path, boot);
  // The mark before the open: opening a new file writes its first pages, unflushed too.
  const mark = boot === undefined ? undefined : new UnsyncedMark(path, boot);
  await mark?.create();
  let db: RootDatabase<unknown, Key>;
  try {
    db = openLmdb<unknown, Key>({ path, compression: false, noSubdir: true, ...(boot === undefined ? {} : { noSync: true }) } as never);
  } catch (err) {
    await mark?.close().catch(() => undefined);
    throw err;
  }
  const get = (k: Key): unknown => db.get(k);
  const put = (k: Key, v: unknown): void => void db.putSync(k, v);
  const remove = (k: Key): void => void db.removeSync(k);
  const range = (s: Key, e: Key): Iterable<{ key: Key; value: unknown }> => db.getRange({ start: s, end: e }) as Iterable<{ key: Key; value: unknown }>;
  const fresh = (): void => db.resetReadTxn();
  if (mark === undefined) {
    return {
      kv: {
        get, put, remove, range, fresh,
        txn: (fn) => observeCommit(db, db.transaction(fn)),
        txnSync: (fn) => db.transactionSync(fn),
      },
      close: () => closeWithin(db.close(), LMDB_CLOSE_WAIT_MS),
    };
  }
  const txnSync = <T>(fn: () => T): T => {
    mark.beforeWrite();
    return db.transactionSync(fn);
  };
  return {
    kv: {
      get, put, remove, range, fresh, txnSync,
      txn: <T>(fn: () => T): Promise<T> => {
        try {
          return Promise.resolve(txnSync(fn));
        } catch (err) {
          return Promise.reject(err as Error);
        }
      },
    },
    async close() {
      await mark.close().catch(() => undefined);
      await closeWithin(db.close(), LMDB_CLOSE_WAIT_MS);
    },
  };
}

/**
 * How long close() waits for lmdb-js to close the environment. After a failed commit (ENOSPC) its
 * close() never settles; the environment is then left to the process's exit rather than hanging
 * whoever closes the store (a delivery's reply, a session's logout).
 */
const LMDB_CLOSE_WAIT_MS = 5000;

function closeWithin(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    p.then(() => undefined, () => undefined).finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Mailboxes per sidecar whose last reconcile answer is kept (Sidecar.answered). */
const ANSWERS_KEPT = 64;

/** Same UIDVALIDITY, next UID and messages (uid, flags, new/ or cur/), in the same order. */
function sameMessages(a: ReconcileInput, b: ReconcileInput): boolean {
  if (a.uidValidity !== b.uidValidity || a.nextUid !== b.nextUid || a.messages.length !== b.messages.length) return false;
  if (a.messages === b.messages) return true;
  for (let i = 0; i < a.messages.length; i++) {
    const x = a.messages[i]!;
    const y = b.messages[i]!;
    if (x.uid !== y.uid || x.flagsKey !== y.flagsKey || x.inNew !== y.inNew) return false;
  }
  return true;
}
interface MsgRec { m: number; f: string }

/** A reconcile answer as remembered: the meta entry it left, its input and its modseqs. */
interface Answer { readonly meta: Meta; readonly input: ReconcileInput; readonly modseqs: readonly number[] }

function sameMeta(a: Meta, b: Meta): boolean {
  return a.uv === b.uv && a.hms === b.hms && a.fr === b.fr;
}

/** The counts a STATUS needs, as a full sync computes them. */
export interface StatusCounts {
  readonly messages: number;
  readonly recent: number;
  readonly unseen: number;
  readonly uidNext: number;
  readonly uidValidity: number;
  readonly highestModseq: number;
  readonly size: number;
  readonly firstUnseenSeq: number;
  /** The uidlist's mailbox GUID ('' when it has none). */
  readonly guid: string;
}

/** A remembered STATUS: valid while the stamps (`k`) and the mailbox's meta entry are unchanged. */
interface StatusRec { k: string; box: string; uv: number; hms: number; fr: number; v: StatusCounts }

export interface ReconcileInput {
  readonly uidValidity: number;
  readonly nextUid: number;
  /** Current messages: uid and a string that changes whenever flags/keywords change. */
  readonly messages: readonly { uid: number; flagsKey: string; inNew: boolean }[];
  /** Claim \Recent for this caller (IMAP SELECT, POP3): uids >= the old first-recent are ours. */
  readonly claimRecent: boolean;
}

export interface ReconcileResult {
  /**
   * The modseq of each input message, in the order of `input.messages` (an array, not a map by UID:
   * the caller walks the messages in that order, and building a map of every message on each
   * change was a pass of hashing per STORE; docs/performance.md, "Tenth session").
   */
  readonly modseqs: readonly number[];
  readonly highestModseq: number;
  /** UIDs >= this and < nextUid are \Recent for a claiming caller (equal to nextUid otherwise). */
  readonly claimedFrom: number;
  /** The mailbox's first-recent UID after this call (RECENT count for STATUS). */
  readonly firstRecentUid: number;
}

export class Sidecar {
  /** Transactions not yet committed: save dates, STATUS answers, content records (close() waits for them). */
  private readonly pending = new Set<Promise<unknown>>();

  /** Lets close() wait for `done`, whose failure is only a lost cache entry. */
  private track(done: Promise<unknown>): void {
    const tracked = done.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /**
   * @param onDisk whether this sidecar outlives the process (LMDB): only then does it keep content
   * records (a memory sidecar, INDEX=MEMORY, would hold every record of every message read for the
   * store's life, beside the IMAP server's own bounded memory of them).
   */
  private constructor(private readonly kv: Kv, private readonly closer: () => Promise<void>, readonly onDisk: boolean) {}

  static memory(): Sidecar {
    const map = new Map<string, { key: Key; value: unknown }>();
    const id = (k: Key): string => JSON.stringify(k);
    const cmp = (a: Key, b: Key): number => {
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const x = a[i];
        const y = b[i];
        if (x === y) continue;
        if (x === undefined) return -1;
        if (y === undefined) return 1;
        return x < y ? -1 : 1;
      }
      return 0;
    };
    return new Sidecar({
      get: (k) => map.get(id(k))?.value,
      put: (k, v) => void map.set(id(k), { key: k, value: v }),
      remove: (k) => void map.delete(id(k)),
      range: (s, e) => [...map.values()].filter((x) => cmp(x.key, s) >= 0 && cmp(x.key, e) < 0).sort((a, b) => cmp(a.key, b.key)),
      txn: async (fn) => fn(),
      txnSync: (fn) => fn(),
      fresh: () => undefined,
    }, async () => undefined, false);
  }

  /**
   * The sidecar at `path`. Where the kernel gives a boot id, commits are synchronous and not
   * flushed (noSync), with crash marks (sidecar-marks.ts) so that a file a system crash may have
   * torn is rebuilt: a commit then costs a few page writes and no wait, and a session's command
   * needs no round trip through lmdb-js's write thread. Elsewhere every commit is flushed, in an
   * asynchronous transaction off the event loop.
   *
   * The sidecars of one file in this process share one database handle and one crash mark
   * (openShared): each Sidecar keeps its own answers, and the last close() closes the handle.
   */
  static async lmdb(path: string, boot = currentBootId()): Promise<Sidecar> {
    const key = `${path}\0${boot ?? ''}`;
    const entry = openFiles.get(key) ?? { refs: 0, handle: openShared(path, boot) };
    openFiles.set(key, entry);
    entry.refs++;
    const drop = (): boolean => {
      if (--entry.refs > 0) return false;
      if (openFiles.get(key) === entry) openFiles.delete(key);
      return true;
    };
    let h: SharedHandle;
    try {
      h = await entry.handle;
    } catch (err) {
      drop();
      throw err;
    }
    let closed: Promise<void> | undefined;
    return new Sidecar(h.kv, () => {
      closed ??= drop() ? h.close() : Promise.resolve();
      return closed;
    }, true);
  }

  async close(): Promise<void> {
    this.flushContent();
    await Promise.all([...this.pending]);
    await this.closer();
  }

  private clear(box: string, kv: Kv = this.kv): void {
    for (const p of ['m', 'x', 'd', 'c']) {
      for (const { key } of [...kv.range([p, box], [p, box, Number.MAX_SAFE_INTEGER])]) kv.remove(key);
    }
    kv.remove(['meta', box]);
  }

  /**
   * Whether another writer (another process, or another store of this one) moved the meta entry of
   * `box` since this sidecar last reconciled it, or since the last call found it unchanged while
   * it moved before the reconcile that followed. Every flag change, expunge and \Recent claim
   * made through Postern moves it (see `answered`), so this is the maildir's view of Dovecot's
   * index log: a session learns that others changed the mailbox even when the directories' stamps
   * could not show it (a change in the same clock tick as its listing; mailbox.ts then lists again).
   */
  changedByOthers(box: string): boolean {
    this.kv.fresh();
    const meta = this.kv.get(['meta', box]) as Meta | undefined;
    this.peeked.set(box, meta);
    if (this.peeked.size > ANSWERS_KEPT) this.peeked.delete(this.peeked.keys().next().value!);
    const known = this.answered.get(box);
    return this.moved.delete(box) || known === undefined || meta === undefined || !sameMeta(meta, known.meta);
  }

  /** The meta entry changedByOthers() last saw per mailbox. */
  private readonly peeked = new Map<string, Meta | undefined>();
  /** Mailboxes whose meta entry moved after changedByOthers() looked and before the reconcile. */
  private readonly moved = new Set<string>();

  /** Brings the sidecar in line with the maildir; new or changed messages get a new modseq. */
  async reconcile(box: string, input: ReconcileInput): Promise<ReconcileResult> {
    this.kv.fresh();
    const meta = this.kv.get(['meta', box]) as Meta | undefined;
    if (this.peeked.has(box)) {
      const seen = this.peeked.get(box);
      if (seen === undefined ? meta !== undefined : meta === undefined || !sameMeta(meta, seen)) this.moved.add(box);
    }
    const known = this.answered.get(box);
    const metaKnown = known !== undefined && meta !== undefined && sameMeta(meta, known.meta);
    if (metaKnown && (!input.claimRecent || meta.fr >= input.nextUid) && sameMessages(input, known.input)) {
      return { modseqs: known.modseqs, highestModseq: meta.hms, claimedFrom: input.claimRecent ? meta.fr : input.nextUid, firstRecentUid: meta.fr };
    }
    if (metaKnown && meta.uv === input.uidValidity) {
      // Nobody changed the records since our last answer: they are exactly that answer's input
      // with its modseqs, so the difference to this input is all there is to write. A transaction
      // that finds the meta entry moved meanwhile (another process) does the full pass instead.
      const result = await this.kv.txn(() => {
        const now = this.kv.get(['meta', box]) as Meta | undefined;
        if (now !== undefined && sameMeta(now, known.meta)) return this.reconcileFrom(this.kv, box, input, known, now);
        this.moved.add(box);
        return this.reconcileIn(this.kv, box, input);
      });
      this.remember(box, { uv: input.uidValidity, hms: result.highestModseq, fr: result.firstRecentUid }, input, result.modseqs);
      return result;
    }
    // A synchronous dry run reads one consistent snapshot; if it would write nothing its answer is
    // what the write transaction would have answered at that snapshot.
    const dry = dryRun(this.kv);
    const answer = this.reconcileIn(dry.kv, box, input);
    const result = dry.writes() === 0 ? answer : await this.kv.txn(() => this.reconcileIn(this.kv, box, input));
    // What reconcileIn leaves in the meta entry is exactly these three values.
    this.remember(box, { uv: input.uidValidity, hms: result.highestModseq, fr: result.firstRecentUid }, input, result.modseqs);
    return result;
  }

  /**
   * reconcileIn with the stored records taken from the last answer instead of read from the
   * database (they are exactly its input with its modseqs while the meta entry is unchanged).
   * Reading and decoding every record of a mailbox on each change was 10 % of the IMAP server's
   * CPU at 100 clients.
   */
  private reconcileFrom(kv: Kv, box: string, input: ReconcileInput, known: Answer, meta: Meta): ReconcileResult {
    const msgs = known.input.messages;
    if (isAscending(msgs)) return this.applyDifference(kv, box, input, msgs, known.modseqs, meta, false);
    const order = msgs.map((_, i) => i).sort((a, b) => msgs[a]!.uid - msgs[b]!.uid);
    return this.applyDifference(kv, box, input, order.map((i) => msgs[i]!), order.map((i) => known.modseqs[i]!), meta, false);
  }

  /**
   * The last answer per mailbox, valid while the meta entry and the input are unchanged: the
   * message records are written only by reconcileIn, and every change it makes to them moves the
   * meta entry (a new or changed record takes ++HIGHESTMODSEQ, a removal records an expunge modseq,
   * a \Recent claim moves the first-recent UID, a UIDVALIDITY change or drop() resets it), in this
   * process or any other sharing the file. So an unchanged meta entry and the same messages with
   * the same flags give the same modseqs without reading every record again (reading and decoding
   * each message's record on every command was 11 % of the IMAP server's CPU at 100 clients).
   */
  private readonly answered = new Map<string, Answer>();

  private remember(box: string, meta: Meta, input: ReconcileInput, modseqs: readonly number[]): void {
    this.answered.delete(box);
    this.answered.set(box, { meta, input, modseqs });
    if (this.answered.size > ANSWERS_KEPT) this.answered.delete(this.answered.keys().next().value!);
  }

  private reconcileIn(kv: Kv, box: string, input: ReconcileInput): ReconcileResult {
    let meta = kv.get(['meta', box]) as Meta | undefined;
    if (meta !== undefined && meta.uv !== input.uidValidity) {
      this.clear(box, kv);
      meta = undefined;
    }
    const stored: { uid: number; flagsKey: string }[] = [];
    const storedModseqs: number[] = [];
    for (const { key, value } of kv.range(['m', box], ['m', box, Number.MAX_SAFE_INTEGER])) {
      const rec = value as MsgRec;
      stored.push({ uid: key[2] as number, flagsKey: rec.f });
      storedModseqs.push(rec.m);
    }
    // A fresh index starts with first_recent_uid = 1, as Dovecot's does: whatever is in the
    // mailbox (new/ or cur/) has not been claimed by any session yet. Deciding by "in new/"
    // would be wrong when the first sync is the SELECT that just moved new/ to cur/.
    return this.applyDifference(kv, box, input, stored, storedModseqs, meta ?? { uv: input.uidValidity, hms: 1, fr: 1 }, meta === undefined);
  }

  /**
   * Writes what differs between the stored records (ascending UID, with their modseqs in the same
   * order) and the input: a removed record becomes an expunge record, a changed one takes
   * ++HIGHESTMODSEQ (in UID order), then each new message (in input order; all at modseq 1 in a
   * `fresh` index). Answers the modseq of every input message, in input order.
   */
  private applyDifference(
    kv: Kv, box: string, input: ReconcileInput, stored: readonly { uid: number; flagsKey: string }[],
    storedModseqs: readonly number[], meta: Meta, fresh: boolean,
  ): ReconcileResult {
    const m: Meta = { ...meta };
    const msgs = input.messages;
    // 0 until known (modseqs start at 1).
    const modseqs = new Array<number>(msgs.length).fill(0);
    // One walk pairs them in UID order (uid-order.ts).
    const find = uidIndexFinder(msgs, stored);
    for (let j = 0; j < stored.length; j++) {
      const rec = stored[j]!;
      const i = find(rec.uid);
      if (i < 0) {
        kv.remove(['m', box, rec.uid]);
        kv.remove(['d', box, rec.uid]);
        kv.remove(['c', box, rec.uid]);
        kv.put(['x', box, rec.uid], ++m.hms);
        continue;
      }
      const now = msgs[i]!;
      if (rec.flagsKey !== now.flagsKey) {
        const ms = ++m.hms;
        kv.put(['m', box, rec.uid], { m: ms, f: now.flagsKey });
        modseqs[i] = ms;
      } else {
        modseqs[i] = storedModseqs[j]!;
      }
    }
    for (let i = 0; i < msgs.length; i++) {
      if (modseqs[i] !== 0) continue;
      const msg = msgs[i]!;
      const ms = fresh ? 1 : ++m.hms;
      kv.put(['m', box, msg.uid], { m: ms, f: msg.flagsKey });
      modseqs[i] = ms;
    }
    const claimedFrom = input.claimRecent ? m.fr : input.nextUid;
    if (input.claimRecent) m.fr = Math.max(m.fr, input.nextUid);
    if (fresh || m.hms !== meta.hms || m.fr !== meta.fr) kv.put(['meta', box], m);
    return { modseqs, highestModseq: m.hms, claimedFrom, firstRecentUid: m.fr };
  }

  /**
   * The STATUS remembered for maildir `dir` if it was computed for stamps `key` and the mailbox's
   * meta entry (UIDVALIDITY, HIGHESTMODSEQ, first-recent UID) is still what it was then.
   */
  cachedStatus(dir: string, key: string): StatusCounts | undefined {
    this.kv.fresh();
    const rec = this.kv.get(['s', dir]) as StatusRec | undefined;
    if (rec === undefined || rec.k !== key) return undefined;
    const meta = this.kv.get(['meta', rec.box]) as Meta | undefined;
    if (meta === undefined || meta.uv !== rec.uv || meta.hms !== rec.hms || meta.fr !== rec.fr) return undefined;
    return rec.v;
  }

  /**
   * Remembers a STATUS computed by a full sync that saw stamps `key` and left the meta entry of
   * `box` at `meta` (the sync's own result: a later change by anyone moves the stamps or the meta).
   * A write (synchronous where commits are; see lmdb()), tracked like recordSaveDates; skipped when the same is stored already.
   */
  rememberStatus(dir: string, key: string, box: string, meta: { uv: number; hms: number; fr: number }, v: StatusCounts): Promise<void> {
    const rec: StatusRec = { k: key, box, uv: meta.uv, hms: meta.hms, fr: meta.fr, v };
    const old = this.kv.get(['s', dir]) as StatusRec | undefined;
    if (old !== undefined && JSON.stringify(old) === JSON.stringify(rec)) return Promise.resolve();
    const done = this.kv.txn(() => this.kv.put(['s', dir], rec)).then(() => this.kv.fresh());
    this.track(done);
    return done;
  }

  /** Forgets the STATUS remembered for maildir `dir` (its mailbox was deleted or renamed). */
  forgetStatus(dir: string): void {
    if (this.kv.get(['s', dir]) !== undefined) this.kv.txnSync(() => this.kv.remove(['s', dir]));
  }

  /** UIDs expunged with a modseq above `modseq` (QRESYNC VANISHED (EARLIER)). */
  vanishedSince(box: string, modseq: number): number[] {
    const out: number[] = [];
    for (const { key, value } of this.kv.range(['x', box], ['x', box, Number.MAX_SAFE_INTEGER])) {
      if ((value as number) > modseq) out.push(key[2] as number);
    }
    return out;
  }

  /** The recorded save date (seconds since the epoch) of a message, if any. */
  saveDate(box: string, uid: number): number | undefined {
    const v = this.kv.get(['d', box, uid]);
    return typeof v === 'number' ? v : undefined;
  }

  /**
   * Records save dates; an existing record is kept unless `overwrite` (a new save of that UID).
   * Resolves after the commit (at once where commits are synchronous; otherwise it is an
   * asynchronous transaction whose commit happens off the event loop, and a caller may leave it
   * running, as the save path does: transactions commit in call order, and close() waits for it).
   */
  recordSaveDates(box: string, entries: readonly { uid: number; seconds: number }[], overwrite: boolean): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const done = this.kv.txn(() => {
      for (const e of entries) {
        if (!overwrite && this.kv.get(['d', box, e.uid]) !== undefined) continue;
        this.kv.put(['d', box, e.uid], e.seconds);
      }
    }).then(() => this.kv.fresh());
    this.track(done);
    return done;
  }

  /**
   * The content record of message `uid` of `box` if it was computed for the file `guid` (a maildir
   * file's content never changes under its base name; a record of another file under the UID is
   * not answered).
   */
  content(box: string, uid: number, guid: string): ContentRecord | undefined {
    const rec = this.kv.get(['c', box, uid]) as StoredContent | undefined;
    return rec !== undefined && rec.g === guid ? rec : undefined;
  }

  /**
   * Queues content values of message `uid` (file `guid`) of `box`, merged with what is kept.
   * The queue is written in one transaction when the event loop next turns (a FETCH of twenty
   * envelopes is one commit, not twenty), when it reaches CONTENT_QUEUE_MAX, or by close(). A
   * record is written only while the message has its modseq record (an expunge by anyone removes
   * both, so none is left behind).
   * A failed write is dropped: the values are computed again when next asked for.
   */
  addContent(box: string, uid: number, guid: string, values: ContentRecord): void {
    const k = `${uid}\0${box}`;
    const q = this.contentQueue.get(k);
    if (q !== undefined && q.guid === guid) q.values = { ...q.values, ...values };
    else this.contentQueue.set(k, { box, uid, guid, values });
    // A long run of work that never lets the loop turn (a FETCH 1:* answered from the page cache)
    // writes as it goes, so the queue never holds a whole mailbox.
    if (this.contentQueue.size >= CONTENT_QUEUE_MAX) this.flushContent();
    else this.contentTimer ??= setImmediate(() => void this.flushContent());
  }

  private readonly contentQueue = new Map<string, { box: string; uid: number; guid: string; values: ContentRecord }>();
  private contentTimer: NodeJS.Immediate | undefined;

  private flushContent(): void {
    if (this.contentTimer !== undefined) clearImmediate(this.contentTimer);
    this.contentTimer = undefined;
    if (this.contentQueue.size === 0) return;
    const batch = [...this.contentQueue.values()];
    this.contentQueue.clear();
    let done: Promise<void>;
    try {
      done = this.commitContent(batch);
    } catch {
      return; // a closed handle: the values are computed again when next asked for
    }
    this.track(done);
  }

  private commitContent(batch: readonly { box: string; uid: number; guid: string; values: ContentRecord }[]): Promise<void> {
    return this.kv.txn(() => {
      for (const { box, uid, guid, values } of batch) {
        if (this.kv.get(['m', box, uid]) === undefined) continue;
        const old = this.kv.get(['c', box, uid]) as StoredContent | undefined;
        const base: StoredContent = old !== undefined && old.g === guid ? old : { g: guid };
        if (CONTENT_KEYS.every((key) => values[key] === undefined || base[key] !== undefined)) continue;
        this.kv.put(['c', box, uid], { ...base, ...values, g: guid });
      }
    }).then(() => this.kv.fresh());
  }

  /** Forgets a deleted mailbox. */
  drop(box: string): void {
    this.answered.delete(box);
    this.kv.txnSync(() => this.clear(box));
  }
}
