/*
 * UID FETCH (RFC 3501 §6.4.8): FETCH addressed by UID; UID is always the first item returned, and
 * pending changes (expunges included) are announced afterwards.
 */
import { SELECTED, type CommandSpec } from '../command.js';
import { runFetch } from './fetch.js';

export const uidFetchCommand: CommandSpec = {
  name: 'UID FETCH',
  states: SELECTED,
  args: { required: ['atom', 'any'], optional: ['list'], missing: 'Invalid arguments.' },
  sync: 'full',
  run: runFetch,
};
