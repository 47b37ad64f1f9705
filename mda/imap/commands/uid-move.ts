/*
 * UID MOVE (RFC 6851 §3.2): MOVE addressed by UID (copy.ts does the work).
 */
import { SELECTED, type CommandSpec } from '../command.js';
import { copyOrMove } from './copy.js';

export const uidMoveCommand: CommandSpec = {
  name: 'UID MOVE',
  states: SELECTED,
  args: { required: ['atom', 'astring'], missing: 'Invalid arguments' },
  sync: 'full',
  run: (ctx) => copyOrMove(ctx, true),
};
