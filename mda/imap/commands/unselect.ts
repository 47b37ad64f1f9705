/*
 * UNSELECT (RFC 3691): leaves the selected state without expunging.
 */
import { OK, SELECTED, type CommandSpec } from '../command.js';

export const unselectCommand: CommandSpec = {
  name: 'UNSELECT',
  states: SELECTED,
  args: { required: [] },
  sync: 'no-expunge',
  async run({ session }) {
    await session.unselect();
    return OK('Unselect completed.');
  },
};
