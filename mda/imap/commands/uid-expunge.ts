/*
 * UID EXPUNGE (RFC 4315 §2.1): like EXPUNGE, limited to the given UIDs.
 */
import { OK, SELECTED, type CommandSpec } from '../command.js';
import { expungeCompleted } from './qresync.js';
import { resolveSet } from '../message-set.js';

export const uidExpungeCommand: CommandSpec = {
  name: 'UID EXPUNGE',
  states: SELECTED,
  args: { required: ['atom'] },
  sync: 'full',
  async run({ session, args }) {
    const sel = session.selected!;
    const uids = resolveSet(session, args[0]!, true);
    if (sel.readOnly) return OK('Expunge completed.');
    const gone = await sel.view.expunge({ uids, onlyDeleted: true });
    session.stats.expunged += gone.length;
    return expungeCompleted(session);
  },
};
