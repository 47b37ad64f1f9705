/*
 * Flag lists from clients (RFC 3501 §9 `flag-list`, `flag-keyword`): system flags are matched
 * case-insensitively and spelled canonically; keywords are atoms kept as sent. `\Recent` may not be
 * stored (Dovecot ignores it in STORE, refuses it in APPEND); `\*` is not a flag.
 * Distrusts: every item (must be an atom; keywords limited to ATOM-CHARs by the parser).
 */
import { SYSTEM_FLAGS } from '../storage/api.js';
import { ImapSyntaxError } from './proto/errors.js';
import type { ImapArg } from './proto/values.js';

export function canonicalFlag(f: string): string {
  if (!f.startsWith('\\')) return f;
  const sys = SYSTEM_FLAGS.find((s) => s.toLowerCase() === f.toLowerCase());
  if (sys !== undefined) return sys;
  if (f.toLowerCase() === '\\recent') return '\\Recent';
  return f;
}

/** The flags of a list; `allowRecent` keeps \Recent (STORE ignores it later). */
export function parseFlagList(items: readonly ImapArg[], allowRecent: boolean): string[] {
  const out: string[] = [];
  for (const a of items) {
    if (a.type !== 'atom') throw new ImapSyntaxError('Flags list contains non-atoms.');
    const f = canonicalFlag(a.value);
    if (f === '\\*') throw new ImapSyntaxError(`Invalid system flag ${a.value}`);
    if (f === '\\Recent' && !allowRecent) throw new ImapSyntaxError('Invalid system flag \\Recent');
    if (f.startsWith('\\') && f !== '\\Recent' && !(SYSTEM_FLAGS as readonly string[]).includes(f)) throw new ImapSyntaxError(`Invalid system flag ${a.value}`);
    if (!out.includes(f)) out.push(f);
  }
  return out;
}
