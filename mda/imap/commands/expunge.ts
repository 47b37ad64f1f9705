/*
 * EXPUNGE (RFC 3501 §6.4.3): removes \Deleted messages; the `* n EXPUNGE` lines come from the
 * dispatcher's change announcement, highest sequence number first. On a read-only mailbox it
 * does nothing and still says OK, as Dovecot.
 */
import { OK, SELECTED, type CommandSpec } from '../command.js';
import { expungeCompleted } from './qresync.js';

export const expungeCommand: CommandSpec = {
  name: 'EXPUNGE',
  states: SELECTED,
  args: { required: [] },
  sync: 'full',
  async run({ session }) {
    const sel = session.selected!;
    if (sel.readOnly) return OK('Expunge completed.');
    const gone = await sel.view.expunge({ onlyDeleted: true });
    session.stats.expunged += gone.length;
    return expungeCompleted(session);
  },
};
