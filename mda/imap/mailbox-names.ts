/*
 * Mailbox names between the wire and the storage API: the client's astring is modified UTF-7
 * (RFC 3501 §5.1.3) and becomes a UTF-8 storage name; `INBOX` is case-insensitive (§5.1); a trailing
 * hierarchy separator is dropped (CREATE `foo.` creates `foo`, as Dovecot). Outgoing names are
 * encoded back and written as Dovecot writes them (an atom when possible, else quoted or literal).
 * Distrusts: the name bytes (8-bit is refused: without UTF8=ACCEPT names are 7-bit mUTF-7).
 */
import { ImapError } from './errors.js';
import { formatAstring } from './proto/formatter.js';
import { decodeMutf7, encodeMutf7 } from './proto/mutf7.js';
import type { ImapArg } from './proto/values.js';

export function rawName(arg: ImapArg | undefined): string {
  if (arg === undefined) return '';
  if (arg.type === 'atom') return arg.value;
  if (arg.type === 'quoted' || arg.type === 'literal') return arg.bytes.toString('latin1');
  return '';
}

/** Client name → storage name; throws NO for invalid mUTF-7. */
export function mailboxArg(arg: ImapArg | undefined, separator: string): string {
  const raw = rawName(arg);
  const name = decodeMutf7(raw);
  if (name === undefined) throw new ImapError('NO', 'Mailbox name is not valid mUTF-7', { name: 'CANNOT' });
  return normalizeName(name, separator);
}

export function normalizeName(name: string, separator: string): string {
  let n = name;
  if (n.length > 1 && n.endsWith(separator)) n = n.slice(0, -separator.length);
  if (n.toUpperCase() === 'INBOX') return 'INBOX';
  if (n.toUpperCase().startsWith(`INBOX${separator}`)) return `INBOX${n.slice(5)}`;
  return n;
}

/** Storage name → wire form (mUTF-7 astring). */
export function formatMailbox(name: string): string {
  return formatAstring(encodeMutf7(name));
}
