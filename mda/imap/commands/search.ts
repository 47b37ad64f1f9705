/*
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4) with ESEARCH's RETURN (MIN MAX ALL COUNT) (RFC 4731),
 * SEARCHRES's SAVE and `$` (RFC 5182), WITHIN (RFC 5032) and CONDSTORE's MODSEQ (RFC 7162 §3.1.5:
 * `* SEARCH … (MODSEQ n)`). Dovecot's shapes: `* ESEARCH (TAG "t") [UID] MIN a MAX b ALL set
 * COUNT n` in that order, `RETURN ()` means ALL, SAVE alone prints nothing; CHARSET other than
 * UTF-8/US-ASCII and what the platform decodes is `NO [BADCHARSET] Unknown charset`.
 * Distrusts: the key tree (proto/search-keys.ts bounds it), RETURN options (unknown = BAD).
 */
import { SELECTED, type CommandContext, type CommandSpec, type Completion } from '../command.js';
import { formatUidSet } from '../message-set.js';
import { ImapSyntaxError } from '../proto/errors.js';
import { formatQuoted } from '../proto/formatter.js';
import { parseSearchProgram, type SearchKey } from '../proto/search-keys.js';
import { searchMessages } from '../search/evaluate.js';

type ReturnOpt = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';

function usesModseq(k: SearchKey): boolean {
  if (k.op === 'modseq') return true;
  if (k.op === 'and') return k.keys.some(usesModseq);
  if (k.op === 'or') return usesModseq(k.a) || usesModseq(k.b);
  if (k.op === 'not') return usesModseq(k.key);
  return false;
}

function charsetKnown(cs: string): boolean {
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
  let args = ctx.args;
  let ret: ReturnOpt[] | undefined;
  if (args[0]?.type === 'atom' && args[0].value.toUpperCase() === 'RETURN') {
    const list = args[1];
    if (list?.type !== 'list') throw new ImapSyntaxError('Invalid arguments.');
    ret = [];
    for (const a of list.items) {
      const o = a.type === 'atom' ? a.value.toUpperCase() : '';
      if (!['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE'].includes(o)) throw new ImapSyntaxError(`Unknown SEARCH return option: ${o}`);
      if (!ret.includes(o as ReturnOpt)) ret.push(o as ReturnOpt);
    }
    if (ret.length === 0) ret = ['ALL'];
    args = args.slice(2);
  }
  const prog = parseSearchProgram(args);
  if (prog.charset !== undefined && !charsetKnown(prog.charset)) return { status: 'NO', text: 'Unknown charset', code: { name: 'BADCHARSET' } };
  const withModseq = usesModseq(prog.key);
  if (withModseq && !sel.condstore) {
    sel.condstore = true;
    session.untagged(`OK [HIGHESTMODSEQ ${sel.view.highestModseq}] Highest`);
  }
  const found = await searchMessages({ view: sel.view, saved: session.savedUids, now: Date.now() }, prog.key);
  const ids = found.map((m) => (ctx.uid ? m.uid : m.seq));
  const maxModseq = found.reduce((a, m) => Math.max(a, m.modseq), 0);
  if (ret === undefined) {
    const tail = withModseq && found.length > 0 ? ` (MODSEQ ${maxModseq})` : '';
    session.untagged(`SEARCH${ids.map((n) => ` ${n}`).join('')}${tail}`);
    return { text: 'Search completed.' };
  }
  if (ret.includes('SAVE')) {
    const onlyMinMax = !ret.includes('ALL') && !ret.includes('COUNT') && (ret.includes('MIN') || ret.includes('MAX'));
    if (onlyMinMax && found.length > 0) {
      const keep = new Set<number>();
      if (ret.includes('MIN')) keep.add(found[0]!.uid);
      if (ret.includes('MAX')) keep.add(found[found.length - 1]!.uid);
      session.savedUids = [...keep].sort((a, b) => a - b);
    } else session.savedUids = found.map((m) => m.uid);
  }
  const shown = ret.filter((r) => r !== 'SAVE');
  if (shown.length === 0) return { text: 'Search completed.' };
  const parts: string[] = [`(TAG ${formatQuoted(ctx.tag)})`];
  if (ctx.uid) parts.push('UID');
  if (ids.length > 0) {
    if (shown.includes('MIN')) parts.push(`MIN ${ids[0]}`);
    if (shown.includes('MAX')) parts.push(`MAX ${ids[ids.length - 1]}`);
    if (shown.includes('ALL')) parts.push(`ALL ${formatUidSet(ids)}`);
  }
  if (shown.includes('COUNT')) parts.push(`COUNT ${ids.length}`);
  if (withModseq && ids.length > 0) parts.push(`MODSEQ ${maxModseq}`);
  session.untagged(`ESEARCH ${parts.join(' ')}`);
  return { text: 'Search completed.' };
}

export const searchCommand: CommandSpec = {
  name: 'SEARCH',
  states: SELECTED,
  args: { required: ['any'], rest: true, missing: 'Missing argument' },
  sync: 'no-expunge',
  run: runSearch,
};
