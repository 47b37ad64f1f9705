/*
 * One maildir mailbox on disk: scanning new/ and cur/, giving new files UIDs through the
 * uidlist, moving new/ to cur/ for sessions that drop \Recent, and reconciling modseqs in the
 * sidecar (Dovecot 2.3 maildir-sync.c behaviour):
 * - new/ is read before cur/, so a file another process moves new/ -> cur/ during the scan is
 *   seen in at least one of them;
 * - a uidlist record whose file is missing is rescanned once before it counts as expunged
 *   (another process may have renamed it for a flag change); ENOENT is a normal race;
 * - unknown files get UIDs in Dovecot's filename order (time, microseconds, name);
 * - new/, cur/ and the uidlist are read again only when their stat changed since the last sync
 *   (sync-stamp.ts: Dovecot's quick check, with its one-second dirty window), so a command on an
 *   unchanged mailbox costs four stat() calls and a read-only look at the sidecar;
 * - STATUS (status()) is answered from the sidecar without reading the uidlist or the directories
 *   when new/, cur/, dovecot-uidlist and dovecot-keywords have the stamps the remembered answer was
 *   computed for, none of them changed within the last second, and the sidecar's meta entry for
 *   the mailbox (HIGHESTMODSEQ, first-recent UID, UIDVALIDITY) is unchanged: every delivery,
 *   flag rename and expunge moves a directory's mtime, every sidecar-only change (modseqs,
 *   \Recent claims) moves the meta entry.
 *
 * Distrusts: directory contents (dot files, names with `/`-free garbage, subdirectories are
 * skipped) and every other process touching the maildir.
 */
import { readdirSync, renameSync, statSync } from 'node:fs';
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { compareForUidOrder, decodeFlagLetters, parseFilename, type SystemFlag } from './filename.js';
import { KeywordsFile, keywordName } from './keywords.js';
import { UidlistFile } from './uidlist.js';
import type { KeywordTable } from './control-files.js';
import type { ReconcileInput, Sidecar, StatusCounts } from './sidecar.js';
import { virtualSize } from './eol.js';
import { fineClockAt, StampedCache, stampOf, type Stamp } from './sync-stamp.js';
import { byUidIn, indexByUid, mergeByUid, sameStrings } from './uid-order.js';
import { effectiveNextUid, type UidlistData, type UidlistRecord } from './uidlist-format.js';
import { FileIndex, type FileEntry, type Sub } from './file-index.js';
import { DELETED_UNDER_US_TEXT, isVanishing, notFound, StorageError } from '../errors.js';

export type { FileEntry, Sub } from './file-index.js';

export interface MessageRecord {
  readonly uid: number;
  readonly basename: string;
  readonly sub: Sub;
  readonly filename: string;
  readonly system: readonly SystemFlag[];
  readonly keywords: readonly string[];
  /** Flag letters we keep but do not map (P, X …). */
  readonly other: string;
  readonly extra: string;
  readonly size: number | undefined;
  readonly vsize: number | undefined;
  readonly modseq: number;
  /** POP3 UIDL from the uidlist `P` field (migrated mail), if any. */
  readonly pop3Uidl: string | undefined;
  /** POP3 order from the uidlist `O` field (mail migrated with its POP3 message order), if any. */
  readonly pop3Order: number | undefined;
}

export interface MailboxSnapshot {
  readonly uidValidity: number;
  readonly nextUid: number;
  readonly guid: string;
  readonly highestModseq: number;
  readonly firstRecentUid: number;
  /** UIDs >= this were claimed as \Recent by this sync (== nextUid when not claiming). */
  readonly claimedFrom: number;
  readonly messages: readonly MessageRecord[];
  readonly keywordTable: KeywordTable;
}

/**
 * `s` with a STORE's modseq and keyword table, built in the property order of sync's snapshots so
 * that all snapshots share one hidden class. A spread copy (`{ ...s, highestModseq }`) had
 * another: V8's code compiled for the first (the view's getters read the snapshot on every FETCH)
 * was thrown away under the first clients' load (--trace-deopt: "wrong map" at `get mailboxGuid`).
 */
export function snapshotWith(s: MailboxSnapshot, highestModseq: number, keywordTable: KeywordTable): MailboxSnapshot {
  return {
    uidValidity: s.uidValidity,
    nextUid: s.nextUid,
    guid: s.guid,
    highestModseq,
    firstRecentUid: s.firstRecentUid,
    claimedFrom: s.claimedFrom,
    keywordTable,
    messages: s.messages,
  };
}

export interface MailboxPaths {
  /** The maildir (holds cur/ new/ tmp/). */
  readonly dir: string;
  /** Where dovecot-uidlist and dovecot-keywords live (CONTROL=, else dir). */
  readonly control: string;
}

/** Dovecot deletes tmp/ files not touched for 36 hours (abandoned saves). */
export const TMP_MAX_AGE_MS = 36 * 3600 * 1000;
const NOTHING_GONE: ReadonlySet<string> = new Set();

/** dovecot-uidlist is rewritten without expunged records once live ones are at most this % of all. */
export const UIDLIST_COMPRESS_PERCENTAGE = 75;
/** How often one mailbox object lists tmp/ for abandoned files. */
export const TMP_CLEAN_INTERVAL_MS = 3600 * 1000;

