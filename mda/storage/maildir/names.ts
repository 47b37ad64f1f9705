/*
 * Mailbox names: validation and the mapping between a client-visible name (UTF-8, components
 * joined by the namespace separator) and its directory (Dovecot 2.3 mailbox-list-maildir.c,
 * mailbox-list-fs.c). Pure functions.
 *
 * Maildir++: `Work.Sub` -> `<root>/.Work.Sub`; INBOX is the root. LAYOUT=fs: `<root>/Work/Sub`.
 * Components are written in modified UTF-7 unless the location has the UTF-8 flag.
 *
 * Distrusts: every name (it comes from IMAP clients and Sieve scripts). Refused with NameError
 * (mapped to PARAMS): empty names or components, `/` (Dovecot: "Name must not have '/'
 * characters"), `.` inside a Maildir++ component when the separator is not `.`, `..`/`.`
 * components, `~` at the start, `*` `%`, control characters, more than MAX_DEPTH levels, and
 * components longer than MAX_COMPONENT_BYTES on disk. With that, a name can only ever map to a
 * directory directly below the mail root (Maildir++) or inside it (fs).
 */
import { decodeMutf7, encodeMutf7 } from './mutf7.js';
import type { MaildirLayout } from './location.js';

export const MAX_DEPTH = 16;
export const MAX_COMPONENT_BYTES = 255;
export const MAX_NAME_BYTES = 1024;

export class NameError extends Error {
  override readonly name = 'NameError';
}

export interface NameRules {
  readonly layout: MaildirLayout;
  /** Hierarchy separator clients see (namespace `separator`; default `.`). */
  readonly separator: string;
  readonly utf8: boolean;
}

/** True for "INBOX" in any case, the one case-insensitive name (RFC 3501 5.1). */
export function isInbox(name: string): boolean {
  return name.toUpperCase() === 'INBOX';
}

/** Upper-cases a leading INBOX component, as Dovecot does, so `inbox.x` and `INBOX.x` are one name. */
export function normalizeName(name: string, sep: string): string {
  if (isInbox(name)) return 'INBOX';
  if (name.length > 5 && name.slice(0, 5).toUpperCase() === 'INBOX' && name[5] === sep) return `INBOX${name.slice(5)}`;
  return name;
}

/** Validates a client name and returns its components (already normalised). */
export function splitName(name: string, rules: NameRules): string[] {
  if (name === '') throw new NameError('Empty mailbox name');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new NameError('Mailbox name too long');
  if (/[\x00-\x1f\x7f]/.test(name)) throw new NameError('Name must not have control characters');
  if (name.includes('/') && rules.separator !== '/') throw new NameError("Name must not have '/' characters");
  if (name.includes('*') || name.includes('%')) throw new NameError("Name must not have '*' or '%' characters");
  if (name.startsWith('~')) throw new NameError("Name must not begin with '~'");
  const norm = normalizeName(name, rules.separator);
  const parts = norm.split(rules.separator);
  if (parts.length > MAX_DEPTH) throw new NameError('Mailbox name has too many hierarchy levels');
  for (const p of parts) {
    if (p === '') throw new NameError('Name must not have empty hierarchy levels');
    if (p === '.' || p === '..') throw new NameError("Name must not have '.' or '..' hierarchy levels");
    if (rules.layout === 'maildir++' && p.includes('.')) throw new NameError("Name must not have '.' characters");
    if (rules.layout === 'fs' && ['cur', 'new', 'tmp'].includes(p)) throw new NameError(`Name must not have '${p}' hierarchy levels`);
    if (Buffer.byteLength(encodeComponent(p, rules)) > MAX_COMPONENT_BYTES) throw new NameError('Mailbox name component too long');
  }
  return parts;
}

export function encodeComponent(part: string, rules: Pick<NameRules, 'utf8'>): string {
  return rules.utf8 ? part : encodeMutf7(part);
}

export function decodeComponent(part: string, rules: Pick<NameRules, 'utf8'>): string {
  return rules.utf8 ? part : decodeMutf7(part);
}

/**
 * Directory path of a non-INBOX mailbox relative to the root: `.Work.Sub` (Maildir++) or
 * `Work/Sub` (fs). INBOX children in Maildir++ are `.INBOX.x`, as in Dovecot.
 */
export function relativeDir(parts: readonly string[], rules: NameRules): string {
  const enc = parts.map((p) => encodeComponent(p, rules));
  return rules.layout === 'maildir++' ? `.${enc.join('.')}` : enc.join('/');
}

/**
 * The client name of a Maildir++ directory entry (`.Work.Sub` -> `Work.Sub`), or undefined for
 * entries that are not mailboxes (`.`, `..`, `..deleted`, names that do not decode).
 */
export function nameFromMaildirPlusPlusDir(entry: string, rules: NameRules): string | undefined {
  if (!entry.startsWith('.') || entry.length < 2 || entry.startsWith('..')) return undefined;
  const parts = entry.slice(1).split('.');
  if (parts.some((p) => p === '')) return undefined;
  try {
    const decoded = parts.map((p) => decodeComponent(p, rules));
    if (rules.separator !== '.' && decoded.some((p) => p.includes(rules.separator))) return undefined;
    return decoded.join(rules.separator);
  } catch {
    return undefined;
  }
}
