/*
 * The shape of one IMAP command (DESIGN.md §4: one command per file, registered in one explicit
 * list): the states it may run in (RFC 3501 §3 and §6), its argument schema, whether pending
 * mailbox changes are announced after it, and its handler. The dispatcher (dispatch.ts) checks the
 * state and the schema before the handler runs, so a handler sees only well-formed argument types.
 */
import type { ResponseCode } from './proto/formatter.js';
import type { ImapArg } from './proto/values.js';
import type { ImapSession } from './session.js';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export const PRE_LOGIN: readonly SessionState[] = ['not-authenticated'];
export const AUTHENTICATED: readonly SessionState[] = ['authenticated', 'selected'];
export const SELECTED: readonly SessionState[] = ['selected'];
export const ANY_STATE: readonly SessionState[] = ['not-authenticated', 'authenticated', 'selected'];

/** What a handler ends with; the dispatcher writes the tagged line (and the timing suffix post-login). */
export interface Completion {
  readonly status?: 'OK' | 'NO' | 'BAD';
  readonly text: string;
  readonly code?: ResponseCode;
  /** The handler already wrote its tagged reply (STARTTLS must answer before the handshake). */
  readonly silent?: boolean;
  /**
   * A login whose session moves to a per-uid mail worker: run with the command's tag instead of
   * writing the tagged reply (the worker writes it once the mail is open).
   */
  readonly handOff?: (tag: string) => Promise<void>;
}

/**
 * `astring` atom/quoted/literal; `string` quoted/literal; `atom`; `list`; `nstring` string or NIL;
 * `any` anything.
 */
export type ArgKind = 'astring' | 'string' | 'atom' | 'list' | 'nstring' | 'any';

export interface ArgSchema {
  readonly required: readonly ArgKind[];
  readonly optional?: readonly ArgKind[];
  /** Any number of further arguments of any kind. */
  readonly rest?: boolean;
  /** BAD text for too few arguments (Dovecot: "Missing arguments" for most commands). */
  readonly missing?: string;
  /** BAD text for a wrong kind or too many (Dovecot: "Invalid arguments"). */
  readonly invalid?: string;
}

export interface CommandSpec {
  /** Upper case; `UID FETCH` for UID variants. */
  readonly name: string;
  readonly states: readonly SessionState[];
  readonly args: ArgSchema;
  /**
   * `full`: announce expunges, new messages and flag changes after the command. `no-expunge`: the
   * command may not be followed by EXPUNGE (RFC 3501 §7.4.1: FETCH, STORE, SEARCH by sequence
   * number), so nothing is announced.
   */
  readonly sync: 'full' | 'no-expunge';
  run(ctx: CommandContext): Promise<Completion>;
}

export interface CommandContext {
  readonly session: ImapSession;
  readonly tag: string;
  readonly name: string;
  readonly uid: boolean;
  readonly args: readonly ImapArg[];
}

export const OK = (text: string, code?: ResponseCode): Completion => ({ status: 'OK', text, ...(code ? { code } : {}) });
