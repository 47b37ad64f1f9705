/*
 * `dovecot-uidlist` I/O with Dovecot 2.3's rules (maildir-uidlist.c):
 * - every change happens under `dovecot-uidlist.lock` (dotlock, stale after 120 s) after re-reading
 *   the file, because another process (Dovecot, our LMTP) may have appended meanwhile;
 * - new messages are appended as records (the header is left alone, as Dovecot does); the whole
 *   file is rewritten (written into the lock file, then renamed over) only when it is missing,
 *   version 1, ends in a torn line, or when a sync drops the records of expunged messages (once
 *   enough are dead: mailbox.ts, UIDLIST_COMPRESS_PERCENTAGE, as Dovecot compresses);
 * - UIDs are never renumbered or reused; N is never lowered; UIDVALIDITY never changes.
 *
 * Distrusts: the file (a parse error is a TEMP error with the detail in the log; we do not silently
 * recreate it, since that would renumber every message) and concurrent writers.
 */
import { closeSync, fstatSync, openSync, readFileSync, type BigIntStats } from 'node:fs';
import { readAtSync, writeAllSync } from '../../../shared/fs/atomic.js';
import { randomBytes } from 'node:crypto';
import { acquireDotlock } from './dotlock.js';
import { StorageError } from '../errors.js';
import {
  appendUidlistLines, effectiveNextUid, formatUidlist, formatUidlistHeader, formatUidlistRecord, parseUidlist, UidlistSyntaxError,
  type UidlistData, type UidlistRecord,
} from './uidlist-format.js';

export const UIDLIST_FILE = 'dovecot-uidlist';

export interface UidlistPlan {
  /** Base names to give new UIDs, in this order (ones already present are skipped). */
  readonly add: readonly string[];
  /** UIDs whose records to drop (messages we expunged). */
  readonly drop?: ReadonlySet<number>;
}

interface Waiter {
  readonly plan: UidlistPlan;
  resolve(d: UidlistData): void;
  reject(err: unknown): void;
}

/** Updates waiting per uidlist path in this process; the head batch is the one running. */
const queues = new Map<string, Waiter[]>();

export function newMailboxGuid(): string {
  return randomBytes(16).toString('hex');
}

export class UidlistFile {
  constructor(
    readonly path: string,
    private readonly allocUidValidity: () => Promise<number>,
  ) {}

  /**
   * What the last read() or append left: the file (inode), how far it was parsed (bytes of
   * complete lines, and how many lines), the stat it was parsed at, and the result. Dovecot's
   * maildir-uidlist.c keeps the same (last_read_offset): the file is only ever appended to in place
   * (a rewrite is a new file renamed over it), so while the inode is the same a reader parses only
   * what was added after its offset. Parsing the whole file again after every APPEND made every
   * record (and its base name string) new, and each sync then compared and hashed all of them
   * again (docs/performance.md, "Ninth session").
   */
  private last: { ino: bigint; offset: number; lines: number; stat: string; data: UidlistData } | undefined;

  /** The base names of the records of `data` (updateLocked), for the answer the last append left. */
  private bases: { data: UidlistData; set: Set<string> } | undefined;

