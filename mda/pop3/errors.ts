/*
 * POP3's one error map. A Pop3Error carries the reply line the client sees (RFC 2449 response codes
 * `[SYS/TEMP]`, `[SYS/PERM]`, `[IN-USE]`, `[AUTH]`) apart from the detail that goes to the log.
 *
 * Storage kinds map as Dovecot's client_send_storage_error(): TEMP, NOQUOTA and a lock held elsewhere are
 * `-ERR [SYS/TEMP] <text>`, every other kind is `-ERR [SYS/PERM] <text>`. The text is the StorageError's
 * client text (already Dovecot's generic "Internal error occurred…" for anything unclassified); anything that
 * is not a StorageError at all is treated as TEMP with that generic text ("unknown means temporary").
 */
import { INTERNAL_ERROR_TEXT, isStorageError } from '../storage/api.js';

export type Pop3RespCode = 'SYS/TEMP' | 'SYS/PERM' | 'IN-USE' | 'AUTH';

export class Pop3Error extends Error {
  override readonly name = 'Pop3Error';
  constructor(
    readonly code: Pop3RespCode | undefined,
    readonly clientText: string,
    readonly logDetail: string = clientText,
    options?: { cause?: unknown },
  ) {
    super(logDetail, options);
  }

  /** The `-ERR …` line without CRLF. */
  get reply(): string {
    return `-ERR ${this.code !== undefined ? `[${this.code}] ` : ''}${this.clientText}`;
  }
}

/** Converts anything thrown by the storage into the reply Dovecot would give. */
export function pop3ErrorFrom(err: unknown): Pop3Error {
  if (err instanceof Pop3Error) return err;
  if (isStorageError(err)) {
    const temp = err.kind === 'TEMP' || err.kind === 'NOQUOTA';
    return new Pop3Error(temp ? 'SYS/TEMP' : 'SYS/PERM', err.clientText, err.logDetail, { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new Pop3Error('SYS/TEMP', INTERNAL_ERROR_TEXT, detail, { cause: err });
}

/** pop3_lock_session: another session holds the lock (Dovecot's text). */
export const lockedError = (): Pop3Error =>
  new Pop3Error('IN-USE', 'Mailbox is locked by another POP3 session.', 'Couldn\'t lock POP3 session');
