/*
 * Sequence sets (RFC 3501 §9 `sequence-set`, RFC 5182 `$`): `1`, `2:4`, `*`, `5:*`, `1,3:5,9`, `$`.
 * Numbers are nz-number (1..4294967295, no leading zero is required to be rejected by Dovecot, but
 * 0 is). `$` stands alone, never inside a list (Dovecot answers "Invalid messageset" for `1,$`).
 * Distrusts: sizes (capped at 2^32-1), huge lists (bounded by the line length upstream).
 */
import { COMMAND_TEXT, ImapSyntaxError } from './errors.js';

/** `*` is represented as the number 0 here ("the largest number in use"), resolved by the caller. */
export const STAR = 0;

export interface SeqRange {
  readonly start: number;
  readonly end: number;
}

export type SequenceSet = { readonly type: 'saved' } | { readonly type: 'ranges'; readonly ranges: readonly SeqRange[] };

const MAX = 4294967295;

function seqNumber(s: string): number {
  if (s === '*') return STAR;
  if (!/^[0-9]{1,10}$/.test(s)) throw new ImapSyntaxError(COMMAND_TEXT.invalidMessageset);
  const n = Number(s);
  if (n === 0 || n > MAX) throw new ImapSyntaxError(COMMAND_TEXT.invalidMessageset);
  return n;
}

export function parseSequenceSet(text: string): SequenceSet {
  if (text === '$') return { type: 'saved' };
  if (text === '') throw new ImapSyntaxError(COMMAND_TEXT.invalidMessageset);
  const ranges: SeqRange[] = [];
  for (const item of text.split(',')) {
    const colon = item.indexOf(':');
    if (colon < 0) {
      const n = seqNumber(item);
      ranges.push({ start: n, end: n });
    } else {
      ranges.push({ start: seqNumber(item.slice(0, colon)), end: seqNumber(item.slice(colon + 1)) });
    }
  }
  return { type: 'ranges', ranges };
}

/** True if `text` looks like a sequence set (used by SEARCH to tell a set from a key). */
export function isSequenceSet(text: string): boolean {
  return text === '$' || /^(?:[0-9]+|\*)(?::(?:[0-9]+|\*))?(?:,(?:[0-9]+|\*)(?::(?:[0-9]+|\*))?)*$/.test(text);
}

/**
 * Expands a set against the highest number in use (`*`); ranges are normalised (a:b == b:a) and the
 * result is sorted and de-duplicated. Numbers above `max` are dropped, as IMAP requires for UIDs.
 */
export function expandSequenceSet(set: SequenceSet, max: number, saved: readonly number[] = []): number[] {
  if (set.type === 'saved') return [...saved];
  const out = new Set<number>();
  for (const r of set.ranges) {
    let a = r.start === STAR ? max : r.start;
    let b = r.end === STAR ? max : r.end;
    if (a > b) [a, b] = [b, a];
    for (let n = a; n <= Math.min(b, max); n++) out.add(n);
  }
  return [...out].sort((x, y) => x - y);
}

/** True if `n` lies in one of the ranges, `*` standing for `star`; a:b == b:a. */
export function rangesContain(ranges: readonly SeqRange[], n: number, star: number): boolean {
  for (const r of ranges) {
    let a = r.start === STAR ? star : r.start;
    let b = r.end === STAR ? star : r.end;
    if (a > b) [a, b] = [b, a];
    if (n >= a && n <= b) return true;
  }
  return false;
}

export function formatSequenceSet(set: SequenceSet): string {
  if (set.type === 'saved') return '$';
  const n = (v: number) => (v === STAR ? '*' : String(v));
  return set.ranges.map((r) => (r.start === r.end ? n(r.start) : `${n(r.start)}:${n(r.end)}`)).join(',');
}
