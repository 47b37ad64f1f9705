/*
 * MOVE (RFC 6851): `* OK [COPYUID …] Moved UIDs.`, the `* n EXPUNGE` lines (announced by the
 * dispatcher right after), then `OK Move completed.`, as Dovecot orders them.
 */
import { SELECTED, type CommandSpec } from '../command.js';
import { copyOrMove } from './copy.js';

export const moveCommand: CommandSpec = {
  name: 'MOVE',
  states: SELECTED,
  args: { required: ['atom', 'astring'], missing: 'Invalid arguments' },
  sync: 'full',
  run: (ctx) => copyOrMove(ctx, true),
};
