/*
 * The queue's typed errors, each carrying what the caller tells its peer.
 *
 * A write that could not be made durable (disk full, LMDB map full, I/O error, store closed)
 * is QueueWriteError: smtpd/cleanup answer `452 4.3.1 Insufficient system storage` as Postfix does
 * when cleanup cannot write the queue file, and the detail goes to the log only.
 */

export interface SmtpReply {
  code: number;
  enhanced: string;
  text: string;
}

export class QueueWriteError extends Error {
  override readonly name = 'QueueWriteError';
  readonly reply: SmtpReply = { code: 452, enhanced: '4.3.1', text: 'Insufficient system storage' };
  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options);
  }
}

/** A message the operation names is not in any of the queues it was asked to look in. */
export class QueueNotFoundError extends Error {
  override readonly name = 'QueueNotFoundError';
  constructor(readonly queueId: string) {
    super(`${queueId}: no such message in the queue`);
  }
}

/** Wraps anything a write path threw into QueueWriteError (already typed errors pass through). */
export function asWriteError(err: unknown, what: string): QueueWriteError {
  if (err instanceof QueueWriteError) return err;
  const e = err as { message?: string; code?: string; commitError?: PromiseLike<unknown> };
  // lmdb-js rejects a failed commit's writes with "Commit failed" and rejects a separate
  // `commitError` promise with the cause (EIO/ENOSPC). Nobody else awaits that promise: left
  // unhandled it would end the daemon on a full disk, so it is observed here.
  if (e?.commitError && typeof e.commitError.then === 'function') e.commitError.then(undefined, () => undefined);
  return new QueueWriteError(`${what}: ${e?.message ?? String(err)}`, { cause: err });
}
