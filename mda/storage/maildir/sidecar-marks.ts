/*
 * Crash marks for the index sidecar, which commits without fsync.
 *
 * Why: the sidecar is a cache (sidecar.ts), and Dovecot writes its own index log without fsync
 * under `mail_fsync = optimized`. An fsync'd commit per change was the largest single cost of our
 * IMAP server: the same A/B run at 10 clients gave 1,345-1,578 commands/s with a flushed commit
 * per write and 1,743-2,347 with unflushed synchronous commits (docs/performance.md, "Eleventh
 * session"). But LMDB without sync (MDB_NOSYNC) may be torn by a system crash: the meta page can
 * reach the disk before the pages it points to. Reading such a file can give wrong answers, so it
 * must never be read again. A process crash loses nothing: the writes are in the page cache.
 *
 * How: a writer creates `<db>.unsynced-<boot id>-<pid>-<n>` and fsyncs the directory before it
 * writes, so the mark is on disk before any unflushed write can be. It does so when it opens the
 * database, off the event loop (Sidecar.lmdb awaits it). Once no write came for MARK_IDLE_MS, it
 * fsyncs the database file and, when no write came while that fsync ran, removes the mark; a write
 * after that creates the mark again, synchronously (the commit that follows is synchronous).
 * close() flushes and removes it at once. The mark stays through a busy spell: an earlier version
 * flushed and removed it a second after each write, so a busy mailbox created it again about once a
 * second, and that synchronous directory fsync stalled every session of the process
 * (docs/performance.md, "Twelfth session"). At open (judgeMarks):
 * - a mark from another boot (/proc/sys/kernel/random/boot_id) means the machine went down with
 *   writes that may not have reached the disk: the database is removed and rebuilt, which is what
 *   deleting the cache costs (CONDSTORE history, \Recent), as when Dovecot finds its index corrupt;
 * - a mark of this boot whose process is gone (a crash, kill -9) is adopted: its writes are in the
 *   page cache, so an fsync of the file makes them durable and the mark is removed;
 * - a live process's mark is left to it.
 * The removal happens under `<db>.rebuild.lock` (dotlock.ts), and removes the database before the marks, so
 * a process that lists the marks while another rebuilds either sees old marks (and waits for the
 * lock) or sees none because the old database is already gone.
 *
 * Distrusts: the previous boot (any mark of it condemns the file) and the pid of a mark (a dead
 * one is adopted; a reused one keeps its mark until that process or a reboot removes it).
 */
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsyncDir, fsyncDirSync, fsyncFd, openFd, unlinkQuietly } from '../../../shared/fs/atomic.js';
import { pidAlive } from '../../../shared/fs/pid.js';
import { withDotlock } from './dotlock.js';

const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

/**
 * How long after the last write the database file is fsync'd and the mark removed. Longer only
 * widens what a system crash rebuilds; 30 s is when the kernel writes back dirty pages anyway
 * (vm.dirty_expire_centisecs).
 */
export const MARK_IDLE_MS = 30_000;