/**
 * One message present in both the uidlist and the directories, as sync() pairs them. Kept from
 * one sync to the next while its file entry (the same name), UID, uidlist fields and the keyword
 * table are the same, with what was derived from it: its sidecar input and its last record.
 */
interface Present {
  readonly uid: number;
  readonly file: FileEntry;
  readonly system: readonly SystemFlag[];
  readonly kw: string[];
  readonly other: string;
  readonly ext: ReadonlyMap<string, string>;
  readonly basename: string;
  readonly input: ReconcileInput['messages'][number];
  /** The record the last snapshot built from this entry (reused while its modseq is the same). */
  record: MessageRecord | undefined;
}

function sameExt(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * This process's own changes to a listing it holds (`from`): files renamed in place (`to`) or
 * unlinked (no `to`), each with its message's UID, and files it saved, each with a uidlist record
 * appended after the last sync's records.
 */
interface OwnChanges {
  readonly from: FileIndex;
  readonly moved: readonly { readonly uid: number; readonly from: FileEntry; readonly to: FileEntry | undefined }[];
  readonly added: readonly FileEntry[];
}

/** What a sync derives from record `r` and its file. */
function presentOf(r: Pick<UidlistRecord, 'uid' | 'basename' | 'ext'>, file: FileEntry, table: KeywordTable): Present {
  const d = decodeFlagLetters(file.parsed.letters);
  const kw = d.keywords.map((i) => keywordName(table, i));
  return {
    uid: r.uid, file, system: d.system, kw, other: d.other, ext: r.ext, basename: r.basename,
    input: { uid: r.uid, flagsKey: flagsKey(d.system, kw), inNew: file.sub === 'new' }, record: undefined,
  };
}

/**
 * Pairs every record of `list` with its file, reusing an entry of `prev` (the last pairing, in
 * the same uidlist order: a message keeps its place, so one walk finds each previous entry) while
 * its file, UID and uidlist fields are the same.
 */
function pairAll(prev: readonly Present[], list: UidlistData, files: FileIndex, table: KeywordTable): Present[] {
  let k = 0;
  const present: Present[] = [];
  for (const r of list.records) {
    const file = files.get(r.basename);
    if (file === undefined) continue;
    while (k < prev.length && prev[k]!.uid < r.uid) k++;
    const p = prev[k];
    present.push(p === undefined || p.file !== file || p.uid !== r.uid || p.basename !== r.basename || !sameExt(p.ext, r.ext) ? presentOf(r, file, table) : p);
  }
  return present;
}

/**
 * The pairing of `list` and `files` from the last one (`prev`, of `prevList` and `changes.from`)
 * and this process's own `changes`: one entry replaced or dropped per moved file, one added per
 * appended record. Only while the records of `prevList` are those of `list`, as the same objects
 * (the uidlist was only appended to: uidlist.ts keeps the records it had read). Undefined when
 * that does not hold, or a change does not match the entry it names: then pairAll decides.
 */
function patchPresent(
  prev: readonly Present[], prevList: UidlistData, list: UidlistData, files: FileIndex, table: KeywordTable, changes: OwnChanges,
): Present[] | undefined {
  const old = prevList.records;
  const recs = list.records;
  if (list.uidValidity !== prevList.uidValidity || recs.length < old.length || (old.length > 0 && recs[old.length - 1] !== old[old.length - 1])) return undefined;
  const present: (Present | undefined)[] = prev.slice();
  let dropped = false;
  for (const c of changes.moved) {
    const i = indexByUid(prev, c.uid);
    const p = prev[i];
    if (p === undefined || p.file !== c.from) return undefined;
    present[i] = c.to === undefined ? undefined : presentOf(p, c.to, table);
    if (c.to === undefined) dropped = true;
  }
  const out = dropped ? present.filter((p): p is Present => p !== undefined) : (present as Present[]);
  for (let k = old.length; k < recs.length; k++) {
    const r = recs[k]!;
    const file = files.get(r.basename);
    if (file !== undefined) out.push(presentOf(r, file, table));
  }
  return out;
}

type Names = readonly [readonly string[], readonly string[]];

/** The file names of new/ and of cur/ in `files`. */
function namesOf(files: FileIndex): Names {
  const names: [string[], string[]] = [[], []];
  for (const f of files.values()) names[f.sub === 'new' ? 0 : 1].push(f.filename);
  return names;
}

/**
 * `names` (of new/ and cur/) with `changes` applied: the array of a directory they do not touch is
 * the same object. Undefined when a changed file's old name is not in it.
 */
function patchNames(names: Names, changes: OwnChanges): Names | undefined {
  const out: [readonly string[], readonly string[]] = [names[0], names[1]];
  const copyOf = (i: 0 | 1): string[] => {
    if (out[i] === names[i]) out[i] = names[i].slice();
    return out[i] as string[];
  };
  for (const c of changes.moved) {
    const arr = copyOf(c.from.sub === 'new' ? 0 : 1);
    const at = arr.indexOf(c.from.filename);
    if (at < 0) return undefined;
    if (c.to === undefined) arr.splice(at, 1);
    else arr[at] = c.to.filename;
  }
  for (const e of changes.added) copyOf(e.sub === 'new' ? 0 : 1).push(e.filename);
  return out;
}

/**
 * Whether two reads of dovecot-uidlist hold the same records: records are only appended (each
 * with a higher UID than any before; an append does not rewrite the header's next UID, so the last
 * record counts) or dropped by a rewrite (changing the count), so the same UIDVALIDITY, effective
 * next UID and count mean the same records.
 */
function sameRecords(a: UidlistData, b: UidlistData): boolean {
  return a === b || (a.uidValidity === b.uidValidity && effectiveNextUid(a) === effectiveNextUid(b) && a.records.length === b.records.length);
}

function stampKeys(...stamps: readonly Stamp[]): string {
  return stamps.map((st) => st.key).join('|');
}

export function flagsKey(system: readonly string[], keywords: readonly string[]): string {
  return [...system, ...[...keywords].sort()].join(' ');
}

/** Saves noted between two syncs at most (MaildirMailbox.noteOwnSave). */
const OWN_SAVES_KEPT = 64;

export class MaildirMailbox {
  readonly uidlist: UidlistFile;
  readonly keywords: KeywordsFile;
  /**
   * The last listing of new/ and of cur/, and the last uidlist read, each kept for its stamp
   * (StampedCache: until the stamp changes, with one more read once a dirty stamp settles). The
   * directories are kept apart, as Dovecot checks them apart: a delivery or APPEND into new/ does
   * not list cur/ again.
   */
  private readonly dirCache = { new: new StampedCache<readonly string[]>(), cur: new StampedCache<readonly string[]>() };
  private readonly listCache = new StampedCache<UidlistData | undefined>();
  /**
   * The names of new/ and cur/ the last listing had and the map built from them: reused whole when
   * the names are the same, and entry by entry (a file keeps its entry while its name is the same)
   * when some changed, so a flag change costs one new entry, not 150.
   */
  private lastScan: { names: Names; files: FileIndex } | undefined;
  /**
   * What the last sync() built, by the identity of what it was built from: a command on a mailbox
   * nobody changed gets the very same snapshot object back (a view then knows nothing changed
   * without comparing every message), and one whose scan, uidlist and keywords are unchanged does
   * not rebuild the per-message lists. Rebuilding them on every command was a large part of the
   * IMAP server's CPU and garbage at 100 clients.
   */
  private lastSync: {
    files: FileIndex; list: UidlistData; table: KeywordTable;
    present: readonly Present[]; messages: ReconcileInput['messages'];
    snap?: { snapshot: MailboxSnapshot; modseqs: readonly number[] };
  } | undefined;
  /**
   * INTERNALDATE (the file's mtime) by UID, valid for the base name it was read for: kept with the
   * mailbox object, so the views of a later SELECT do not stat every message again (Dovecot keeps
   * it in dovecot.index.cache). Pruned to the UIDs present when it outgrows the mailbox.
   */
  readonly internalDates = new Map<number, { base: string; date: Date }>();
  /** When this process last cleaned tmp/ (Date.now()). */
  private tmpCleanedAt = 0;
  /** fineClockAt() of the mailbox and control directories, asked once each exists (sync-stamp.ts). */
  private readonly fineClock = new Map<string, boolean>();

  constructor(
    readonly name: string,
    readonly paths: MailboxPaths,
    readonly sidecar: Sidecar,
    allocUidValidity: () => Promise<number>,
  ) {
    this.uidlist = new UidlistFile(join(paths.control, 'dovecot-uidlist'), allocUidValidity);
    this.keywords = new KeywordsFile(join(paths.control, 'dovecot-keywords'));
  }

  /** Whether stamps of files in `dir` may use the short dirty window; false until it exists. */
  private clockIsFine(dir: string): boolean {
    const known = this.fineClock.get(dir);
    if (known !== undefined) return known;
    const fine = fineClockAt(dir);
    if (fine !== undefined) this.fineClock.set(dir, fine);
    return fine ?? false;
  }

  async exists(): Promise<boolean> {
    try {
      return statSync(join(this.paths.dir, 'cur')).isDirectory();
    } catch {
      return false;
    }
  }

  /**
   * What tells this mailbox's directory from one made under its name later: cur/'s inode and
   * birth time (ext4 gives a new directory the inode just freed at once). Undefined when there is
   * no mailbox. Where the file system keeps no birth time, a new directory on a reused inode goes
   * unnoticed here.
   */
  identity(): string | undefined {
    const st = statSync(join(this.paths.dir, 'cur'), { throwIfNoEntry: false });
    return st === undefined ? undefined : `${st.ino}:${st.birthtimeMs}`;
  }

  /**
   * After a failure: the error to answer when it came from this mailbox being deleted or renamed
   * away under the operation by another session (a path gone, ENOENT; or the uidlist lock lost to
   * the directory that took the mailbox's place): `Mailbox doesn't exist` when no mailbox has the
   * name now, Dovecot's `Mailbox was deleted under us` when a new one has (`before`: identity()
   * when the operation began). Undefined for any other failure. Dovecot logs these races as
   * internal errors and answers NO [SERVERBUG] (docs/mda.md, "Two sessions changing mailboxes at once").
   */
  vanishedUnder(err: unknown, before: string | undefined): StorageError | undefined {
    if (!isVanishing(err)) return undefined;
    const detail = `${this.paths.dir} vanished: ${err instanceof Error ? err.message : String(err)}`;
    const now = this.identity();
    if (now === undefined) return new StorageError('NOTFOUND', notFound(this.name).clientText, detail);
    // A lock lost with the same directory in place was taken over as stale: not a deletion.
    if (before !== undefined && now !== before) return new StorageError('NOTFOUND', DELETED_UNDER_US_TEXT, detail);
    return undefined;
  }

  /** The files in new/ and cur/ by base name, listed now. The map is shared (the last scan's when nothing changed): do not modify it. */
  async scan(): Promise<FileIndex> {
    return this.filesOf([this.listDir('new'), this.listDir('cur')]);
  }

  /**
   * The files this object saved since its last sync, on top of that sync's listing and uidlist,
   * and the records the uidlist updates of those saves left: the next sync derives its listing
   * from them instead of reading the directory again, as Dovecot's save adds the new message to
   * its index without a rescan. Only while those records are the last sync's plus exactly the
   * saved ones (nobody else added any); the derived listing is kept as read while dirty, so once
   * the stamps settle the directory is listed once more (keepOwnListing). Why: the sync after an
   * APPEND listed cur/ again, and that listing with the map built from it was half of an APPEND's
   * CPU on a 600-message mailbox (docs/performance.md, "Ninth session").
   */
  private ownSaves: {
    files: FileIndex; list: UidlistData; added: readonly FileEntry[]; records: UidlistData['records'];
    /** The stamps of new/ and cur/ after the last save: the listing is derived only while both are still these. */
    stamps: { new: string | undefined; cur: string | undefined };
  } | undefined;

  /**
   * Tells the mailbox that this process saved `filename` into `sub`, that the directory's stamp
   * key was `stampBefore` just before the rename into it and `stampAfter` just after, and that the
   * uidlist update which gave it its UID answered `after` (save.ts).
   */
  noteOwnSave(sub: Sub, filename: string, after: UidlistData, stampBefore: string, stampAfter: string): void {
    const memo = this.lastSync;
    const last = this.lastScan;
    const from = this.ownSaves ?? (memo === undefined || last?.files !== memo.files ? undefined : {
      files: memo.files, list: memo.list, added: [], records: memo.list.records,
      stamps: { new: this.dirCache.new.keptFor(), cur: this.dirCache.cur.keptFor() },
    });
    this.ownSaves = undefined;
    // Nobody changed the directory between the listing the files come from (or the previous save)
    // and this rename. Bounded: saves with no sync in between (a process that only delivers) stop
    // being noted, and the next sync lists the directory.
    if (from === undefined || from.stamps[sub] !== stampBefore || from.added.length >= OWN_SAVES_KEPT) return;
    let entry: FileEntry;
    try {
      entry = { sub, filename, parsed: parseFilename(filename) };
    } catch {
      return;
    }
    const added = [...from.added, entry];
    const old = from.list.records;
    const recs = after.records;
    // The records before the new ones are the very objects the last sync had (a rewrite by anyone
    // makes new ones), and every saved file has one of the new records. Whether the new records
    // are exactly the saved files' is checked when the listing is used: saves that shared one
    // update (uidlist.ts batches them) are noted one by one.
    if (recs.length < old.length + added.length || (old.length > 0 && recs[old.length - 1] !== old[old.length - 1])) return;
    const tail = new Set<string>();
    for (let i = old.length; i < recs.length; i++) tail.add(recs[i]!.basename);
    if (!added.every((e) => tail.has(e.parsed.base))) return;
    this.ownSaves = { files: from.files, list: from.list, added, records: recs, stamps: { ...from.stamps, [sub]: stampAfter } };
  }

  /** Forgets the listings, so the next sync lists new/ and cur/ again (a file was not where they said). */
  invalidateListing(): void {
    this.ownSaves = undefined;
    this.dirCache.new.clear();
    this.dirCache.cur.clear();
  }

  private listDir(sub: Sub): string[] {
    try {
      return readdirSync(join(this.paths.dir, sub));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return [];
    }
  }

  /** The map of `names` ([new/, cur/]), reusing the last one's map or its entries where names are the same. */
  private filesOf(names: readonly [readonly string[], readonly string[]]): FileIndex {
    const last = this.lastScan;
    if (last !== undefined && sameStrings(last.names[0], names[0]) && sameStrings(last.names[1], names[1])) {
      // Holding these very arrays lets the next comparison with them stop at identity.
      this.lastScan = { names, files: last.files };
      return last.files;
    }
    const files = new Map<string, FileEntry>();
    const subs = ['new', 'cur'] as const;
    for (let i = 0; i < 2; i++) {
      const sub = subs[i]!;
      for (const filename of names[i]!) {
        if (filename.startsWith('.')) continue;
        let entry: FileEntry | undefined;
        // The base is the name up to ':' (filename.ts); an unchanged name keeps its parsed entry.
        const colon = filename.indexOf(':');
        const prev = last?.files.get(colon < 0 ? filename : filename.slice(0, colon));
        if (prev !== undefined && prev.sub === sub && prev.filename === filename) entry = prev;
        else {
          try {
            entry = { sub, filename, parsed: parseFilename(filename) };
          } catch {
            continue;
          }
        }
        // The same base in new/ and cur/ happens mid-move; cur/ wins.
        files.set(entry.parsed.base, entry);
      }
    }
    const index = FileIndex.of(files);
    this.lastScan = { names, files: index };
    return index;
  }

  /**
   * Removes abandoned tmp/ files (older than 36 h by atime and ctime), as Dovecot does on sync; at
   * most once per TMP_CLEAN_INTERVAL_MS per mailbox object (Dovecot too keeps the last cleanup time
   * and does not list tmp/ on every sync).
   */
  async cleanTmp(now = Date.now()): Promise<void> {
    if (now - this.tmpCleanedAt < TMP_CLEAN_INTERVAL_MS) return;
    this.tmpCleanedAt = now;
    const tmp = join(this.paths.dir, 'tmp');
    let names: string[];
    try {
      names = await readdir(tmp);
    } catch {
      return;
    }
    for (const n of names) {
      try {
        const st = await stat(join(tmp, n));
        if (st.isFile() && now - Math.max(st.atimeMs, st.ctimeMs) > TMP_MAX_AGE_MS) await unlink(join(tmp, n));
      } catch {
        /* vanished or not ours to remove: leave it */
      }
    }
  }

  /**
   * The files in new/ and cur/, each directory listed again only when its stamp asks for it
   * (StampedCache). `cached`: both listings are ones kept from a settled stamp, so a uidlist record
   * without a file in them has none. Otherwise such a record gets a second look (syncWith): a
   * listing read now may have raced a rename, and one kept from a dirty stamp may miss a file added
   * in the same clock tick after it was read.
   */
  private scanStamped(sNew: Stamp, sCur: Stamp): { files: FileIndex; cached: boolean } {
    let cached = true;
    const read = (sub: Sub, stamp: Stamp): readonly string[] => {
      const hit = this.dirCache[sub].lookup(stamp);
      if (hit !== undefined) {
        cached &&= hit.settled;
        return hit.value;
      }
      cached = false;
      const listed = this.listDir(sub);
      this.dirCache[sub].set(stamp, listed);
      return listed;
    };
    // new/ before cur/ (the top of this file).
    const names: [readonly string[], readonly string[]] = [read('new', sNew), read('cur', sCur)];
    return { files: this.filesOf(names), cached };
  }

  private async readListStamped(stamp: Stamp): Promise<UidlistData | undefined> {
    const hit = this.listCache.get(stamp);
    if (hit !== undefined) return hit;
    const list = await this.uidlist.read();
    if (list !== undefined) this.listCache.set(stamp, list);
    return list;
  }

  /**
   * STATUS: the counts a read-only sync would give, from the sidecar when nothing changed since
   * they were computed (see the top of this file), else from a full sync (then remembered).
   */
  async status(): Promise<StatusCounts> {
    const now = Date.now();
    const stamps = [
      join(this.paths.dir, 'new'), join(this.paths.dir, 'cur'), this.uidlist.path, this.keywords.path,
    ].map((p) => stampOf(p, now, this.clockIsFine(dirname(p))));
    const settled = stamps.every((s) => s.settled);
    const key = stamps.map((s) => s.key).join('|');
    if (settled) {
      const hit = this.sidecar.cachedStatus(this.paths.dir, key);
      if (hit !== undefined) return hit;
    }
    const snap = await this.sync({ moveNew: false, claimRecent: false });
    let size = 0;
    let recent = 0;
    let unseen = 0;
    let firstUnseenSeq = 0;
    for (let i = 0; i < snap.messages.length; i++) {
      const m = snap.messages[i]!;
      if (m.vsize !== undefined) size += m.vsize;
      else size += await readFile(join(this.paths.dir, m.sub, m.filename)).then(virtualSize, () => 0);
      if (m.uid >= snap.firstRecentUid) recent++;
      if (!m.system.includes('\\Seen')) {
        unseen++;
        if (firstUnseenSeq === 0) firstUnseenSeq = i + 1;
      }
    }
    const counts: StatusCounts = {
      messages: snap.messages.length, recent, unseen, uidNext: snap.nextUid, uidValidity: snap.uidValidity,
      highestModseq: snap.highestModseq, size, firstUnseenSeq, guid: snap.guid,
    };
    // Not waited for (the sidecar's close() does): a lost write only costs the next STATUS a sync.
    if (settled) {
      void this.sidecar.rememberStatus(this.paths.dir, key, snap.guid || this.paths.dir,
        { uv: snap.uidValidity, hms: snap.highestModseq, fr: snap.firstRecentUid }, counts).catch(() => undefined);
    }
    return counts;
  }

  /**
   * Full sync. `moveNew` renames new/X to cur/X:2, (IMAP SELECT, POP3); `claimRecent` takes the
   * \Recent messages for the caller.
   */
  async sync(opts: { moveNew: boolean; claimRecent: boolean }): Promise<MailboxSnapshot> {
    return this.syncWith(opts, undefined);
  }

  /**
   * The snapshot after this process's own flag renames or unlinks, without listing new/ and cur/
   * again: the listing `before` was built from, with `renamed` (each message's file renamed in the
   * same directory to `filename`) and `unlinked` applied. Changes other processes made to the files
   * meanwhile are not in it, as they would not be had they come a moment later; the rename or
   * unlink moved the directory's stamp, so the next sync lists it again and sees them (and the
   * sidecar gives any flag change it then finds a newer modseq). Used only while dovecot-uidlist
   * holds the same records as for `before`: a record added meanwhile (another process's delivery)
   * has a file this listing never saw, and must not be taken for expunged (the compression would
   * drop it, and the message would get a new UID). Otherwise, and when `before` is not the last
   * snapshot this mailbox built, a full sync. Why: STORE and EXPUNGE listed the directory twice
   * (the sync after the change and the next command's), a large part of the write path's CPU.
   */
  async syncAfterOwnChanges(
    before: MailboxSnapshot,
    renamed: readonly { readonly record: MessageRecord; readonly filename: string }[],
    unlinked: readonly MessageRecord[],
  ): Promise<MailboxSnapshot> {
    const memo = this.lastSync;
    if (memo?.snap?.snapshot !== before) return this.sync({ moveNew: false, claimRecent: false });
    const moved: OwnChanges['moved'][number][] = [];
    for (const { record, filename } of renamed) {
      const from = memo.files.get(record.basename);
      if (from === undefined || from.filename === filename) continue;
      moved.push({ uid: record.uid, from, to: { sub: from.sub, filename, parsed: parseFilename(filename) } });
    }
    const gone: UidlistRecord[] = [];
    for (const record of unlinked) {
      const from = memo.files.get(record.basename);
      if (from === undefined) continue;
      moved.push({ uid: record.uid, from, to: undefined });
      const r = byUidIn(memo.list.records, record.uid);
      if (r !== undefined) gone.push(r);
    }
    const files = memo.files.with(moved.flatMap((c) => (c.to === undefined ? [] : [c.to])), moved.flatMap((c) => (c.to === undefined ? [c.from.parsed.base] : [])));
    // What the last sync worked out for the old files holds for these: a rename keeps the set of
    // base names, so the uidlist records without a file are the same ones, and an unlink adds its
    // own records to them; an unlink only takes files away, so every file still has a record.
    // Each was a pass over every message per STORE (docs/performance.md, "Ninth session").
    if (this.missing?.files === memo.files && this.missing.list === memo.list) {
      gone.sort((a, b) => a.uid - b.uid);
      this.missing = { files, list: memo.list, records: gone.length === 0 ? this.missing.records : mergeByUid(this.missing.records, gone) };
    }
    if (this.allKnown?.files === memo.files && this.allKnown.list === memo.list) this.allKnown = { files, list: memo.list };
    return this.syncWith({ moveNew: false, claimRecent: false }, { files, list: memo.list, changes: { from: memo.files, moved, added: [] } });
  }

  /**
   * A full sync, or (`own`) one from a listing this process derived itself (`changes` applied to
   * the last listing) for the records of `own.list`.
   */
  private async syncWith(
    opts: { moveNew: boolean; claimRecent: boolean },
    own: { readonly files: FileIndex; readonly list: UidlistData; readonly changes: OwnChanges } | undefined,
  ): Promise<MailboxSnapshot> {
    // Stamps first, reads after: a change in between makes the next stamp differ (sync-stamp.ts).
    const now = Date.now();
    const fine = this.clockIsFine(this.paths.dir);
    const sNew = stampOf(join(this.paths.dir, 'new'), now, fine);
    const sCur = stampOf(join(this.paths.dir, 'cur'), now, fine);
    const sList = stampOf(this.uidlist.path, now, this.clockIsFine(this.paths.control));
    const sKeywords = stampOf(this.keywords.path, now, this.clockIsFine(this.paths.control));
    let list = await this.readListStamped(sList);
    let scanned: { files: FileIndex; cached: boolean };
    /** The own changes the listing was derived with, while it is the one `scanned` holds. */
    let changes: OwnChanges | undefined;
    const saves = this.ownSaves;
    this.ownSaves = undefined;
    if (own !== undefined && list !== undefined && sameRecords(list, own.list)) {
      scanned = { files: own.files, cached: true };
      changes = own.changes;
      this.keepOwnListing(own.files, changes, sNew, sCur);
    } else if (own === undefined && saves !== undefined && list !== undefined && list.records === saves.records &&
      saves.records.length === saves.list.records.length + saves.added.length &&
      saves.stamps.new === sNew.key && saves.stamps.cur === sCur.key &&
      this.lastSync?.files === saves.files && !this.sidecar.changedByOthers(list.guid ?? this.paths.dir)) {
      const files = saves.files.with(saves.added, []);
      // The saved files each have one of the new records, and the old records their old files:
      // the answers of the last sync about records without a file, and files without a record,
      // still hold.
      if (this.missing?.files === saves.files && this.missing.list === saves.list) this.missing = { files, list, records: this.missing.records };
      if (this.allKnown?.files === saves.files && this.allKnown.list === saves.list) this.allKnown = { files, list };
      scanned = { files, cached: true };
      changes = { from: saves.files, moved: [], added: saves.added };
      this.keepOwnListing(files, changes, sNew, sCur);
    } else {
      // A listing kept from a dirty stamp stands for the directory only while nobody else changed
      // the mailbox: the stamp may not move for a change in the same clock tick. Another Postern
      // session's change moves the sidecar's meta entry (as Dovecot's sessions see each other's
      // changes in the index log), so those are seen at once; other programs' at the latest when
      // the stamp settles (StampedCache).
      if (this.sidecar.changedByOthers(list?.guid ?? this.paths.dir)) {
        this.dirCache.new.dropIfDirty();
        this.dirCache.cur.dropIfDirty();
      }
      scanned = this.scanStamped(sNew, sCur);
    }
    let files = scanned.files;
    // A record without its file may be a rename in flight: look again, unless the directories
    // have not changed for a while (then a second look would see the same), or every such record
    // was already missing after the last second look (expunged records stay in the uidlist until it
    // is compressed, below, so they would otherwise cost a second listing on every sync).
    let missing = this.missingIn(files, list);
    if (!scanned.cached && !this.allConfirmedGone(missing)) {
      files = await this.scan();
      missing = this.missingIn(files, list);
    }
    // Every record still in `missing` is now known to have no file (a second listing, a settled
    // directory, or a second listing at an earlier sync).
    if (missing !== this.confirmedGone.records) {
      const same = missing.length === this.confirmedGone.set.size && this.allConfirmedGone(missing);
      this.confirmedGone = { records: missing, set: same ? this.confirmedGone.set : new Set(missing.map((r) => r.basename)) };
    }
    const unknown: FileEntry[] = [];
    if (list === undefined || this.allKnown?.files !== files || this.allKnown.list !== list) {
      const knownBases = this.basesOf(list);
      // Every file has a record when the records with a file (all but `missing`) are as many as the
      // files and name distinct bases: then no file is left over, and the per-file look is skipped.
      const counted = list !== undefined && knownBases.size === list.records.length && list.records.length - missing.length === files.size;
      if (!counted) for (const f of files.values()) if (!knownBases.has(f.parsed.base)) unknown.push(f);
      if (list !== undefined && unknown.length === 0) this.allKnown = { files, list };
    }
    // Dovecot's uidlist compression (maildir-uidlist.c maildir_uidlist_want_compress,
    // UIDLIST_COMPRESS_PERCENTAGE 75): an expunge leaves its record in dovecot-uidlist, and a sync
    // rewrites the file without the dead records once (records read + new files) × 75 % reaches the
    // records that stay, as real Dovecot 2.3.19 was seen to do (8 records, no new mail: no rewrite
    // after 1 or 2 expunges, rewritten at the sync after the third).
    const compress = list !== undefined && missing.length > 0 &&
      Math.floor((list.records.length + unknown.length) * UIDLIST_COMPRESS_PERCENTAGE / 100) >= list.records.length - missing.length + unknown.length;
    if (list === undefined || unknown.length > 0 || list.guid === undefined || compress) {
      unknown.sort((a, b) => compareForUidOrder(a.filename, b.filename));
      list = await this.uidlist.update({ add: unknown.map((f) => f.parsed.base), ...(compress ? { drop: new Set(missing.map((r) => r.uid)) } : {}) });
    }
    // The listing of new/ that `files` was built from (lastScan is always the listing of the files a
    // sync works on): when it is empty there is nothing to move, without a pass over every file.
    const newNames = this.lastScan?.files === files ? this.lastScan.names[0] : undefined;
    if (opts.moveNew) await this.cleanTmp();
    if (opts.moveNew && (newNames === undefined || newNames.length > 0)) {
      const moved: FileEntry[] = [];
      for (const f of files.values()) {
        if (f.sub !== 'new') continue;
        const to = f.parsed.hasInfo ? f.filename : `${f.filename}:2,`;
        try {
          renameSync(join(this.paths.dir, 'new', f.filename), join(this.paths.dir, 'cur', to));
          moved.push({ sub: 'cur', filename: to, parsed: parseFilename(to) });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      files = files.with(moved, []);
    }
    const table = await this.keywords.read();
    let memo = this.lastSync;
    if (memo === undefined || memo.files !== files || memo.list !== list || memo.table !== table) {
      // Own changes to the listing the last pairing was made from patch that pairing (one entry
      // per change); otherwise every record is paired again.
      const patched = changes !== undefined && files === scanned.files && memo !== undefined && memo.files === changes.from && memo.table === table
        ? patchPresent(memo.present, memo.list, list, files, table, changes)
        : undefined;
      const present = patched ?? pairAll(memo !== undefined && memo.table === table ? memo.present : [], list, files, table);
      memo = { files, list, table, present, messages: present.map((p) => p.input) };
      this.lastSync = memo;
    }
    const present = memo.present;
    const nextUid = effectiveNextUid(list);
    const rec = await this.sidecar.reconcile(list.guid ?? this.paths.dir, {
      uidValidity: list.uidValidity,
      nextUid,
      messages: memo.messages,
      claimRecent: opts.claimRecent,
    });
    const prev = memo.snap;
    if (prev !== undefined && prev.modseqs === rec.modseqs && prev.snapshot.highestModseq === rec.highestModseq &&
      prev.snapshot.firstRecentUid === rec.firstRecentUid && prev.snapshot.claimedFrom === rec.claimedFrom) {
      this.synced = { snapshot: prev.snapshot, keys: stampKeys(sNew, sCur, sList, sKeywords), guid: list.guid ?? this.paths.dir };
      return prev.snapshot;
    }
    const numExt = (ext: ReadonlyMap<string, string>, k: string): number | undefined => {
      const v = ext.get(k);
      return v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : undefined;
    };
    // The property order of snapshotWith().
    const snapshot: MailboxSnapshot = {
      uidValidity: list.uidValidity,
      nextUid,
      guid: list.guid ?? '',
      highestModseq: rec.highestModseq,
      firstRecentUid: rec.firstRecentUid,
      claimedFrom: rec.claimedFrom,
      keywordTable: table,
      // rec.modseqs is in the order of memo.messages, which is present's.
      messages: present.map((p, i) => {
        const modseq = rec.modseqs[i] ?? 1;
        if (p.record !== undefined && p.record.modseq === modseq) return p.record;
        p.record = {
          uid: p.uid,
          basename: p.basename,
          sub: p.file.sub,
          filename: p.file.filename,
          system: p.system,
          keywords: p.kw,
          other: p.other,
          extra: p.file.parsed.extra,
          size: p.file.parsed.size ?? numExt(p.ext, 'S'),
          vsize: p.file.parsed.vsize ?? numExt(p.ext, 'W'),
          modseq,
          pop3Uidl: p.ext.get('P'),
          pop3Order: numExt(p.ext, 'O'),
        };
        return p.record;
      }),
    };
    memo.snap = { snapshot, modseqs: rec.modseqs };
    if (this.internalDates.size > 2 * snapshot.messages.length + 64) {
      const present = new Set(snapshot.messages.map((m) => m.uid));
      for (const uid of this.internalDates.keys()) if (!present.has(uid)) this.internalDates.delete(uid);
    }
    this.synced = { snapshot, keys: stampKeys(sNew, sCur, sList, sKeywords), guid: list.guid ?? this.paths.dir };
    return snapshot;
  }

  /**
   * The stamps of new/, cur/, dovecot-uidlist and dovecot-keywords that the last sync started from,
   * with the snapshot it returned (unchangedSince).
   */
  private synced: { snapshot: MailboxSnapshot; keys: string; guid: string } | undefined;

  /**
   * Whether a sync now would certainly return `snapshot` again, known from four stat() calls: it is
   * what the last sync returned, the four files have the stamps that sync started from, all settled
   * (older than the dirty window, so a later change would have moved them), and no session of ours
   * changed the mailbox's sidecar meta since. False means "maybe changed": sync. For IDLE's start
   * (imap/commands/idle.ts), which syncs only when this is false: a full sync on every IDLE cost 8 %
   * of the bench's IMAP throughput at 100 clients.
   */
  unchangedSince(snapshot: MailboxSnapshot): boolean {
    const last = this.synced;
    if (last === undefined || last.snapshot !== snapshot) return false;
    const now = Date.now();
    const fine = this.clockIsFine(this.paths.dir);
    const control = this.clockIsFine(this.paths.control);
    const stamps = [
      stampOf(join(this.paths.dir, 'new'), now, fine), stampOf(join(this.paths.dir, 'cur'), now, fine),
      stampOf(this.uidlist.path, now, control), stampOf(this.keywords.path, now, control),
    ] as const;
    if (!stamps.every((st) => st.settled) || stampKeys(...stamps) !== last.keys) return false;
    return !this.sidecar.changedByOthers(last.guid);
  }

  /**
   * Keeps the listing this process derived after its own renames and unlinks as the listing for the
   * directories' stamps taken after them, as Dovecot records cur/'s mtime after its own changes
   * (maildir_sync_index_update_ext_header): the next command does not list cur/ again. It is kept
   * as read while dirty, so once the stamps settle the directories are listed once more, which
   * brings in anything another process changed there meanwhile.
   */
  private keepOwnListing(files: FileIndex, changes: OwnChanges, sNew: Stamp, sCur: Stamp): void {
    const last = this.lastScan;
    // The last listing's names with the changes applied (a copy only of the directories they
    // touch), or, when those names are not of the listing the changes were made to, every name.
    const names = (last !== undefined && last.files === changes.from ? patchNames(last.names, changes) : undefined) ?? namesOf(files);
    const dirty = (s: Stamp): Stamp => ({ key: s.key, settled: false, at: s.at });
    for (const [i, sub, stamp] of [[0, 'new', sNew], [1, 'cur', sCur]] as const) {
      // A directory our changes did not touch keeps its listing (and its settled state).
      if (last !== undefined && sameStrings(last.names[i], names[i])) continue;
      this.dirCache[sub].set(dirty(stamp), names[i]);
    }
    this.lastScan = { names, files };
  }

  /** The uidlist records without a file in `files` (kept for the last pair of objects asked about). */
  private missingIn(files: FileIndex, list: UidlistData | undefined): readonly UidlistData['records'][number][] {
    if (list === undefined) return [];
    if (this.missing?.files !== files || this.missing.list !== list) {
      this.missing = { files, list, records: list.records.filter((r) => !files.has(r.basename)) };
    }
    return this.missing.records;
  }

  private missing: { files: FileIndex; list: UidlistData; records: readonly UidlistData['records'][number][] } | undefined;

  /** The base names a uidlist holds (kept for the last uidlist object asked about). */
  private basesOf(list: UidlistData | undefined): ReadonlySet<string> {
    if (list === undefined) return new Set();
    if (this.bases?.list !== list) this.bases = { list, set: new Set(list.records.map((r) => r.basename)) };
    return this.bases.set;
  }

  private bases: { list: UidlistData; set: ReadonlySet<string> } | undefined;
  /** Base names of uidlist records a second listing also found without a file (expunged). */
  private confirmedGone: { records: readonly UidlistRecord[]; set: ReadonlySet<string> } = { records: [], set: NOTHING_GONE };

  /**
   * Whether every record in `missing` is known to have no file. The answer for the very array the
   * set was last checked against is kept: expunged records stay in the uidlist until it is
   * compressed, so looking each up again on every command was a pass of string hashing.
   */
  private allConfirmedGone(missing: readonly UidlistRecord[]): boolean {
    return missing === this.confirmedGone.records || missing.every((r) => this.confirmedGone.set.has(r.basename));
  }
  /** A scan and a uidlist in which every file had a UID (checked once per pair of objects). */
  private allKnown: { files: FileIndex; list: UidlistData } | undefined;
}
