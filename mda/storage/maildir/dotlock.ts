/*
 * Dot-locks as Dovecot 2.3 uses them for `dovecot-uidlist.lock`, `dovecot-keywords.lock` and
 * `subscriptions.lock` (file-dotlock.c with dotlock_use_excl = yes):
 * - the lock is `<file>.lock`, created with O_CREAT|O_EXCL, holding `<pid>:<hostname>`;
 * - it is stale when not modified for `staleSecs` (120 s for the uidlist and keywords), or at once
 *   when it names a process on this host that no longer exists; a stale lock is removed and retried;
 * - "replace" mode writes the new content into the lock file and renames it over the target, so
 *   the new file appears atomically and the lock is released in the same step;
 * - `liveOwnerHolds` applies file-dotlock.c's check_lock for long-held locks (the POP3 session
 *   lock): a lock naming a live process on this host other than us is never stale whatever its
 *   age; one naming a dead process, or ourselves (a leftover: "it's us … recreate it"), is stale
 *   at once; the age rule is for locks without a local pid. touch() keeps a held lock fresh.
 *
 * Distrusts: lock files left by crashed processes (handled as stale) and a lock that vanished or
 * was replaced under us (release never removes somebody else's lock).
 */
import { closeSync, fstatSync, ftruncateSync, readFileSync, renameSync, statSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { fsyncDir, fsyncFd, openFd, unlinkQuietly, writeAllSync } from '../../../shared/fs/atomic.js';
import { pidAlive } from '../../../shared/fs/pid.js';
import { LockLostError, StorageError } from '../errors.js';

export interface DotlockOptions {
  /** Seconds after which an unmodified lock is considered abandoned (Dovecot: 120). */
  readonly staleSecs?: number;
  /** Give up (TEMP) after this many seconds of waiting. */
  readonly timeoutSecs?: number;
  readonly mode?: number;
  /** Dovecot's pid rule for long-held locks (see the header). */
  readonly liveOwnerHolds?: boolean;
}

/** The TEMP StorageError's client text when the wait for a lock timed out. */
export const DOTLOCK_TIMEOUT_TEXT = 'Timeout while waiting for lock';

export interface Dotlock {
  readonly path: string;
  /** Writes `data` into the lock file, fsyncs it and renames it over the target (releases). */
  replace(data: string | Uint8Array): Promise<void>;
  /** Removes the lock if it is still ours. */
  release(): Promise<void>;
  /** Updates the lock's mtime (Dovecot's file_dotlock_touch); false when it is no longer ours. */
  touch(): Promise<boolean>;
}

/** The pid of a lock naming a process on this host, else undefined. */
function localPid(lockPath: string): number | undefined {
  try {
    const m = /^([0-9]+):(.*)$/.exec(readFileSync(lockPath, 'utf8').trim());
    if (m !== null && m[2] === hostname() && Number(m[1]) > 0) return Number(m[1]);
  } catch {
    /* unreadable or gone: let the next attempt decide */
  }
  return undefined;
}

function isStale(lockPath: string, staleSecs: number, liveOwnerHolds: boolean): boolean {
  const st = statSync(lockPath, { throwIfNoEntry: false });
  if (st === undefined) return false;
  if (liveOwnerHolds) {
    const pid = localPid(lockPath);
    if (pid !== undefined) return pid === process.pid || !pidAlive(pid);
    return Date.now() - st.mtimeMs > staleSecs * 1000;
  }
  if (Date.now() - st.mtimeMs > staleSecs * 1000) return true;
  const pid = localPid(lockPath);
  return pid !== undefined && pid !== process.pid && !pidAlive(pid);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Takes `<target>.lock`; waits (polling) while someone else holds a fresh lock. The file-system
 * calls are synchronous (docs/architecture.md, "Local file-system calls") except the lock's
 * creation and replace()'s fsyncs, which go to the thread pool.
 */
export async function acquireDotlock(target: string, opts: DotlockOptions = {}): Promise<Dotlock> {
  const lockPath = `${target}.lock`;
  const staleSecs = opts.staleSecs ?? 120;
  const deadline = Date.now() + (opts.timeoutSecs ?? 120) * 1000;
  let delay = 5;
  let fd: number | undefined;
  for (;;) {
    try {
      fd = await openFd(lockPath, 'wx', opts.mode ?? 0o600);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (isStale(lockPath, staleSecs, opts.liveOwnerHolds === true)) {
      unlinkQuietly(lockPath);
      continue;
    }
    if (Date.now() > deadline) {
      throw new StorageError('TEMP', DOTLOCK_TIMEOUT_TEXT, `dotlock ${lockPath}: timed out after ${opts.timeoutSecs ?? 120}s`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
  let heldFd: number | undefined = fd;
  /** Closes the descriptor once: a second close could close a descriptor reused by someone else. */
  const closeOnce = (): void => {
    if (heldFd === undefined) return;
    const d = heldFd;
    heldFd = undefined;
    closeSync(d);
  };
  let ino: number;
  try {
    writeAllSync(fd, Buffer.from(`${process.pid}:${hostname()}`));
    ino = fstatSync(fd).ino;
  } catch (err) {
    closeOnce();
    unlinkQuietly(lockPath);
    throw err;
  }
  let done = false;
  const stillOurs = (): boolean => statSync(lockPath, { throwIfNoEntry: false })?.ino === ino;
  return {
    path: lockPath,
    async replace(data) {
      if (done) throw new Error('dotlock already released');
      done = true;
      try {
        ftruncateSync(fd, 0);
        writeAllSync(fd, typeof data === 'string' ? Buffer.from(data) : data, 0);
        // DURABILITY: the new content must be on disk before the rename makes it the real file;
        // a crash before this point leaves the old file and a stale lock, never a torn file.
        await fsyncFd(fd);
        closeOnce();
        if (!stillOurs()) throw new LockLostError(lockPath);
        renameSync(lockPath, target);
        await fsyncDir(dirname(target));
      } catch (err) {
        try {
          closeOnce();
        } catch {
          /* already failing */
        }
        if (stillOurs()) unlinkQuietly(lockPath);
        throw err;
      }
    },
    async release() {
      if (done) return;
      done = true;
      try {
        closeOnce();
      } catch {
        /* the lock file is removed below either way */
      }
      if (stillOurs()) unlinkQuietly(lockPath);
    },
    async touch() {
      if (done || !stillOurs()) return false;
      const now = new Date();
      try {
        utimesSync(lockPath, now, now);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Runs `fn` under the lock, always releasing it (unless `fn` used replace()). */
export async function withDotlock<T>(target: string, opts: DotlockOptions, fn: (lock: Dotlock) => Promise<T>): Promise<T> {
  const lock = await acquireDotlock(target, opts);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
