/*
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8; RFC 7162 CHANGEDSINCE and MODSEQ; RFC 3516
 * BINARY). A non-PEEK body fetch sets \Seen first (not on a read-only mailbox) and that message's
 * response then starts with FLAGS, as Dovecot does. Fetching MODSEQ turns CONDSTORE on for the
 * mailbox and announces `* OK [HIGHESTMODSEQ n] Highest` first. Responses are written one message
 * at a time and wait for the client to read (socket backpressure), so a huge FETCH costs one
 * message of memory. A message that vanished meanwhile is skipped (`NO [EXPUNGEISSUED]` would make
 * clients retry forever; Dovecot also just omits it when the file is gone).
 * Distrusts: the attribute list (proto/fetch-attributes.ts), the modifier list (only CHANGEDSINCE).
 */
import { SELECTED, type CommandContext, type CommandSpec, type Completion } from '../command.js';
import { messagesOf, parseSetArg } from '../message-set.js';
import { ImapSyntaxError } from '../proto/errors.js';
import { parseFetchAttributes, type FetchAttribute } from '../proto/fetch-attributes.js';
import { renderFetch, setsSeen } from '../fetch/render.js';
import { isStorageError } from '../../storage/api.js';

function changedSince(arg: CommandContext['args'][number] | undefined): number | undefined {
  if (arg === undefined) return undefined;
  if (arg.type !== 'list') throw new ImapSyntaxError('Invalid arguments.');
  const it = arg.items;
  if (it.length !== 2 || it[0]?.type !== 'atom' || it[0].value.toUpperCase() !== 'CHANGEDSINCE' || it[1]?.type !== 'atom' || !/^[0-9]{1,19}$/.test(it[1].value)) {
    throw new ImapSyntaxError('Invalid CHANGEDSINCE modseq.');
  }
  return Number(it[1].value);
}

export async function runFetch(ctx: CommandContext): Promise<Completion> {
  const { session } = ctx;
  const sel = session.selected!;
  const set = parseSetArg(ctx.args[0]);
  let attrs: FetchAttribute[] = parseFetchAttributes(ctx.args[1]);
  const since = changedSince(ctx.args[2]);
  const wantsModseq = since !== undefined || attrs.some((a) => a.type === 'simple' && a.name === 'MODSEQ');
  if (since !== undefined && !attrs.some((a) => a.type === 'simple' && a.name === 'MODSEQ')) attrs = [...attrs, { type: 'simple', name: 'MODSEQ' }];
  let msgs = messagesOf(session, set, ctx.uid);
  if (since !== undefined) msgs = msgs.filter((m) => m.modseq > since);
  if (wantsModseq && !sel.condstore) {
    sel.condstore = true;
    session.untagged(`OK [HIGHESTMODSEQ ${sel.view.highestModseq}] Highest`);
  }
  const seenUids = new Set<number>();
  if (!sel.readOnly && attrs.some(setsSeen)) {
    const unseen = msgs.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid);
    if (unseen.length > 0) {
      const r = await sel.view.store(unseen, { mode: 'add', flags: ['\\Seen'] });
      for (const u of r.updated) seenUids.add(u.uid);
    }
  }
  const rctx = { view: sel.view, flagsOf: (m: Parameters<typeof session.flagsOf>[0]) => session.flagsOf(m), stats: session.stats };
  for (const old of msgs) {
    const m = sel.view.byUid(old.uid) ?? old;
    let text: string;
    try {
      text = await renderFetch(rctx, m, attrs, { uid: ctx.uid, flagsFirst: seenUids.has(m.uid) });
    } catch (err) {
      if (isStorageError(err) && err.kind === 'EXPUNGED') continue;
      throw err;
    }
    session.write(text);
    await session.io.drain();
  }
  return { text: 'Fetch completed.' };
}

export const fetchCommand: CommandSpec = {
  name: 'FETCH',
  states: SELECTED,
  args: { required: ['atom', 'any'], optional: ['list'], missing: 'Invalid arguments.' },
  sync: 'no-expunge',
  run: runFetch,
};
