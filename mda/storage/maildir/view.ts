/*
 * A session's view of one maildir mailbox (IMAP SELECT/EXAMINE, POP3): a snapshot whose sequence
 * numbers change only in refresh(), which reports what happened since (RFC 3501 7.4.1: expunges
 * must not be announced while the client may still address old sequence numbers).
 * SELECT (dropRecent) moves new/ to cur/ and claims \Recent as Dovecot does; EXAMINE leaves
 * new/ alone and claims nothing, but still shows as \Recent what no read-write session has claimed
 * yet (UID >= the mailbox's first-recent UID), as Dovecot 2.3 does.
 *
 * Distrusts: the disk between two calls (other processes): every operation re-syncs first and
 * treats a vanished file as expunged, never as an error. Reads open the file where the last sync
 * saw it and look again only on ENOENT (no stat first). INTERNALDATE (the file's mtime) is
 * remembered per UID and base name once read, as Dovecot keeps it in dovecot.index.cache.
 * A read whose length is known (the S= size in the file name, or a prefix asked for) is one
 * open, one read and one close, without readFile's fstat.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type {
  ContentStore, CopyResult, MailboxStatus, MailboxView, MessageInfo, ReadOptions, StoreRequest, StoreResult, SyncChanges,
} from '../api.js';
import { StorageError } from '../errors.js';
import { lfToCrlf, virtualSize } from './eol.js';
import { SYSTEM_FLAGS, type SystemFlag } from './filename.js';
import { snapshotWith, type MaildirMailbox, type MailboxSnapshot, type MessageRecord } from './mailbox.js';
import { copyMessages, expungeMessages, storeFlags } from './ops.js';
import { byUidIn, sameStrings, uidFinder } from './uid-order.js';
import { watchMailbox } from './watch.js';

const isSystem = (f: string): f is SystemFlag => (SYSTEM_FLAGS as readonly string[]).includes(f);

export class MaildirView implements MailboxView {
  private snap!: MailboxSnapshot;
  private list: MessageInfo[] = [];
  private byUidMap = new Map<number, MessageInfo>();
  /** The record each message of `list` was made from, at the same index (undefined: look it up again). */
  private recs: (MessageRecord | undefined)[] = [];
  private recentUids = new Set<number>();
  private kw: string[] = [];
  private closed = false;
  /** Highest UID this session has ever shown: anything at or below it that is missing stays gone. */
  private maxUid = 0;
  /**
   * How many messages of `list` are \Recent: it changes only when refresh() replaces the list (a
   * message's recent state is fixed when its MessageInfo is made), and every command's refresh
   * reports it, so it is counted then, not by a pass over the list on each command.
   */
  private recentCount = 0;
  /** The content store handed out (contentStore). */
  private contents: ContentStore | undefined;

  private constructor(
    private readonly box: MaildirMailbox,
    readonly readOnly: boolean,
    private readonly dropRecent: boolean,
    private readonly resolve: (name: string) => Promise<MaildirMailbox>,
  ) {}

  get name(): string { return this.box.name; }
  get uidValidity(): number { return this.snap.uidValidity; }
  get uidNext(): number { return this.snap.nextUid; }
  get highestModseq(): number { return this.snap.highestModseq; }
  /** The mailbox GUID (dovecot-uidlist `G`); read through api.ts mailboxGuidOf(). */
  get mailboxGuid(): string { return this.snap.guid; }

  /**
   * Content values kept in the sidecar under the mailbox GUID; none for a mailbox without one, nor
   * with a sidecar in memory (INDEX=MEMORY: nothing to keep beyond the process).
   */
  get contentStore(): ContentStore | undefined {
    const sidecar = this.box.sidecar;
    if (this.snap.guid === '' || !sidecar.onDisk) return undefined;
    this.contents ??= {
      get: (uid, guid) => sidecar.content(this.snap.guid, uid, guid),
      add: (uid, guid, values) => sidecar.addContent(this.snap.guid, uid, guid, values),
    };
    return this.contents;
  }

  static async open(box: MaildirMailbox, readOnly: boolean, dropRecent: boolean, resolve: (name: string) => Promise<MaildirMailbox>): Promise<MaildirView> {
    const v = new MaildirView(box, readOnly, dropRecent && !readOnly, resolve);
    const snap = await v.sync();
    v.snap = snap;
    v.kw = definedKeywords(snap);
    for (const r of snap.messages) {
      if (r.uid >= v.recentFrom(snap)) v.recentUids.add(r.uid);
      v.recs.push(r);
      v.list.push(v.info(r, v.list.length + 1));
    }
    v.reindex();
    v.recentCount = v.list.filter((m) => m.recent).length;
    v.maxUid = v.list.at(-1)?.uid ?? 0;
    return v;
  }

  /** First UID this view shows as \Recent: what it claimed, or (not claiming) what nobody claimed yet. */
  private recentFrom(snap: MailboxSnapshot): number {
    return this.dropRecent ? snap.claimedFrom : snap.firstRecentUid;
  }

  private sync(): Promise<MailboxSnapshot> {
    return this.box.sync({ moveNew: this.dropRecent, claimRecent: this.dropRecent });
  }

  private info(r: MessageRecord, seq: number): MessageInfo {
    return {
      seq, uid: r.uid, flags: [...r.system, ...r.keywords], recent: this.recentUids.has(r.uid), modseq: r.modseq,
      guid: r.basename, physicalSize: r.size, virtualSize: r.vsize, pop3Uidl: r.pop3Uidl,
      ...(r.pop3Order !== undefined ? { pop3Order: r.pop3Order } : {}),
    };
  }

  /** The record the message with `uid` was last seen as (undefined: not in the view, or to be looked up again). */
  private recordOf(uid: number): MessageRecord | undefined {
    const m = this.byUidMap.get(uid);
    return m === undefined ? undefined : this.recs[m.seq - 1];
  }

  private setRecord(uid: number, r: MessageRecord | undefined): void {
    const m = this.byUidMap.get(uid);
    if (m !== undefined) this.recs[m.seq - 1] = r;
  }

  private reindex(): void {
    this.byUidMap = new Map(this.list.map((m) => [m.uid, m]));
  }

  private check(): void {
    if (this.closed) throw new StorageError('NOTPOSSIBLE', 'Mailbox is closed');
  }

  messages(): readonly MessageInfo[] { return this.list; }
  bySeq(seq: number): MessageInfo | undefined { return this.list[seq - 1]; }
  byUid(uid: number): MessageInfo | undefined { return this.byUidMap.get(uid); }
  keywords(): readonly string[] { return this.kw; }

  status(): MailboxStatus {
    const unseenIdx = this.list.findIndex((m) => !m.flags.includes('\\Seen'));
    return {
      messages: this.list.length,
      recent: this.list.filter((m) => m.recent).length,
      uidNext: this.snap.nextUid,
      uidValidity: this.snap.uidValidity,
      unseen: this.list.filter((m) => !m.flags.includes('\\Seen')).length,
      highestModseq: this.snap.highestModseq,
      size: this.list.reduce((a, m) => a + (m.virtualSize ?? 0), 0),
      firstUnseenSeq: unseenIdx + 1,
    };
  }

  async refresh(): Promise<SyncChanges> {
    this.check();
    const snap = await this.sync();
    // The very snapshot this view was last brought in line with (the mailbox's sync() hands back the
    // same object when nothing changed; store() replaces this.snap, so its own changes never match).
    if (snap === this.snap) {
      return { expunged: [], expungedSeqs: [], added: [], flagChanges: [], exists: this.list.length, recent: this.recentCount, keywordsChanged: false };
    }
    // Both lists are in UID order (the uidlist's; checked, a hand-edited one may not be): one walk
    // pairs them. A message whose record is the very object we hold (mailbox.ts keeps a record
    // while its file, UID and modseq are the same) at the same position keeps its MessageInfo, so
    // a change to one message costs one new object, not one per message.
    const msgs = snap.messages;
    const find = uidFinder(msgs, this.list);
    const expunged: number[] = [];
    const expungedSeqs: number[] = [];
    const maxOld = this.maxUid;
    const kept: MessageInfo[] = [];
    const keptRecs: (MessageRecord | undefined)[] = [];
    const flagChanges: MessageInfo[] = [];
    /** New MessageInfo objects for messages kept (byUidMap must hold the same objects as the list). */
    const replaced: MessageInfo[] = [];
    let recent = 0;
    for (let i = 0; i < this.list.length; i++) {
      const m = this.list[i]!;
      const r = find(m.uid);
      if (r === undefined) {
        expunged.push(m.uid);
        expungedSeqs.unshift(i + 1);
        this.box.internalDates.delete(m.uid);
        continue;
      }
      const seq = kept.length + 1;
      keptRecs.push(r);
      if (r === this.recs[i] && m.seq === seq) {
        kept.push(m);
        if (m.recent) recent++;
        continue;
      }
      const next = this.info(r, seq);
      kept.push(next);
      replaced.push(next);
      if (next.recent) recent++;
      if (next.modseq !== m.modseq || !sameStrings(next.flags, m.flags)) flagChanges.push(next);
    }
    const added: MessageInfo[] = [];
    for (const r of msgs) {
      // A UID at or below what we already showed and not in our list was expunged and reported;
      // it must never come back in this session.
      if (r.uid <= maxOld) continue;
      if (r.uid >= this.recentFrom(snap)) this.recentUids.add(r.uid);
      const info = this.info(r, kept.length + 1);
      kept.push(info);
      keptRecs.push(r);
      added.push(info);
      if (info.recent) recent++;
    }
    // The UID map follows the list: entries go for expunged messages, and are replaced for new
    // objects (a message after an expunged one has a new sequence number, so a new object).
    for (const uid of expunged) this.byUidMap.delete(uid);
    for (const m of replaced) this.byUidMap.set(m.uid, m);
    for (const m of added) this.byUidMap.set(m.uid, m);
    this.list = kept;
    this.recs = keptRecs;
    this.maxUid = Math.max(maxOld, this.list.at(-1)?.uid ?? 0);
    this.recentCount = recent;
    this.snap = snap;
    const kw = definedKeywords(snap);
    const keywordsChanged = kw.join(' ') !== this.kw.join(' ');
    this.kw = kw;
    return {
      expunged, expungedSeqs, added, flagChanges, exists: this.list.length,
      recent: this.recentCount, keywordsChanged,
    };
  }

  private requireWritable(): void {
    this.check();
    if (this.readOnly) throw new StorageError('PERM', 'Mailbox is read-only');
  }

  async store(uids: readonly number[], req: StoreRequest): Promise<StoreResult> {
    this.requireWritable();
    const system = req.flags.filter(isSystem);
    const bad = req.flags.find((f) => f.startsWith('\\') && !isSystem(f));
    if (bad !== undefined && bad.toLowerCase() !== '\\recent') throw new StorageError('PARAMS', `Invalid system flag ${bad}`);
    const keywords = req.flags.filter((f) => !f.startsWith('\\'));
    const wanted = uids.filter((u) => this.byUidMap.has(u));
    const res = await storeFlags(this.box, wanted, { mode: req.mode, system, keywords, unchangedSince: req.unchangedSince });
    const snap = res.snapshot;
    const changed = new Set(res.changed);
    const updated: MessageInfo[] = [];
    // The asked UIDs in ascending order, each found in the snapshot by a binary search (the
    // snapshot is in UID order): a walk over every message was a pass per STORE.
    const modified = new Set(res.modified);
    for (const uid of [...new Set(wanted)].sort((x, y) => x - y)) {
      const r = byUidIn(snap.messages, uid);
      const m = this.byUidMap.get(uid);
      if (r === undefined || m === undefined || modified.has(uid)) continue;
      if (!changed.has(r.uid) && r.modseq === m.modseq) {
        updated.push(m);
        continue;
      }
      const info = this.info(r, m.seq);
      this.list[m.seq - 1] = info;
      this.byUidMap.set(r.uid, info);
      this.recs[m.seq - 1] = r;
      updated.push(info);
    }
    this.snap = snapshotWith(this.snap, snap.highestModseq, snap.keywordTable);
    const kw = definedKeywords(snap);
    const keywordsChanged = kw.join(' ') !== this.kw.join(' ');
    this.kw = kw;
    return { updated, modified: res.modified, keywordsChanged };
  }

  async copy(uids: readonly number[], dest: string): Promise<CopyResult> {
    this.check();
    const target = await this.resolve(dest);
    const before = target.identity();
    try {
      return await copyMessages(this.box, uids.filter((u) => this.byUidMap.has(u)), target);
    } catch (err) {
      // The destination deleted or renamed under the copy by another session: NOTFOUND
      // ([TRYCREATE]), not an internal error.
      throw target.vanishedUnder(err, before) ?? err;
    }
  }

  async move(uids: readonly number[], dest: string): Promise<CopyResult> {
    this.requireWritable();
    const res = await this.copy(uids, dest);
    await this.expunge({ uids: res.srcUids, onlyDeleted: false });
    return res;
  }

  async expunge(opts: { uids?: readonly number[]; onlyDeleted?: boolean } = {}): Promise<number[]> {
    this.requireWritable();
    const limit = opts.uids !== undefined ? new Set(opts.uids) : undefined;
    return expungeMessages(this.box, (r) => (limit === undefined || limit.has(r.uid))
      && (opts.onlyDeleted === false || r.system.includes('\\Deleted')));
  }

  /**
   * Path of a message where the last sync saw it (`verify`: stat it first, for callers that cannot
   * retry on ENOENT themselves), re-syncing once if the file moved or vanished.
   */
  private async path(uid: number, verify = true): Promise<string> {
    this.check();
    if (!this.byUidMap.has(uid)) throw new StorageError('EXPUNGED', 'Message was expunged', `uid ${uid} not in view`);
    const r = this.recordOf(uid);
    if (r !== undefined) {
      const p = join(this.box.paths.dir, r.sub, r.filename);
      if (!verify) return p;
      try {
        statSync(p);
        return p;
      } catch { /* moved: look again */ }
    }
    // Not where the last listing said (or not known): list the directories again, whatever their
    // stamps say (Dovecot's sync after a failed open).
    this.box.invalidateListing();
    const snap = await this.box.sync({ moveNew: false, claimRecent: false });
    const cur = snap.messages.find((m) => m.uid === uid);
    if (cur === undefined) throw new StorageError('EXPUNGED', 'Message was expunged', `uid ${uid} vanished from ${this.box.paths.dir}`);
    // A copy: refresh() keeps a message's MessageInfo while its record is the very object the
    // snapshot has, and this one may carry flags the view has not reported yet (another process's
    // rename is why the file moved). The copy only says where the file is now.
    this.setRecord(uid, { ...cur });
    return join(this.box.paths.dir, cur.sub, cur.filename);
  }

  /** Runs `io` on the message's path; on ENOENT (renamed or expunged meanwhile) looks it up again. */
  private async atPath<T>(uid: number, io: (path: string) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const p = await this.path(uid, false);
      try {
        return await io(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 2) throw err;
        this.setRecord(uid, undefined);
      }
    }
  }

  /** The whole file; `limit` bytes at most when given (a prefix). */
  private readRaw(uid: number, limit?: number): Promise<Buffer> {
    const size = this.byUidMap.get(uid)?.physicalSize;
    if (limit === undefined && size === undefined) return this.atPath(uid, (p) => readFile(p));
    return this.atPath(uid, (p) => readPrefix(p, limit ?? size!, limit === undefined));
  }

  async read(uid: number, opts: ReadOptions = {}): Promise<Buffer> {
    // Without CRLF conversion a range ending at `end` needs only the file's first `end` bytes.
    const prefix = opts.crlf !== true && opts.end !== undefined ? Math.max(0, opts.end) : undefined;
    let buf = await this.readRaw(uid, prefix);
    if (opts.crlf === true) buf = lfToCrlf(buf);
    if (opts.start !== undefined || opts.end !== undefined) buf = buf.subarray(opts.start ?? 0, opts.end ?? buf.length);
    return buf;
  }

  async stream(uid: number, opts: { crlf?: boolean } = {}): Promise<Readable> {
    const raw = createReadStream(await this.path(uid));
    if (opts.crlf !== true) return raw;
    let prevCr = false;
    const t = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        const out = lfToCrlf(chunk, prevCr);
        prevCr = chunk.length > 0 ? chunk[chunk.length - 1] === 0x0d : prevCr;
        cb(null, out);
      },
    });
    raw.on('error', (e) => t.destroy(e));
    return raw.pipe(t);
  }

  async messageSizes(uid: number): Promise<{ physical: number; virtual: number }> {
    const m = this.byUidMap.get(uid);
    if (m?.physicalSize !== undefined && m.virtualSize !== undefined) return { physical: m.physicalSize, virtual: m.virtualSize };
    const buf = await this.readRaw(uid);
    return { physical: buf.length, virtual: virtualSize(buf) };
  }

  internalDateNow(uid: number): Date | undefined {
    const base = this.byUidMap.get(uid)?.guid;
    const known = this.box.internalDates.get(uid);
    return known !== undefined && known.base === base ? new Date(known.date.getTime()) : undefined;
  }

  async internalDate(uid: number): Promise<Date> {
    const known = this.internalDateNow(uid);
    if (known !== undefined) return known;
    const base = this.byUidMap.get(uid)?.guid;
    // A synchronous stat, as for the sync stamps (sync-stamp.ts): the file's inode is in the kernel's
    // cache (its directory was just listed), and the promise API cost 15-20 times the syscall; the
    // first envelope listing of a mailbox stats every message (3 % of the IMAP CPU at 100 clients).
    const date = (await this.atPath(uid, async (p) => statSync(p))).mtime;
    if (base !== undefined) this.box.internalDates.set(uid, { base, date });
    return new Date(date.getTime());
  }

  /**
   * RFC 8514 SAVEDATE as Dovecot's maildir answers it: the date recorded when we saved (delivered,
   * appended, copied or moved) the message into this mailbox; for a file someone else put there,
   * its ctime when first asked, then recorded so later renames (flag changes) do not move it.
   */
  async saveDate(uid: number): Promise<Date> {
    const box = this.snap.guid || this.box.paths.dir;
    const known = this.box.sidecar.saveDate(box, uid);
    if (known !== undefined) return new Date(known * 1000);
    const seconds = Math.floor(statSync(await this.path(uid)).ctimeMs / 1000);
    await this.box.sidecar.recordSaveDates(box, [{ uid, seconds }], false);
    return new Date((this.box.sidecar.saveDate(box, uid) ?? seconds) * 1000);
  }

  async vanishedSince(modseq: number): Promise<number[]> {
    this.check();
    return this.box.sidecar.vanishedSince(this.snap.guid || this.box.paths.dir, modseq);
  }

  watch(listener: () => void): () => void {
    return watchMailbox(this.box.paths.dir, listener);
  }

  /**
   * Whether the mailbox this view opened is still there: false when it was deleted or renamed away,
   * and when a new mailbox has taken its name since (another UIDVALIDITY), so a session does not go
   * on with UIDs and sequence numbers that mean nothing in the new one.
   */
  async exists(): Promise<boolean> {
    if (!(await this.box.exists())) return false;
    let list;
    try {
      list = await this.box.uidlist.read();
    } catch {
      return true; // unreadable is not gone
    }
    // No uidlist: a new mailbox being created under the name (or one whose UIDs were reset).
    return list !== undefined && list.uidValidity === this.snap.uidValidity;
  }

  mayHaveChanged(): boolean {
    return !this.box.unchangedSince(this.snap);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * Reads up to this size are synchronous: one open, read and close that never leave the event
 * loop (docs/architecture.md, "Local file-system calls"). Larger ones go to the thread pool, so
 * one big message read from a cold disk does not stall every other session of the process.
 */
const SYNC_READ_MAX = 1 << 20;

/**
 * The first `n` bytes of `path` (fewer if the file is shorter). With `whole` (n is the size the
 * file name states), a file found longer than `n` is read entirely after all.
 * Reading stops at end of file, or once the expected `n` bytes are in (readFile also trusts the
 * fstat size that far); a read short of `n` goes on.
 */
async function readPrefix(path: string, n: number, whole: boolean): Promise<Buffer> {
  // One byte more than expected tells a whole-file read that the file is longer than its name says.
  const buf = Buffer.allocUnsafe(whole ? n + 1 : n);
  let got = 0;
  if (buf.length <= SYNC_READ_MAX) {
    const fd = openSync(path, 'r');
    try {
      for (;;) {
        const r = readSync(fd, buf, got, buf.length - got, got);
        got += r;
        if (r === 0 || got >= n) break;
      }
    } finally {
      closeSync(fd);
    }
  } else {
    const fh = await open(path, 'r');
    try {
      for (;;) {
        const r = (await fh.read(buf, got, buf.length - got, got)).bytesRead;
        got += r;
        if (r === 0 || got >= n) break;
      }
    } finally {
      await fh.close();
    }
  }
  if (whole && got > n) return readFile(path);
  return buf.subarray(0, got);
}

function definedKeywords(snap: MailboxSnapshot): string[] {
  return snap.keywordTable.filter((k): k is string => k !== undefined);
}
