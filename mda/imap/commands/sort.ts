/*
 * SORT and UID SORT (RFC 5256 §3, RFC 5957 DISPLAYFROM/DISPLAYTO, RFC 5267 ESORT RETURN options):
 * `SORT [RETURN (…)] (criteria) charset search-keys`. Without RETURN the answer is
 * `* SORT n…` (with ` (MODSEQ m)` when a MODSEQ key was used, RFC 7162 §3.1.5); with RETURN it is
 * an ESEARCH response whose MIN/MAX/ALL/PARTIAL follow the sort order, as Dovecot answers.
 * Dovecot's texts: "Invalid sort argument." (criteria not a list), "Invalid charset argument.",
 * criteria errors from sort/sort-program.ts, `OK Sort completed.`.
 * Distrusts: everything in the arguments (parsed by sort-program.ts and proto/search-keys.ts).
 */
import { SELECTED, type CommandContext, type CommandSpec, type Completion } from '../command.js';
import { ImapSyntaxError } from '../proto/errors.js';
import { parseSearchProgram } from '../proto/search-keys.js';
import { searchMessages } from '../search/evaluate.js';
import { startLiveSearch } from '../search/context.js';
import { esearchResponse, onlySave, splitReturn } from '../search/return-options.js';
import { collectFacts } from '../sort/collect.js';
import { parseSortProgram } from '../sort/sort-program.js';
import { sortItems } from '../sort/sort.js';
import { sortValue } from '../sort/sort-values.js';
import { charsetKnown, usesModseq } from './search.js';

export async function runSort(ctx: CommandContext): Promise<Completion> {
  const { session } = ctx;
  const sel = session.selected!;
  const { ret, rest } = splitReturn(ctx.args);
  const crit = rest[0];
  if (crit?.type !== 'list') throw new ImapSyntaxError('Invalid sort argument.');
  const program = parseSortProgram(crit.items);
  const cs = rest[1];
  if (cs === undefined || (cs.type !== 'atom' && cs.type !== 'quoted' && cs.type !== 'literal')) throw new ImapSyntaxError('Invalid charset argument.');
  if (rest.length <= 2) throw new ImapSyntaxError('Missing search parameters');
  const prog = parseSearchProgram(rest.slice(2));
  if (!charsetKnown(cs.value)) return { status: 'NO', text: 'Unknown charset', code: { name: 'BADCHARSET' } };
  const withModseq = usesModseq(prog.key);
  if (withModseq && !sel.condstore) {
    sel.condstore = true;
    session.untagged(`OK [HIGHESTMODSEQ ${sel.view.highestModseq}] Highest`);
  }
  const found = await searchMessages({ view: sel.view, saved: session.savedUids, now: Date.now() }, prog.key);
  const needs = new Set(program.map((k) => k.key));
  const facts = await collectFacts(sel.view, found, { size: needs.has('SIZE'), arrival: needs.has('ARRIVAL') || needs.has('DATE') });
  const items = facts.map((f) => ({ seq: f.m.seq, m: f.m, values: program.map((k) => sortValue(k.key, f)) }));
  const sorted = sortItems(program, items).map((i) => i.m);
  const ids = sorted.map((m) => (ctx.uid ? m.uid : m.seq));
  if (ret === undefined) {
    const maxModseq = sorted.reduce((a, m) => Math.max(a, m.modseq), 0);
    const tail = withModseq && sorted.length > 0 ? ` (MODSEQ ${maxModseq})` : '';
    session.untagged(`SORT${ids.map((n) => ` ${n}`).join('')}${tail}`);
    return { text: 'Sort completed.' };
  }
  const minMaxOnly = (ret.min || ret.max) && !ret.all && !ret.count && ret.partial === undefined;
  const considered = minMaxOnly && sorted.length > 0
    ? [...new Set([...(ret.min ? [sorted[0]!] : []), ...(ret.max ? [sorted[sorted.length - 1]!] : [])])]
    : sorted;
  // RFC 5267 §4: the result lives on, pinned before SAVE replaces `$`.
  if (ret.update) session.liveSearches.push(startLiveSearch(ctx.tag, ctx.uid, prog.key, sel.view, session.savedUids, sorted));
  if (ret.save) session.savedUids = considered.map((m) => m.uid).sort((a, b) => a - b);
  if (onlySave(ret)) return { text: 'Sort completed.' };
  const modseq = withModseq && sorted.length > 0 ? considered.reduce((a, m) => Math.max(a, m.modseq), 0) : undefined;
  session.untagged(esearchResponse(ctx.tag, ctx.uid, ret, ids, modseq));
  return { text: 'Sort completed.' };
}

export const sortCommand: CommandSpec = {
  name: 'SORT',
  states: SELECTED,
  args: { required: ['any'], rest: true, missing: 'Missing argument' },
  sync: 'no-expunge',
  run: runSort,
};
