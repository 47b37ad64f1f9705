/*
 * UID STORE (RFC 3501 §6.4.8): STORE addressed by UID; responses carry UID; pending changes
 * (expunges included) are announced afterwards.
 */
import { SELECTED, type CommandSpec } from '../command.js';
import { runStore } from './store.js';

export const uidStoreCommand: CommandSpec = {
  name: 'UID STORE',
  states: SELECTED,
  args: { required: ['atom', 'any', 'any'], rest: true, missing: 'Invalid arguments' },
  sync: 'full',
  run: runStore,
};
