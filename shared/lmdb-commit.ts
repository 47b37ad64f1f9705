/*
 * A failed lmdb-js commit (a full disk, EIO) rejects more promises than the one the caller holds:
 * the batch's shared commit promise (write.js `commitPromise`, created by lmdb-js itself) and the
 * error's `commitError` are rejected too, and nobody awaits them. Node ends a process on an
 * unhandled rejection, so the failure the caller does handle (a 452 for an LMTP delivery, a 451 for
 * an SMTP message) also took the whole daemon down. Found by test/mda/deliver/bad-input.test.ts
 * (64 KiB tmpfs). `observeCommit` marks both as handled when `p` fails; the cause is already logged
 * by lmdb-js and the caller still gets the rejection.
 */

/** What observeCommit needs of an lmdb-js database: its thenable for the current commit. */
export interface CommitThenable {
  readonly committed: PromiseLike<unknown>;
}

/** `p` (a write on `db`), with the other promises a failed commit rejects marked as handled. */
export function observeCommit<T>(db: CommitThenable, p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    db.committed.then(undefined, () => undefined);
    const second = (err as { commitError?: unknown } | null)?.commitError;
    if (second instanceof Promise) second.catch(() => undefined);
    throw err;
  });
}
