/*
 * IMAP's typed errors and its one map from storage error kinds to tagged replies (Dovecot's
 * imap-commands-util.c / mail-error.h):
 *   NOTFOUND → NO [NONEXISTENT]   EXISTS → NO [ALREADYEXISTS]   NOQUOTA → NO [OVERQUOTA]
 *   EXPUNGED → NO [EXPUNGEISSUED] PERM → NO [NOPERM]            NOTPOSSIBLE, PARAMS → NO [CANNOT]
 *   TEMP → NO [SERVERBUG] "Internal error occurred. Refer to server log for more information.
 *          [YYYY-MM-DD hh:mm:ss]" (the detail goes to the log), or NO [UNAVAILABLE] for a
 *          temporary failure that has its own client text.
 * Anything that is neither an ImapError nor a StorageError is treated as TEMP (unknown = temporary).
 */
import type { ResponseCode } from './proto/formatter.js';
import { INTERNAL_ERROR_TEXT, isStorageError, type StorageError } from '../storage/api.js';

/** A reply a handler wants to end its command with (or an untagged BYE when fatal). */
export class ImapError extends Error {
  override readonly name = 'ImapError';
  constructor(
    readonly status: 'NO' | 'BAD',
    readonly text: string,
    readonly code?: ResponseCode,
    /** Log-only detail (never sent). */
    readonly logDetail?: string,
  ) {
    super(text);
  }
}

export const no = (text: string, code?: string): ImapError => new ImapError('NO', text, code === undefined ? undefined : { name: code });
export const bad = (text: string): ImapError => new ImapError('BAD', text);

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Dovecot's MAIL_ERRSTR_CRITICAL_MSG_STAMP. */
export function internalErrorText(now = new Date()): string {
  return `${INTERNAL_ERROR_TEXT} [${stamp(now)}]`;
}

export interface MappedError {
  readonly error: ImapError;
  /** Set when the failure must be logged (internal errors). */
  readonly log: string | undefined;
}

function fromStorage(e: StorageError): MappedError {
  const code = (name: string) => ({ name });
  switch (e.kind) {
    case 'NOTFOUND':
      return { error: new ImapError('NO', e.clientText, code('NONEXISTENT')), log: undefined };
    case 'EXISTS':
      return { error: new ImapError('NO', e.clientText, code('ALREADYEXISTS')), log: undefined };
    case 'NOQUOTA':
      return { error: new ImapError('NO', e.clientText, code('OVERQUOTA')), log: undefined };
    case 'EXPUNGED':
      return { error: new ImapError('NO', e.clientText, code('EXPUNGEISSUED')), log: undefined };
    case 'PERM':
      return { error: new ImapError('NO', e.clientText, code('NOPERM')), log: undefined };
    case 'NOTPOSSIBLE':
    case 'PARAMS':
      return { error: new ImapError('NO', e.clientText, code('CANNOT')), log: undefined };
    case 'TEMP':
      if (e.clientText !== INTERNAL_ERROR_TEXT) return { error: new ImapError('NO', e.clientText, code('UNAVAILABLE')), log: e.logDetail };
      return { error: new ImapError('NO', internalErrorText(), code('SERVERBUG')), log: e.logDetail };
  }
}

/** The one place a thrown value becomes an IMAP reply. */
export function mapError(err: unknown): MappedError {
  if (err instanceof ImapError) return { error: err, log: err.logDetail };
  if (isStorageError(err)) return fromStorage(err);
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { error: new ImapError('NO', internalErrorText(), { name: 'SERVERBUG' }), log: detail };
}
