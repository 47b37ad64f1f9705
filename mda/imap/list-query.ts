/*
 * LIST's arguments (RFC 3501 §6.3.8, RFC 5258 LIST-EXTENDED, RFC 6154 SPECIAL-USE, RFC 5819
 * LIST-STATUS) and the mailbox matching they ask for:
 *   LIST [(selection-options)] reference (pattern | (patterns…)) [RETURN (return-options)]
 * Selection: SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE. Return: SUBSCRIBED, CHILDREN,
 * SPECIAL-USE, STATUS (items). Patterns: `*` matches anything, `%` anything but the separator;
 * INBOX matches case-insensitively. Reference and pattern are joined as Dovecot joins them.
 * Distrusts: option names (unknown ones are `BAD Invalid … option`), pattern counts (bounded by the
 * line length).
 */
import { ImapSyntaxError } from './proto/errors.js';
import { decodeMutf7 } from './proto/mutf7.js';
import type { ImapArg } from './proto/values.js';
import { rawName } from './mailbox-names.js';
import { parseStatusItems, type StatusName } from './status-items.js';

export interface ListQuery {
  readonly extended: boolean;
  readonly selSubscribed: boolean;
  readonly selSpecialUse: boolean;
  readonly recursiveMatch: boolean;
  readonly retSubscribed: boolean;
  readonly retChildren: boolean;
  readonly retSpecialUse: boolean;
  readonly retStatus: StatusName[] | undefined;
  readonly reference: string;
  readonly patterns: string[];
}

function atoms(arg: ImapArg, what: string): string[] {
  if (arg.type !== 'list') throw new ImapSyntaxError(`Invalid ${what} options`);
  return arg.items.map((a) => {
    if (a.type !== 'atom') throw new ImapSyntaxError(`Invalid ${what} options`);
    return a.value.toUpperCase();
  });
}

export function parseListQuery(args: readonly ImapArg[]): ListQuery {
  let i = 0;
  let extended = false;
  let selSubscribed = false;
  let selSpecialUse = false;
  let recursiveMatch = false;
  if (args[0]?.type === 'list') {
    extended = true;
    for (const o of atoms(args[0], 'selection')) {
      if (o === 'SUBSCRIBED') selSubscribed = true;
      else if (o === 'SPECIAL-USE') selSpecialUse = true;
      else if (o === 'RECURSIVEMATCH') recursiveMatch = true;
      else if (o !== 'REMOTE') throw new ImapSyntaxError(`Invalid list selection option: ${o}`);
    }
    i++;
  }
  const refArg = args[i++];
  const patArg = args[i++];
  if (refArg === undefined || refArg.type === 'list' || refArg.type === 'nil') throw new ImapSyntaxError('Invalid reference');
  if (patArg === undefined || patArg.type === 'nil') throw new ImapSyntaxError('Invalid pattern');
  if (recursiveMatch && !selSubscribed) throw new ImapSyntaxError('RECURSIVEMATCH must not be the only selection.');
  const decode = (s: string) => {
    const d = decodeMutf7(s);
    if (d === undefined) throw new ImapSyntaxError('Invalid mUTF-7 pattern');
    return d;
  };
  const reference = decode(rawName(refArg));
  let patterns: string[];
  if (patArg.type === 'list') {
    extended = true;
    patterns = patArg.items.map((p) => decode(rawName(p)));
  } else patterns = [decode(rawName(patArg))];
  let retSubscribed = false;
  let retChildren = false;
  let retSpecialUse = false;
  let retStatus: StatusName[] | undefined;
  if (i < args.length) {
    const kw = args[i++];
    if (kw?.type !== 'atom' || kw.value.toUpperCase() !== 'RETURN' || args[i] === undefined) throw new ImapSyntaxError('Unexpected arguments');
    extended = true;
    const ret = args[i++]!;
    if (ret.type !== 'list') throw new ImapSyntaxError('Invalid return options');
    for (let j = 0; j < ret.items.length; j++) {
      const a = ret.items[j]!;
      const o = a.type === 'atom' ? a.value.toUpperCase() : '';
      if (o === 'SUBSCRIBED') retSubscribed = true;
      else if (o === 'CHILDREN') retChildren = true;
      else if (o === 'SPECIAL-USE') retSpecialUse = true;
      else if (o === 'STATUS') retStatus = parseStatusItems(ret.items[++j]);
      else throw new ImapSyntaxError(`Unknown return option: ${o}`);
    }
    if (i < args.length) throw new ImapSyntaxError('Unexpected arguments');
  }
  return { extended, selSubscribed, selSpecialUse, recursiveMatch, retSubscribed, retChildren, retSpecialUse, retStatus, reference, patterns };
}

/** Dovecot's reference+pattern join: a pattern starting with the separator ignores nothing; plain concatenation. */
export function joinPattern(reference: string, pattern: string): string {
  return reference + pattern;
}

/** A matcher for one pattern (RFC 3501 §6.3.8 wildcards). */
export function patternMatcher(pattern: string, separator: string): (name: string) => boolean {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const src = [...pattern].map((c) => (c === '*' ? '.*' : c === '%' ? `[^${esc(separator)}]*` : esc(c))).join('');
  const re = new RegExp(`^${src}$`, 's');
  const inbox = new RegExp(`^${src}$`, 'si');
  return (name) => re.test(name) || ((name === 'INBOX' || name.startsWith(`INBOX${separator}`)) && inbox.test(name));
}
