/*
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4) with ESEARCH's RETURN (MIN MAX ALL COUNT) (RFC 4731)
 * and PARTIAL (RFC 5267; search/return-options.ts),
 * SEARCHRES's SAVE and `$` (RFC 5182), WITHIN (RFC 5032) and CONDSTORE's MODSEQ (RFC 7162 §3.1.5:
 * `* SEARCH … (MODSEQ n)`). Dovecot's shapes: `* ESEARCH (TAG "t") [UID] MIN a MAX b ALL set
 * COUNT n` in that order, `RETURN ()` means ALL, SAVE alone prints nothing; CHARSET other than
 * UTF-8/US-ASCII and what the platform decodes is `NO [BADCHARSET] Unknown charset`.
 * Distrusts: the key tree (proto/search-keys.ts bounds it), RETURN options (unknown = BAD).
 */
import { SELECTED, type CommandContext, type CommandSpec, type Completion } from '../command.js';
import { parseSearchProgram, type SearchKey } from '../proto/search-keys.js';
import { searchMessages } from '../search/evaluate.js';
import { startLiveSearch } from '../search/context.js';
import { esearchResponse, onlySave, splitReturn } from '../search/return-options.js';

export function usesModseq(k: SearchKey): boolean {
  if (k.op === 'modseq') return true;
  if (k.op === 'and') return k.keys.some(usesModseq);
  if (k.op === 'or') return usesModseq(k.a) || usesModseq(k.b);
  if (k.op === 'not') return usesModseq(k.key);
  return false;
}

export function charsetKnown(cs: string): boolean {
  const c = cs.toLowerCase();
  if (c === 'utf-8' || c === 'us-ascii') return true;
  try {
    new TextDecoder(c);
    return true;
  } catch {
    return false;
  }
}

export async function runSearch(ctx: CommandContext): Promise<Completion> {
  const { session } = ctx;
  const sel = session.selected!;
  const { ret, rest } = splitReturn(ctx.args);
  const prog = parseSearchProgram(rest);
  if (prog.charset !== undefined && !charsetKnown(prog.charset)) return { status: 'NO', text: 'Unknown charset', code: { name: 'BADCHARSET' } };
  const withModseq = usesModseq(prog.key);
  if (withModseq && !sel.condstore) {
    sel.condstore = true;
    session.untagged(`OK [HIGHESTMODSEQ ${sel.view.highestModseq}] Highest`);
  }
  const found = await searchMessages({ view: sel.view, saved: session.savedUids, now: Date.now() }, prog.key);
  const ids = found.map((m) => (ctx.uid ? m.uid : m.seq));
  if (ret === undefined) {
    const maxModseq = found.reduce((a, m) => Math.max(a, m.modseq), 0);
    const tail = withModseq && found.length > 0 ? ` (MODSEQ ${maxModseq})` : '';
    session.untagged(`SEARCH${ids.map((n) => ` ${n}`).join('')}${tail}`);
    return { text: 'Search completed.' };
  }
  // Dovecot's MIN/MAX-only mode looks at (and saves, and takes MODSEQ from) only those two.
  const minMaxOnly = (ret.min || ret.max) && !ret.all && !ret.count && ret.partial === undefined;
  const considered = minMaxOnly && found.length > 0
    ? [...new Set([...(ret.min ? [found[0]!] : []), ...(ret.max ? [found[found.length - 1]!] : [])])]
    : found;
  // RFC 5267 §4: the result lives on, pinned before SAVE replaces `$`.
  if (ret.update) session.liveSearches.push(startLiveSearch(ctx.tag, ctx.uid, prog.key, sel.view, session.savedUids, found));
  if (ret.save) session.savedUids = considered.map((m) => m.uid).sort((a, b) => a - b);
  if (onlySave(ret)) return { text: 'Search completed.' };
  const modseq = withModseq && found.length > 0 ? considered.reduce((a, m) => Math.max(a, m.modseq), 0) : undefined;
  session.untagged(esearchResponse(ctx.tag, ctx.uid, ret, ids, modseq));
  return { text: 'Search completed.' };
}

export const searchCommand: CommandSpec = {
  name: 'SEARCH',
  states: SELECTED,
  args: { required: ['any'], rest: true, missing: 'Missing argument' },
  sync: 'no-expunge',
  run: runSearch,
};
