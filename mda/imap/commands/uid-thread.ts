/*
 * UID THREAD (RFC 5256 §4): THREAD answering with UIDs (thread.ts does the work).
 */
import { SELECTED, type CommandSpec } from '../command.js';
import { runThread } from './thread.js';

export const uidThreadCommand: CommandSpec = {
  name: 'UID THREAD',
  states: SELECTED,
  args: { required: ['any'], rest: true, missing: 'Missing argument' },
  sync: 'full',
  run: runThread,
};
