/*
 * NOOP (RFC 3501 §6.1.2): does nothing but lets the dispatcher announce mailbox changes.
 * Extra arguments are ignored, as Dovecot does.
 */
import { ANY_STATE, OK, type CommandSpec } from '../command.js';

export const noopCommand: CommandSpec = {
  name: 'NOOP',
  states: ANY_STATE,
  args: { required: [], rest: true },
  sync: 'full',
  async run() {
    return OK('NOOP completed.');
  },
};
