/*
 * The typed values an IMAP command line is made of, as Dovecot's imap-parser produces them (RFC 3501
 * §4 and §9: atom, quoted string, literal, NIL, parenthesised list; RFC 3516 literal8 `~{n}`; RFC 7888
 * non-synchronising `{n+}`). Commands interpret these generic values afterwards (sequence sets, fetch
 * attributes, search keys), exactly as Dovecot's command handlers do, so a grammar error inside an
 * argument is reported with the handler's text, not the tokenizer's.
 *
 * Strings keep their raw bytes: mailbox names and APPEND data may be 8-bit and must never pass
 * through a lossy decoder before the command decides what they are.
 */

export interface ImapAtom {
  readonly type: 'atom';
  /** The atom as sent (ASCII). */
  readonly value: string;
}

export interface ImapQuoted {
  readonly type: 'quoted';
  /** Unescaped content, raw bytes. */
  readonly bytes: Buffer;
  /** `bytes` decoded as UTF-8 (convenience; invalid sequences become U+FFFD). */
  readonly value: string;
}

export interface ImapLiteral {
  readonly type: 'literal';
  readonly bytes: Buffer;
  readonly value: string;
  /** `~{n}` (RFC 3516 literal8). */
  readonly binary: boolean;
  /** `{n+}` (RFC 7888): the client did not wait for a continuation. */
  readonly nonSync: boolean;
}

export interface ImapNil {
  readonly type: 'nil';
}

export interface ImapList {
  readonly type: 'list';
  readonly items: readonly ImapArg[];
}

export type ImapArg = ImapAtom | ImapQuoted | ImapLiteral | ImapNil | ImapList;

export type ImapString = ImapQuoted | ImapLiteral;

export const NIL: ImapNil = Object.freeze({ type: 'nil' });

export function atom(value: string): ImapAtom {
  return { type: 'atom', value };
}

export function quoted(value: string | Buffer): ImapQuoted {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return { type: 'quoted', bytes, value: bytes.toString('utf8') };
}

export function literal(value: string | Buffer, opts: { binary?: boolean; nonSync?: boolean } = {}): ImapLiteral {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return { type: 'literal', bytes, value: bytes.toString('utf8'), binary: opts.binary ?? false, nonSync: opts.nonSync ?? false };
}

export function list(...items: ImapArg[]): ImapList {
  return { type: 'list', items };
}

/** Dovecot's imap_arg_get_astring: atom, quoted or literal (not NIL, not a list). */
export function argAstring(arg: ImapArg | undefined): string | undefined {
  if (arg === undefined) return undefined;
  if (arg.type === 'atom') return arg.value;
  if (arg.type === 'quoted' || arg.type === 'literal') return arg.value;
  return undefined;
}

/** Dovecot's imap_arg_get_nstring: quoted, literal or NIL (null). Atoms are not strings. */
export function argNstring(arg: ImapArg | undefined): string | null | undefined {
  if (arg === undefined) return undefined;
  if (arg.type === 'nil') return null;
  if (arg.type === 'quoted' || arg.type === 'literal') return arg.value;
  return undefined;
}

/** Dovecot's imap_arg_get_atom. */
export function argAtom(arg: ImapArg | undefined): string | undefined {
  return arg?.type === 'atom' ? arg.value : undefined;
}

export function argList(arg: ImapArg | undefined): readonly ImapArg[] | undefined {
  return arg?.type === 'list' ? arg.items : undefined;
}
