/*
 * UID SEARCH (RFC 3501 §6.4.8): SEARCH answering with UIDs (search.ts does the work).
 */
import { SELECTED, type CommandSpec } from '../command.js';
import { runSearch } from './search.js';

export const uidSearchCommand: CommandSpec = {
  name: 'UID SEARCH',
  states: SELECTED,
  args: { required: ['any'], rest: true, missing: 'Missing argument' },
  sync: 'full',
  run: runSearch,
};