/** This boot's id, or undefined where the kernel does not tell (the sidecar then syncs every commit). */
export function currentBootId(path = BOOT_ID_PATH): string | undefined {
  try {
    const id = readFileSync(path, 'utf8').trim();
    return /^[0-9a-f-]{8,64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

export interface Mark {
  readonly name: string;
  readonly boot: string;
  readonly pid: number;
}

/** `<db base>.unsynced-<boot>-<pid>-<n>`. */
export function markName(dbBase: string, boot: string, pid: number, n: number): string {
  return `${dbBase}.unsynced-${boot}-${pid}-${n}`;
}

/** The mark a directory entry names for database `dbBase`, or undefined. */
export function parseMark(dbBase: string, name: string): Mark | undefined {
  const prefix = `${dbBase}.unsynced-`;
  if (!name.startsWith(prefix)) return undefined;
  const m = /^([0-9a-f-]+)-([0-9]+)-([0-9]+)$/.exec(name.slice(prefix.length));
  if (m === null) return undefined;
  return { name, boot: m[1]!, pid: Number(m[2]) };
}

export interface Judgement {
  /** The database may be torn: remove it (and its lock file) before opening. */
  readonly rebuild: boolean;
  /** Marks of dead processes of this boot: fsync the database, then remove them. */
  readonly adopt: readonly Mark[];
  /** Marks of earlier boots, removed after the database. */
  readonly stale: readonly Mark[];
}

/** What to do with the marks found at open. Pure. */
export function judgeMarks(marks: readonly Mark[], boot: string, alive: (pid: number) => boolean): Judgement {
  const stale = marks.filter((m) => m.boot !== boot);
  const adopt = marks.filter((m) => m.boot === boot && !alive(m.pid));
  return { rebuild: stale.length > 0, adopt, stale };
}

function listMarks(dbPath: string): Mark[] {
  const base = basename(dbPath);
  const out: Mark[] = [];
  for (const name of readdirSync(dirname(dbPath))) {
    const m = parseMark(base, name);
    if (m !== undefined) out.push(m);
  }
  return out;
}

/**
 * Prepares `dbPath` for opening: removes the database after a crash of the machine (under the
 * project's dotlock, `<db>.rebuild.lock`; a rebuild removes two files, so a lock older than a few
 * seconds, or one whose process is gone, is stale), and adopts the marks of dead processes.
 */
export async function checkMarksAtOpen(dbPath: string, boot: string): Promise<void> {
  const first = judgeMarks(listMarks(dbPath), boot, pidAlive);
  if (first.rebuild) {
    await withDotlock(`${dbPath}.rebuild`, { staleSecs: 10, timeoutSecs: 10 }, async () => {
      const again = judgeMarks(listMarks(dbPath), boot, pidAlive);
      if (!again.rebuild) return;
      // The database first, then the marks that condemned it (see the header).
      unlinkQuietly(dbPath);
      unlinkQuietly(`${dbPath}-lock`);
      await fsyncDir(dirname(dbPath));
      for (const m of again.stale) unlinkQuietly(join(dirname(dbPath), m.name));
    });
  }
  if (first.adopt.length === 0) return;
  let fd: number;
  try {
    fd = openSync(dbPath, 'r');
  } catch {
    return; // no database (yet): nothing of theirs to flush; the marks stay for the next open
  }
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
  for (const m of first.adopt) unlinkQuietly(join(dirname(dbPath), m.name));
}

let instances = 0;

/**
 * One writer's mark on one database: `create()` when the writer opens it, `beforeWrite()` before
 * every write transaction, `close()` when the writer closes. See the header for the mark's life.
 */
export class UnsyncedMark {
  private readonly path: string;
  private marked = false;
  private writes = 0;
  /** When the mark was last needed: its creation, or the last write. The quiet spell counts from here. */
  private lastUse = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private fd: number | undefined;
  private closed = false;

  constructor(private readonly dbPath: string, boot: string, private readonly idleMs = MARK_IDLE_MS) {
    this.path = join(dirname(dbPath), markName(basename(dbPath), boot, process.pid, ++instances));
  }

  /** Creates the mark durably, off the event loop: before the writer's first write. */
  async create(): Promise<void> {
    if (this.marked) return;
    closeSync(await openFd(this.path, 'w', 0o600));
    await fsyncDir(dirname(this.path));
    this.marked = true;
    this.lastUse = Date.now();
    this.arm(this.idleMs);
  }

  /** Counts the write; creates the mark (durably, synchronously) if it was removed. */
  beforeWrite(): void {
    this.writes++;
    this.lastUse = Date.now();
    if (!this.marked) {
      closeSync(openSync(this.path, 'w', 0o600));
      fsyncDirSync(dirname(this.path));
      this.marked = true;
    }
    this.arm(this.idleMs);
  }

  private arm(ms: number): void {
    if (this.timer !== undefined || this.flushing !== undefined || this.closed) return;
    this.timer = setTimeout(() => this.onTimer(), ms);
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    const quiet = Date.now() - this.lastUse;
    if (quiet < this.idleMs) this.arm(this.idleMs - quiet);
    else void this.flush();
  }

  /** fsyncs the database; removes the mark when no write came meanwhile. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing !== undefined) return this.flushing.then(() => this.flush());
    if (!this.marked) return Promise.resolve();
    const seen = this.writes;
    const run = (async (): Promise<void> => {
      this.fd ??= openSync(this.dbPath, 'r');
      await fsyncFd(this.fd);
      if (this.writes === seen) {
        unlinkQuietly(this.path);
        this.marked = false;
      }
    })();
    this.flushing = run.catch(() => undefined).finally(() => {
      this.flushing = undefined;
      // Writes came during the fsync (or it failed): the mark stays, and goes after the next quiet spell.
      if (this.marked) this.arm(this.idleMs);
    });
    return this.flushing;
  }

  /** Flushes and removes the mark (it stays if the fsync fails: the next open adopts it). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
