/*
 * UID COPY (RFC 3501 §6.4.8, RFC 4315): COPY addressed by UID (copy.ts does the work).
 */
import { SELECTED, type CommandSpec } from '../command.js';
import { copyOrMove } from './copy.js';

export const uidCopyCommand: CommandSpec = {
  name: 'UID COPY',
  states: SELECTED,
  args: { required: ['atom', 'astring'], missing: 'Invalid arguments' },
  sync: 'full',
  run: (ctx) => copyOrMove(ctx, false),
};
