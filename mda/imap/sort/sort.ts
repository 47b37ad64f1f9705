/*
 * Orders messages by a sort program (RFC 5256 §3) as Dovecot 2.3 does: keys compared in turn,
 * strings by code point (= UTF-8 byte order, Dovecot's strcmp over casemapped text), numbers
 * numerically, REVERSE flips one key; when every key ties, the lower sequence number comes first
 * whatever the REVERSE flags (Dovecot's final MAIL_SORT_END comparison is never reversed).
 * Pure.
 */
import { compareCasemapped } from './casemap.js';
import type { SortKey } from './sort-program.js';
import type { SortValue } from './sort-values.js';

export interface SortItem {
  readonly seq: number;
  readonly values: readonly SortValue[];
}

function cmpValue(a: SortValue, b: SortValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  return compareCasemapped(String(a), String(b));
}

/** Sorts items (values in program order) and returns them in the new order. */
export function sortItems<T extends SortItem>(program: readonly SortKey[], items: readonly T[]): T[] {
  return [...items].sort((x, y) => {
    for (let i = 0; i < program.length; i++) {
      const c = cmpValue(x.values[i]!, y.values[i]!);
      if (c !== 0) return program[i]!.reverse ? -c : c;
    }
    return x.seq - y.seq;
  });
}
