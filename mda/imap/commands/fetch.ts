/*
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8; RFC 7162 CHANGEDSINCE and MODSEQ; RFC 3516
 * BINARY). A non-PEEK body fetch sets \Seen first (not on a read-only mailbox) and that message's
 * response then starts with FLAGS, as Dovecot does. Fetching MODSEQ turns CONDSTORE on for the
 * mailbox and announces `* OK [HIGHESTMODSEQ n] Highest` first. Responses are collected up to
 * FETCH_WRITE_CHARS and written together, then wait for the client to read (socket backpressure),
 * so a huge FETCH costs about that much plus the few messages rendered ahead (fetch/window.ts:
 * items that read the message are rendered for up to 8 messages / 4 MiB of files at once). A message that vanished meanwhile is skipped (`NO [EXPUNGEISSUED]` would make
 * clients retry forever; Dovecot also just omits it when the file is gone).
 * UID FETCH (CHANGEDSINCE n VANISHED) with QRESYNC enabled first reports `* VANISHED (EARLIER)` for
 * the UIDs of the set expunged after n (RFC 7162 §3.2.6).
 * Distrusts: the attribute list (proto/fetch-attributes.ts), the modifier list (CHANGEDSINCE, VANISHED).
 */
import { SELECTED, type CommandContext, type CommandSpec, type Completion } from '../command.js';
import { messagesOf, parseSetArg } from '../message-set.js';
import { ImapSyntaxError } from '../proto/errors.js';
import { parseFetchAttributes, type FetchAttribute } from '../proto/fetch-attributes.js';
import { needsContent, renderFetch, setsSeen } from '../fetch/render.js';
import { inOrder, MESSAGE_WINDOW } from '../fetch/window.js';
import { isStorageError } from '../../storage/api.js';
import { sendVanishedEarlier } from './qresync.js';

/** Characters of FETCH responses collected before one socket write (and a wait for the client). */
export const FETCH_WRITE_CHARS = 64 * 1024;

/** `(CHANGEDSINCE n [VANISHED])` (RFC 7162 §3.1.4.1, §3.2.6). */
function modifiers(arg: CommandContext['args'][number] | undefined): { since: number | undefined; vanished: boolean } {
  if (arg === undefined) return { since: undefined, vanished: false };
  if (arg.type !== 'list') throw new ImapSyntaxError('Invalid arguments.');
  let since: number | undefined;
  let vanished = false;
  const it = arg.items;
  for (let i = 0; i < it.length; i++) {
    const name = it[i]?.type === 'atom' ? (it[i] as { value: string }).value.toUpperCase() : '';
    if (name === 'CHANGEDSINCE') {
      const v = it[++i];
      if (v?.type !== 'atom' || !/^[0-9]{1,19}$/.test(v.value)) throw new ImapSyntaxError('Invalid CHANGEDSINCE modseq.');
      since = Number(v.value);
    } else if (name === 'VANISHED') vanished = true;
    else throw new ImapSyntaxError('Invalid CHANGEDSINCE modseq.');
  }
  if (since === undefined) throw new ImapSyntaxError('Invalid CHANGEDSINCE modseq.');
  return { since, vanished };
}

export async function runFetch(ctx: CommandContext): Promise<Completion> {
  const { session } = ctx;
  const sel = session.selected!;
  const set = parseSetArg(ctx.args[0]);
  let attrs: FetchAttribute[] = parseFetchAttributes(ctx.args[1]);
  const { since, vanished } = modifiers(ctx.args[2]);
  if (vanished && (!ctx.uid || !session.enabled.has('QRESYNC'))) throw new ImapSyntaxError('VANISHED can only be used with UID FETCH and QRESYNC enabled');
  const wantsModseq = since !== undefined || attrs.some((a) => a.type === 'simple' && a.name === 'MODSEQ');
  if (since !== undefined && !attrs.some((a) => a.type === 'simple' && a.name === 'MODSEQ')) attrs = [...attrs, { type: 'simple', name: 'MODSEQ' }];
  let msgs = messagesOf(session, set, ctx.uid);
  if (since !== undefined) msgs = msgs.filter((m) => m.modseq > since);
  if (wantsModseq && !sel.condstore) {
    sel.condstore = true;
    session.untagged(`OK [HIGHESTMODSEQ ${sel.view.highestModseq}] Highest`);
  }
  if (vanished && since !== undefined && set.type === 'ranges') await sendVanishedEarlier(session, sel.view, since, set);
  const seenUids = new Set<number>();
  if (!sel.readOnly && attrs.some(setsSeen)) {
    const unseen = msgs.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid);
    if (unseen.length > 0) {
      const r = await sel.view.store(unseen, { mode: 'add', flags: ['\\Seen'] });
      for (const u of r.updated) seenUids.add(u.uid);
    }
  }
  const rctx = { view: sel.view, flagsOf: (m: Parameters<typeof session.flagsOf>[0]) => session.flagsOf(m), stats: session.stats };
  // Responses are collected and written FETCH_WRITE_CHARS at a time (one socket write for a
  // typical envelope listing instead of one per message), and what was rendered before an error
  // still goes out before the tagged reply.
  let pending: string[] = [];
  let pendingChars = 0;
  const flush = (): void => {
    if (pendingChars === 0) return;
    session.write(pending.length === 1 ? pending[0]! : pending.join(''));
    pending = [];
    pendingChars = 0;
  };
  const render = async (old: (typeof msgs)[number]): Promise<string | undefined> => {
    const m = sel.view.byUid(old.uid) ?? old;
    try {
      return await renderFetch(rctx, m, attrs, { uid: ctx.uid, flagsFirst: seenUids.has(m.uid) });
    } catch (err) {
      if (isStorageError(err) && err.kind === 'EXPUNGED') return undefined;
      throw err;
    }
  };
  // Only items that read the message are worth rendering a few messages ahead (fetch/window.ts).
  const limits = attrs.some(needsContent) ? { ...MESSAGE_WINDOW, size: (m: (typeof msgs)[number]) => m.physicalSize ?? 0 } : { count: 1, bytes: 0, size: () => 0 };
  try {
    await inOrder(msgs, limits, render, async (text) => {
      if (text === undefined) return;
      pending.push(text);
      pendingChars += text.length;
      if (pendingChars >= FETCH_WRITE_CHARS) {
        flush();
        await session.io.drain();
      }
    });
  } finally {
    flush();
  }
  await session.io.drain();
  return { text: 'Fetch completed.' };
}

export const fetchCommand: CommandSpec = {
  name: 'FETCH',
  states: SELECTED,
  args: { required: ['atom', 'any'], optional: ['list'], missing: 'Invalid arguments.' },
  sync: 'no-expunge',
  run: runFetch,
};
