/*
 * SEARCH/SORT RETURN options (RFC 4731 ESEARCH, RFC 5267 ESORT and PARTIAL, RFC 5182 SAVE) parsed
 * and answered as Dovecot 2.3's imap-search.c does:
 *  - options are atoms (else "SEARCH return options contain non-atoms."), unknown ones are
 *    "Unknown SEARCH return option", `RETURN ()` means ALL, CONTEXT is accepted and ignored,
 *    PARTIAL takes `n:m` (1-based, swapped when reversed; "PARTIAL range missing.", "PARTIAL range
 *    broken.", "PARTIAL can be used only once.", "PARTIAL conflicts with ALL");
 *  - `* ESEARCH (TAG "t") [UID] MIN a MAX b ALL set PARTIAL (n:m set|NIL) COUNT c [MODSEQ m]`:
 *    MIN/MAX/ALL only when something matched; MIN and MAX are the first and last results in the
 *    order returned (for SORT that is the sort order, as Dovecot answers); ALL joins only runs that
 *    ascend by one, so a sorted result keeps its order ("1:4,7,5:6").
 * UPDATE (RFC 5267 CONTEXT=SEARCH) makes the search live (search/context.ts); as Dovecot, it counts
 * as an option, so `RETURN (UPDATE)` alone answers an empty `* ESEARCH (TAG "t")` (no ALL), and
 * with SAVE the ESEARCH line is still sent.
 * Pure.
 */
import { ImapSyntaxError } from '../proto/errors.js';
import { formatQuoted } from '../proto/formatter.js';
import type { ImapArg } from '../proto/values.js';

export interface ReturnOptions {
  readonly min: boolean;
  readonly max: boolean;
  readonly all: boolean;
  readonly count: boolean;
  readonly save: boolean;
  readonly update: boolean;
  readonly partial: { readonly from: number; readonly to: number } | undefined;
}

function parsePartial(text: string): { from: number; to: number } | undefined {
  const m = /^([0-9]+):([0-9]+)$/.exec(text);
  if (!m) return undefined;
  let from = Number(m[1]);
  let to = Number(m[2]);
  if (from === 0 || to === 0 || from > 0xffffffff || to > 0xffffffff) return undefined;
  if (from > to) [from, to] = [to, from];
  return { from, to };
}

/** Parses the list after RETURN. */
export function parseReturnOptions(items: readonly ImapArg[]): ReturnOptions {
  let min = false, max = false, all = false, count = false, save = false, update = false;
  let partial: { from: number; to: number } | undefined;
  for (let i = 0; i < items.length; i++) {
    const a = items[i]!;
    if (a.type !== 'atom') throw new ImapSyntaxError('SEARCH return options contain non-atoms.');
    switch (a.value.toUpperCase()) {
      case 'MIN': min = true; break;
      case 'MAX': max = true; break;
      case 'ALL': all = true; break;
      case 'COUNT': count = true; break;
      case 'SAVE': save = true; break;
      case 'CONTEXT': break;
      case 'UPDATE': update = true; break;
      case 'PARTIAL': {
        if (partial !== undefined) throw new ImapSyntaxError('PARTIAL can be used only once.');
        const r = items[i + 1];
        if (r?.type !== 'atom') throw new ImapSyntaxError('PARTIAL range missing.');
        i++;
        partial = parsePartial(r.value);
        if (partial === undefined) throw new ImapSyntaxError('PARTIAL range broken.');
        break;
      }
      default:
        throw new ImapSyntaxError('Unknown SEARCH return option');
    }
  }
  if (partial !== undefined && all) throw new ImapSyntaxError('PARTIAL conflicts with ALL');
  if (!min && !max && !all && !count && !save && !update && partial === undefined) all = true;
  return { min, max, all, count, save, update, partial };
}

/** `RETURN (…)` at the start of the arguments: the options and the rest. */
export function splitReturn(args: readonly ImapArg[]): { ret: ReturnOptions | undefined; rest: readonly ImapArg[] } {
  const a = args[0];
  if (a?.type === 'atom' && a.value.toUpperCase() === 'RETURN' && args[1]?.type === 'list') {
    return { ret: parseReturnOptions(args[1].items), rest: args.slice(2) };
  }
  return { ret: undefined, rest: args };
}

/** Runs of ids that ascend by one, in the given order: `1:4,7,5:6`. */
export function formatRuns(ids: readonly number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < ids.length) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    out.push(i === j ? String(ids[i]) : `${ids[i]}:${ids[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** Only SAVE was asked: Dovecot sends no ESEARCH at all. */
export function onlySave(r: ReturnOptions): boolean {
  return r.save && !r.update && !r.min && !r.max && !r.all && !r.count && r.partial === undefined;
}

/** The `* ESEARCH …` text (without `* `) for ids in result order. */
export function esearchResponse(tag: string, uid: boolean, r: ReturnOptions, ids: readonly number[], modseq: number | undefined): string {
  const parts = [`ESEARCH (TAG ${formatQuoted(tag)})`];
  if (uid) parts.push('UID');
  if (ids.length > 0) {
    if (r.min) parts.push(`MIN ${ids[0]}`);
    if (r.max) parts.push(`MAX ${ids[ids.length - 1]}`);
    if (r.all) parts.push(`ALL ${formatRuns(ids)}`);
  }
  if (r.partial !== undefined) {
    const slice = ids.slice(r.partial.from - 1, r.partial.to);
    parts.push(`PARTIAL (${r.partial.from}:${r.partial.to} ${slice.length === 0 ? 'NIL' : formatRuns(slice)})`);
  }
  if (r.count) parts.push(`COUNT ${ids.length}`);
  if (modseq !== undefined) parts.push(`MODSEQ ${modseq}`);
  return parts.join(' ');
}
