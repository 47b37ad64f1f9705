/*
 * CHECK (RFC 3501 §6.4.1): a checkpoint; the storage is always durable, so it only syncs (the
 * dispatcher announces changes afterwards).
 */
import { OK, SELECTED, type CommandSpec } from '../command.js';

export const checkCommand: CommandSpec = {
  name: 'CHECK',
  states: SELECTED,
  args: { required: [] },
  sync: 'full',
  async run() {
    return OK('Check completed.');
  },
};
