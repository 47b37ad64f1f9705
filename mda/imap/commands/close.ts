/*
 * CLOSE (RFC 3501 §6.4.2): silently expunges \Deleted messages when the mailbox is read-write (no
 * untagged EXPUNGE), then leaves the selected state.
 */
import { OK, SELECTED, type CommandSpec } from '../command.js';

export const closeCommand: CommandSpec = {
  name: 'CLOSE',
  states: SELECTED,
  args: { required: [] },
  sync: 'no-expunge',
  async run({ session }) {
    const sel = session.selected!;
    if (!sel.readOnly) {
      const gone = await sel.view.expunge({ onlyDeleted: true });
      session.stats.expunged += gone.length;
    }
    await session.unselect();
    return OK('Close completed.');
  },
};
