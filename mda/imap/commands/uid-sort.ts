/*
 * UID SORT (RFC 5256 §3): SORT answering with UIDs (sort.ts does the work).
 */
import { SELECTED, type CommandSpec } from '../command.js';
import { runSort } from './sort.js';

export const uidSortCommand: CommandSpec = {
  name: 'UID SORT',
  states: SELECTED,
  args: { required: ['any'], rest: true, missing: 'Missing argument' },
  sync: 'full',
  run: runSort,
};
