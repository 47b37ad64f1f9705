/*
 * Protocol-neutral storage errors, the same kinds as Dovecot's `enum mail_error`
 * (mail-error.h): TEMP, NOTFOUND, EXISTS, NOQUOTA, EXPUNGED, PERM, NOTPOSSIBLE, PARAMS.
 * IMAP, POP3 and LMTP each map a kind to their reply in one place.
 *
 * Every error keeps two texts: `clientText` is safe to show to a client (Dovecot's wording where
 * one exists); `logDetail` carries paths, errno and the cause for the log only. Anything we cannot
 * classify is TEMP with Dovecot's generic text, so an unknown failure becomes "try again later"
 * (451 / NO [SERVERBUG]), never a permanent rejection.
 */

export type StorageErrorKind = 'TEMP' | 'NOTFOUND' | 'EXISTS' | 'NOQUOTA' | 'EXPUNGED' | 'PERM' | 'NOTPOSSIBLE' | 'PARAMS';

/** Dovecot's MAIL_ERRSTR_CRITICAL_MSG. */
export const INTERNAL_ERROR_TEXT = 'Internal error occurred. Refer to server log for more information.';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly kind: StorageErrorKind,
    readonly clientText: string,
    readonly logDetail: string = clientText,
    options?: { cause?: unknown },
  ) {
    super(`${kind}: ${logDetail}`, options);
  }
}

/**
 * A dotlock that is no longer ours when we come to use it: another process took it over as stale,
 * or the directory it was in was deleted or renamed away (another session's DELETE or RENAME) and
 * a new one took its place. maildir/store.ts tells the second case apart.
 */
export class LockLostError extends StorageError {
  constructor(lockPath: string) {
    super('TEMP', 'Lock was lost', `dotlock ${lockPath} was replaced by another process`);
  }
}

/**
 * What an operation meets when its mailbox is deleted or renamed away under it by another session:
 * a path gone (ENOENT), or its uidlist lock replaced by the directory that took the mailbox's place.
 * Whether that is what happened needs the mailbox's state too (maildir/mailbox.ts vanishedUnder).
 */
export function isVanishing(err: unknown): boolean {
  return err instanceof LockLostError || hasCode(err, 'ENOENT');
}

/** Dovecot's text when a mailbox vanished under an operation (mailbox_set_deleted: MAIL_ERROR_NOTFOUND). */
export const DELETED_UNDER_US_TEXT = 'Mailbox was deleted under us';

export function isStorageError(err: unknown): err is StorageError {
  return err instanceof StorageError;
}

/**
 * Classifies anything thrown into a StorageError. `context` (e.g. `rename(/a, /b)`) goes to the
 * log detail only.
 */
export function toStorageError(err: unknown, context: string): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code;
  const detail = `${context}: ${e?.message ?? String(err)}`;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new StorageError('NOQUOTA', 'Not enough disk space', detail, { cause: err });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new StorageError('PERM', 'Permission denied', detail, { cause: err });
    default:
      return new StorageError('TEMP', INTERNAL_ERROR_TEXT, detail, { cause: err });
  }
}

/** Whether `err`, or an error it was made from (`cause`), is a system error with errno `code`. */
function hasCode(err: unknown, code: string): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as Error).cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === code) return true;
  }
  return false;
}

export function notFound(name: string): StorageError {
  return new StorageError('NOTFOUND', `Mailbox doesn't exist: ${name}`);
}

export function params(text: string, detail?: string): StorageError {
  return new StorageError('PARAMS', text, detail ?? text);
}
