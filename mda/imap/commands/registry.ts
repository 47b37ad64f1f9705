/*
 * The one explicit list of IMAP commands (DESIGN.md §4). The dispatcher looks names up here; a
 * command that is not listed does not exist.
 */
import type { CommandSpec } from '../command.js';
import { appendCommand } from './append.js';
import { authenticateCommand } from './authenticate.js';
import { capabilityCommand } from './capability.js';
import { checkCommand } from './check.js';
import { closeCommand } from './close.js';
import { copyCommand } from './copy.js';
import { createCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { enableCommand } from './enable.js';
import { examineCommand } from './examine.js';
import { expungeCommand } from './expunge.js';
import { fetchCommand } from './fetch.js';
import { getQuotaCommand } from './getquota.js';
import { getQuotaRootCommand } from './getquotaroot.js';
import { idCommand } from './id.js';
import { idleCommand } from './idle.js';
import { listCommand } from './list.js';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { lsubCommand } from './lsub.js';
import { moveCommand } from './move.js';
import { namespaceCommand } from './namespace.js';
import { noopCommand } from './noop.js';
import { renameCommand } from './rename.js';
import { searchCommand } from './search.js';
import { selectCommand } from './select.js';
import { setQuotaCommand } from './setquota.js';
import { sortCommand } from './sort.js';
import { starttlsCommand } from './starttls.js';
import { statusCommand } from './status.js';
import { storeCommand } from './store.js';
import { subscribeCommand } from './subscribe.js';
import { threadCommand } from './thread.js';
import { uidCopyCommand } from './uid-copy.js';
import { cancelUpdateCommand } from './cancelupdate.js';
import { uidExpungeCommand } from './uid-expunge.js';
import { uidFetchCommand } from './uid-fetch.js';
import { uidMoveCommand } from './uid-move.js';
import { uidSearchCommand } from './uid-search.js';
import { uidSortCommand } from './uid-sort.js';
import { uidStoreCommand } from './uid-store.js';
import { uidThreadCommand } from './uid-thread.js';
import { unselectCommand } from './unselect.js';
import { unsubscribeCommand } from './unsubscribe.js';

export const COMMANDS: readonly CommandSpec[] = [
  // any state
  capabilityCommand, noopCommand, logoutCommand, idCommand,
  // not authenticated
  starttlsCommand, loginCommand, authenticateCommand,
  // authenticated
  enableCommand, selectCommand, examineCommand, createCommand, deleteCommand, renameCommand,
  subscribeCommand, unsubscribeCommand, listCommand, lsubCommand, statusCommand, appendCommand,
  namespaceCommand, idleCommand,
  // authenticated, imap_quota (RFC 2087): answer as unknown commands when the plugin is not loaded
  getQuotaRootCommand, getQuotaCommand, setQuotaCommand,
  // selected
  checkCommand, closeCommand, unselectCommand, expungeCommand, uidExpungeCommand,
  fetchCommand, uidFetchCommand, storeCommand, uidStoreCommand, copyCommand, uidCopyCommand,
  moveCommand, uidMoveCommand, searchCommand, uidSearchCommand, sortCommand, uidSortCommand,
  threadCommand, uidThreadCommand, cancelUpdateCommand,
];
