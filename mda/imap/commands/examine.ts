/*
 * EXAMINE (RFC 3501 §6.3.2): SELECT read-only; \Recent is not claimed, PERMANENTFLAGS is empty and
 * the completion is `OK [READ-ONLY] Examine completed.` (select.ts does the work).
 */
import { AUTHENTICATED, type CommandSpec } from '../command.js';
import { openMailbox } from './select.js';

export const examineCommand: CommandSpec = {
  name: 'EXAMINE',
  states: AUTHENTICATED,
  args: { required: ['astring'], optional: ['any'], invalid: 'Invalid arguments', missing: 'Invalid arguments' },
  sync: 'no-expunge',
  run: (ctx) => openMailbox(ctx, true),
};
