/*
 * COPY and UID COPY (RFC 3501 §6.4.7, RFC 4315 COPYUID): `OK [COPYUID v src-uids dst-uids] Copy
 * completed.`; a missing destination is `NO [TRYCREATE] Mailbox doesn't exist: x`. An empty set
 * copies nothing and says OK without COPYUID.
 */
import { SELECTED, type CommandContext, type CommandSpec, type Completion } from '../command.js';
import { mailboxArg } from '../mailbox-names.js';
import { formatUidSet, messagesOf, parseSetArg } from '../message-set.js';
import { isStorageError } from '../../storage/api.js';

export async function copyOrMove(ctx: CommandContext, move: boolean): Promise<Completion> {
  const { session, args } = ctx;
  const sel = session.selected!;
  const set = parseSetArg(args[0]);
  const dest = mailboxArg(args[1], session.store!.separator);
  const uids = messagesOf(session, set, ctx.uid).map((m) => m.uid);
  const done = move ? 'Move completed.' : 'Copy completed.';
  try {
    if (uids.length === 0) {
      await session.store!.status(dest);
      return { text: done };
    }
    const r = move ? await sel.view.move(uids, dest) : await sel.view.copy(uids, dest);
    const code = { name: 'COPYUID', args: `${r.uidValidity} ${formatUidSet(r.srcUids)} ${formatUidSet(r.dstUids)}` };
    if (!move) return { text: done, code };
    session.stats.expunged += r.srcUids.length;
    session.untagged(`OK [COPYUID ${code.args}] Moved UIDs.`);
    return { text: done };
  } catch (err) {
    if (isStorageError(err) && err.kind === 'NOTFOUND') return { status: 'NO', text: err.clientText, code: { name: 'TRYCREATE' } };
    throw err;
  }
}

export const copyCommand: CommandSpec = {
  name: 'COPY',
  states: SELECTED,
  args: { required: ['atom', 'astring'], missing: 'Invalid arguments' },
  sync: 'full',
  run: (ctx) => copyOrMove(ctx, false),
};
