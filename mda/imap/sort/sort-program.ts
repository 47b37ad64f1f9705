/*
 * SORT criteria (RFC 5256 §3 `sort-criteria`, RFC 5957 DISPLAYFROM/DISPLAYTO) parsed as Dovecot
 * 2.3's cmd-sort.c does: names are case-insensitive; REVERSE toggles for the next key (REVERSE
 * REVERSE cancels); a key already given is ignored (with its REVERSE); the texts of the errors are
 * Dovecot's ("Empty sort program.", "Unknown sort argument: X", "Sort list ends with REVERSE.",
 * "Invalid sort list argument.").
 * Distrusts: the client's list (any argument types).
 */
import { ImapSyntaxError } from '../proto/errors.js';
import type { ImapArg } from '../proto/values.js';

export type SortKeyName = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

export interface SortKey {
  readonly key: SortKeyName;
  readonly reverse: boolean;
}

const NAMES: readonly SortKeyName[] = ['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO'];

export function parseSortProgram(items: readonly ImapArg[]): SortKey[] {
  if (items.length === 0) throw new ImapSyntaxError('Empty sort program.');
  const out: SortKey[] = [];
  let reverse = false;
  let lastReverse = false;
  let i = 0;
  for (; i < items.length; i++) {
    const a = items[i]!;
    if (a.type !== 'atom' && a.type !== 'quoted' && a.type !== 'literal') break;
    const word = a.value.toUpperCase();
    lastReverse = word === 'REVERSE';
    if (lastReverse) {
      reverse = !reverse;
      continue;
    }
    const name = NAMES.find((n) => n === word);
    if (name === undefined) throw new ImapSyntaxError(`Unknown sort argument: ${a.value}`);
    if (!out.some((k) => k.key === name)) out.push({ key: name, reverse });
    reverse = false;
  }
  if (lastReverse) throw new ImapSyntaxError('Sort list ends with REVERSE.');
  if (i < items.length) throw new ImapSyntaxError('Invalid sort list argument.');
  return out;
}
