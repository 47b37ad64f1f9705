/*
 * STORE and UID STORE (RFC 3501 §6.4.6, RFC 7162 §3.1.3 UNCHANGEDSINCE): `[+|-]FLAGS[.SILENT]`
 * with a list or bare flags. Dovecot's answers: a read-only mailbox gives `OK Store ignored with
 * read-only mailbox.`; a new keyword is announced with FLAGS and PERMANENTFLAGS first; each changed
 * message gets `* n FETCH ([UID u] [MODSEQ (m)] FLAGS (…))` unless .SILENT; UNCHANGEDSINCE
 * failures end with `OK [MODIFIED set] Conditional store failed.`; \Recent and unknown system flags
 * are `BAD Invalid system flag \X` (upper-cased as Dovecot prints it).
 * Distrusts: the flag names (flags.ts), the modifier list (only UNCHANGEDSINCE).
 */
import { SELECTED, type CommandContext, type CommandSpec, type Completion } from '../command.js';
import { canonicalFlag } from '../flags.js';
import { formatUidSet, messagesOf, parseSetArg } from '../message-set.js';
import { ImapSyntaxError } from '../proto/errors.js';
import type { ImapArg } from '../proto/values.js';
import { SYSTEM_FLAGS, type StoreMode } from '../../storage/api.js';

function flagsFrom(args: readonly ImapArg[]): string[] {
  const items = args.length === 1 && args[0]!.type === 'list' ? args[0]!.items : args;
  const out: string[] = [];
  for (const a of items) {
    if (a.type !== 'atom') throw new ImapSyntaxError('Invalid arguments');
    const f = canonicalFlag(a.value);
    if (f.startsWith('\\') && !(SYSTEM_FLAGS as readonly string[]).includes(f)) throw new ImapSyntaxError(`Invalid system flag ${a.value.toUpperCase()}`);
    if (!out.includes(f)) out.push(f);
  }
  return out;
}

export async function runStore(ctx: CommandContext): Promise<Completion> {
  const { session, args } = ctx;
  const sel = session.selected!;
  const set = parseSetArg(args[0]);
  let i = 1;
  let unchangedSince: number | undefined;
  if (args[1]?.type === 'list') {
    const it = args[1].items;
    if (it.length !== 2 || it[0]?.type !== 'atom' || it[0].value.toUpperCase() !== 'UNCHANGEDSINCE' || it[1]?.type !== 'atom' || !/^[0-9]{1,19}$/.test(it[1].value)) {
      throw new ImapSyntaxError('Invalid arguments');
    }
    unchangedSince = Number(it[1].value);
    i = 2;
  }
  const op = args[i];
  if (op?.type !== 'atom') throw new ImapSyntaxError('Invalid arguments');
  const m = /^([+-]?)FLAGS(\.SILENT)?$/i.exec(op.value);
  if (!m) throw new ImapSyntaxError('Invalid arguments');
  const mode: StoreMode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace';
  const silent = m[2] !== undefined;
  const rest = args.slice(i + 1);
  if (rest.length === 0) throw new ImapSyntaxError('Invalid arguments');
  const flags = flagsFrom(rest);
  const msgs = messagesOf(session, set, ctx.uid);
  if (sel.readOnly) return { text: 'Store ignored with read-only mailbox.' };
  if (unchangedSince !== undefined && !sel.condstore) {
    sel.condstore = true;
    session.untagged(`OK [HIGHESTMODSEQ ${sel.view.highestModseq}] Highest`);
  }
  const r = await sel.view.store(msgs.map((x) => x.uid), { mode, flags, ...(unchangedSince !== undefined ? { unchangedSince } : {}) });
  if (r.keywordsChanged) session.sendFlags();
  const before = new Map(msgs.map((x) => [x.uid, x]));
  for (const u of r.updated) {
    const old = before.get(u.uid);
    const changed = old === undefined || old.flags.join(' ') !== u.flags.join(' ');
    const withUid = ctx.uid || session.enabled.has('QRESYNC');
    if (silent && !(unchangedSince !== undefined && changed)) {
      // RFC 7162 §3.1.3: with CONDSTORE even .SILENT reports the new MODSEQ of changed messages (Dovecot does).
      if (sel.condstore && changed) session.untagged(`${u.seq} FETCH (${withUid ? `UID ${u.uid} ` : ''}MODSEQ (${u.modseq}))`);
      continue;
    }
    const parts: string[] = [];
    if (withUid) parts.push(`UID ${u.uid}`);
    if (sel.condstore) parts.push(`MODSEQ (${u.modseq})`);
    parts.push(`FLAGS ${session.flagsOf(u)}`);
    session.untagged(`${u.seq} FETCH (${parts.join(' ')})`);
  }
  if (r.modified.length > 0) {
    const ids = ctx.uid ? r.modified : r.modified.map((u) => sel.view.byUid(u)?.seq ?? 0).filter((n) => n > 0);
    return { text: 'Conditional store failed.', code: { name: 'MODIFIED', args: formatUidSet([...ids].sort((a, b) => a - b)) } };
  }
  return { text: 'Store completed.' };
}

export const storeCommand: CommandSpec = {
  name: 'STORE',
  states: SELECTED,
  args: { required: ['atom', 'any', 'any'], rest: true, missing: 'Invalid arguments' },
  sync: 'no-expunge',
  run: runStore,
};