  /** The parsed file, or undefined when it does not exist. */
  async read(): Promise<UidlistData | undefined> {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.last = undefined;
        return undefined;
      }
      throw err;
    }
    try {
      const st = fstatSync(fd, { bigint: true });
      const last = this.last;
      if (last !== undefined && last.ino === st.ino && !last.data.partialTail) {
        if (last.stat === statKey(st)) return last.data;
        if (st.size >= BigInt(last.offset)) {
          const grown = this.readAppended(fd, st, last);
          if (grown !== undefined) return grown;
        }
      }
      return this.readWhole(fd, st);
    } finally {
      closeSync(fd);
    }
  }

  /** The records appended after `last`, or undefined when they do not parse (then the whole file is read). */
  private readAppended(fd: number, st: BigIntStats, last: NonNullable<UidlistFile['last']>): UidlistData | undefined {
    const tail = readAtSync(fd, Number(st.size) - last.offset, last.offset);
    const nl = tail.lastIndexOf(0x0a);
    const complete = tail.subarray(0, nl + 1).toString('utf8');
    let data: UidlistData;
    try {
      data = appendUidlistLines(last.data, complete, last.lines + 1);
    } catch (err) {
      if (err instanceof UidlistSyntaxError) return undefined;
      throw err;
    }
    if (nl + 1 < tail.length) data = { ...data, partialTail: true };
    this.last = { ino: st.ino, offset: last.offset + nl + 1, lines: last.lines + countLines(complete), stat: statKey(st), data };
    return data;
  }

  private readWhole(fd: number, st: BigIntStats): UidlistData {
    const buf = readFileSync(fd);
    const text = buf.toString('utf8');
    let data: UidlistData;
    try {
      data = parseUidlist(text);
    } catch (err) {
      this.last = undefined;
      if (err instanceof UidlistSyntaxError) {
        throw new StorageError('TEMP', 'Internal error occurred. Refer to server log for more information.',
          `Broken file ${this.path}: ${err.message}`, { cause: err });
      }
      throw err;
    }
    const nl = buf.lastIndexOf(0x0a);
    this.last = { ino: st.ino, offset: nl + 1, lines: countLines(text.slice(0, nl + 1)), stat: statKey(st), data };
    return data;
  }

  /** Creates the file with a fresh UIDVALIDITY and GUID if it does not exist yet. */
  async ensure(): Promise<UidlistData> {
    return this.update({ add: [] });
  }

  /**
   * Applies `plan` under the lock and returns the file as it now is. Updates of one file from this
   * process take turns instead of polling the dotlock against each other, and the plain additions
   * (deliveries, APPENDs, syncs) that queued up meanwhile go in together: one lock, one read, one
   * append for all of them (each caller finds its own records in the answer). Drops run alone.
   */
  update(plan: UidlistPlan): Promise<UidlistData> {
    let q = queues.get(this.path);
    if (q === undefined) {
      q = [];
      queues.set(this.path, q);
    }
    const queue = q;
    const p = new Promise<UidlistData>((resolve, reject) => queue.push({ plan, resolve, reject }));
    if (queue.length === 1) void this.runQueue(queue);
    return p;
  }

  private async runQueue(queue: Waiter[]): Promise<void> {
    while (queue.length > 0) {
      // The batch stays in the queue while it runs, so later callers see a busy queue and wait.
      let n = 1;
      if (queue[0]!.plan.drop === undefined) while (n < queue.length && queue[n]!.plan.drop === undefined) n++;
      const batch = queue.slice(0, n);
      const plan: UidlistPlan = n === 1 ? batch[0]!.plan : { add: batch.flatMap((w) => w.plan.add) };
      try {
        const data = await this.updateLocked(plan);
        for (const w of batch) w.resolve(data);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
      queue.splice(0, n);
    }
    if (queues.get(this.path) === queue) queues.delete(this.path);
  }

  private async updateLocked(plan: UidlistPlan): Promise<UidlistData> {
    const lock = await acquireDotlock(this.path, { staleSecs: 120 });
    try {
      const cur = await this.read();
      // The base names of `cur`, kept from the last update while the file is the one it left (a
      // set of every record per APPEND was a pass over the mailbox). Taken out while in use: it is
      // added to before the write, which may fail.
      const memo = this.bases;
      this.bases = undefined;
      const known = memo !== undefined && memo.data === cur ? memo.set : new Set(cur?.records.map((r) => r.basename) ?? []);
      const add = plan.add.filter((b) => !known.has(b) && (known.add(b), true));
      const drop = plan.drop ?? new Set<number>();
      const needRewrite = cur === undefined || cur.version !== 3 || cur.partialTail || cur.guid === undefined
        || (drop.size > 0 && cur.records.some((r) => drop.has(r.uid)));
      if (!needRewrite && add.length === 0) {
        // Nothing added: the set still holds exactly cur's names.
        if (cur !== undefined) this.bases = { data: cur, set: known };
        return cur;
      }
      const uidValidity = cur?.uidValidity ?? (await this.allocUidValidity());
      const guid = cur?.guid ?? newMailboxGuid();
      let next = cur === undefined ? 1 : effectiveNextUid(cur);
      const appended: UidlistRecord[] = add.map((basename) => ({ uid: next++, ext: new Map(), basename }));
      const old = cur?.records ?? [];
      const records = (drop.size === 0 ? old : old.filter((r) => !drop.has(r.uid))).concat(appended);
      // N must cover dropped UIDs too, so they are never handed out again.
      const nextUid = Math.max(cur?.nextUid ?? 1, next);
      const data: UidlistData = {
        version: 3, uidValidity, nextUid, guid, headerExt: cur?.headerExt ?? new Map(), records, partialTail: false,
      };
      if (cur === undefined) {
        // Like Dovecot, a new file starts from the header as it was before these records
        // (N1): readers take max(N, last uid + 1).
        await lock.replace(formatUidlistHeader({ uidValidity, nextUid: 1, guid }) + records.map(formatUidlistRecord).join(''));
      } else if (needRewrite) {
        await lock.replace(formatUidlist(data, records));
      } else {
        // The file exists here (cur was read under the lock), so this open creates nothing and
        // may stay synchronous (openFd in shared/fs/atomic.ts says why creates may not).
        const fd = openSync(this.path, 'a');
        try {
          const bytes = Buffer.from(appended.map(formatUidlistRecord).join(''));
          writeAllSync(fd, bytes);
          // What a read() of the file now gives (the header, N included, stays as it was), so the
          // sync after this update finds it unchanged instead of parsing the file again.
          const last = this.last;
          const st = fstatSync(fd, { bigint: true });
          if (last !== undefined && last.data === cur && last.ino === st.ino && BigInt(last.offset + bytes.length) === st.size) {
            const after = { ...cur, records };
            this.last = { ino: st.ino, offset: last.offset + bytes.length, lines: last.lines + appended.length, stat: statKey(st), data: after };
            this.bases = { data: after, set: known };
          }
        } finally {
          closeSync(fd);
        }
      }
      return data;
    } finally {
      await lock.release();
    }
  }
}

/** Inode, size, mtime and ctime (ns): the file was not written since a read that saw the same. */
function statKey(st: BigIntStats): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
