/*
 * pop3_lock_session: one POP3 session per mailbox at a time. Dovecot takes `dovecot-pop3-session.lock` (a
 * dotlock, waited for up to 10 seconds) in the mail root; a second session that cannot get it in time gets
 * `-ERR [IN-USE] Mailbox is locked by another POP3 session.` and is disconnected.
 *
 * This is the in-process half (sessions of this daemon exclude each other, waiters served in arrival order);
 * the cross-process half is the store's file lock, the same `dovecot-pop3-session.lock` real Dovecot takes
 * (MailStore.lockPop3Session, taken after this one in login.ts).
 */

export type ReleaseLock = () => void;

export interface SessionLocks {
  /** Resolves with a release function, or undefined when `timeoutMs` passed without getting the lock. */
  acquire(key: string, timeoutMs: number): Promise<ReleaseLock | undefined>;
}

export function inProcessSessionLocks(): SessionLocks {
  const queues = new Map<string, Array<(release: ReleaseLock) => void>>();
  const held = new Set<string>();

  const grant = (key: string): ReleaseLock => {
    held.add(key);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const q = queues.get(key);
      const next = q?.shift();
      if (q !== undefined && q.length === 0) queues.delete(key);
      if (next !== undefined) next(grant(key));
      else held.delete(key);
    };
  };

  return {
    acquire(key, timeoutMs) {
      if (!held.has(key)) return Promise.resolve(grant(key));
      return new Promise((resolve) => {
        const q = queues.get(key) ?? [];
        queues.set(key, q);
        const waiter = (release: ReleaseLock): void => {
          clearTimeout(timer);
          resolve(release);
        };
        const timer = setTimeout(() => {
          const i = q.indexOf(waiter);
          if (i >= 0) q.splice(i, 1);
          if (q.length === 0) queues.delete(key);
          resolve(undefined);
        }, timeoutMs);
        q.push(waiter);
      });
    },
  };
}
