/*
 * pop3_lock_session's file lock, shared with Dovecot 2.3 (pop3-client.c pop3_lock_session): the
 * dotlock `dovecot-pop3-session.lock` in the INBOX namespace's index root (INDEX=, else the mail
 * root), created with O_EXCL and holding `<pid>:<hostname>`; waited for up to the caller's timeout
 * (Dovecot: 10 s); stale after 300 s without a change, unless it names a live process on this host
 * (then it is held however old), at once when that process is gone; touched while held (Dovecot
 * every 300 s, we every 150 s) and removed at the end of the session. A real Dovecot pop3 and ours
 * therefore exclude each other on the same maildir. Mode 0644 (Dovecot: 0666 less the umask), so a
 * Dovecot running as another uid can still read our pid and apply the same rules.
 * Distrusts: a lock file left by a crashed process (stale rules above) and one taken over while held
 * (touch notices; release never removes somebody else's lock).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from './errors.js';
import { acquireDotlock, DOTLOCK_TIMEOUT_TEXT } from './maildir/dotlock.js';

/** Dovecot's POP3_LOCK_FNAME (lock_suffix is empty: this is the lock file itself). */
export const POP3_LOCK_FILE = 'dovecot-pop3-session.lock';
/** Dovecot's POP3_SESSION_DOTLOCK_STALE_TIMEOUT_SECS. */
export const POP3_LOCK_STALE_SECS = 300;
const REFRESH_MS = (POP3_LOCK_STALE_SECS / 2) * 1000;

export interface Pop3SessionLockOptions {
  /** How long to wait for another session's lock. */
  readonly timeoutMs: number;
  /** Called once when a refresh finds the lock gone or taken over (Dovecot ends the session). */
  readonly onLost?: () => void;
  /** How often the held lock is touched (default 150 s, half the stale timeout). */
  readonly refreshMs?: number;
}

export interface Pop3SessionLock {
  readonly path: string;
  /** Stops refreshing and removes the lock file if it is still ours. */
  release(): Promise<void>;
}

/** Takes the lock in `dir`; undefined when another session held it for the whole timeout. */
export async function takePop3SessionLock(dir: string, opts: Pop3SessionLockOptions): Promise<Pop3SessionLock | undefined> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StorageError('TEMP', 'Failed to create POP3 session lock.', `pop3_lock_session: Couldn't create root directory ${dir}: ${(err as Error).message}`);
  }
  // acquireDotlock locks `<target>.lock`.
  const target = join(dir, POP3_LOCK_FILE.slice(0, -'.lock'.length));
  let lock;
  try {
    lock = await acquireDotlock(target, { staleSecs: POP3_LOCK_STALE_SECS, timeoutSecs: opts.timeoutMs / 1000, liveOwnerHolds: true, mode: 0o644 });
  } catch (err) {
    if (err instanceof StorageError && err.clientText === DOTLOCK_TIMEOUT_TEXT) return undefined;
    throw new StorageError('TEMP', 'Failed to create POP3 session lock.', `file_dotlock_create(${join(dir, POP3_LOCK_FILE)}) failed: ${(err as Error).message}`);
  }
  const held = lock;
  let lost = false;
  const timer = setInterval(() => {
    void held.touch().then((ok) => {
      if (ok || lost) return;
      lost = true;
      clearInterval(timer);
      opts.onLost?.();
    });
  }, opts.refreshMs ?? REFRESH_MS);
  timer.unref();
  return {
    path: held.path,
    async release() {
      clearInterval(timer);
      await held.release();
    },
  };
}
