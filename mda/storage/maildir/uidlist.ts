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
import { closeSync, openSync, readFileSync } from 'node:fs';
import { writeAllSync } from '../../../shared/fs/atomic.js';
import { randomBytes } from 'node:crypto';
import { acquireDotlock } from './dotlock.js';
import { StorageError } from '../errors.js';
import {
  effectiveNextUid, formatUidlist, formatUidlistHeader, formatUidlistRecord, parseUidlist, UidlistSyntaxError,
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

  /** The parsed file, or undefined when it does not exist. */
  async read(): Promise<UidlistData | undefined> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return parseUidlist(text);
    } catch (err) {
      if (err instanceof UidlistSyntaxError) {
        throw new StorageError('TEMP', 'Internal error occurred. Refer to server log for more information.',
          `Broken file ${this.path}: ${err.message}`, { cause: err });
      }
      throw err;
    }
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
      const known = new Set(cur?.records.map((r) => r.basename) ?? []);
      const add = plan.add.filter((b) => !known.has(b) && (known.add(b), true));
      const drop = plan.drop ?? new Set<number>();
      const needRewrite = cur === undefined || cur.version !== 3 || cur.partialTail || cur.guid === undefined
        || cur.records.some((r) => drop.has(r.uid));
      if (!needRewrite && add.length === 0) return cur;
      const uidValidity = cur?.uidValidity ?? (await this.allocUidValidity());
      const guid = cur?.guid ?? newMailboxGuid();
      let next = cur === undefined ? 1 : effectiveNextUid(cur);
      const appended: UidlistRecord[] = add.map((basename) => ({ uid: next++, ext: new Map(), basename }));
      const kept = (cur?.records ?? []).filter((r) => !drop.has(r.uid));
      const records = [...kept, ...appended];
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
          writeAllSync(fd, Buffer.from(appended.map(formatUidlistRecord).join('')));
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
