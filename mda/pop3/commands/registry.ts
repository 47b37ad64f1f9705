/*
 * The explicit list of POP3 commands (DESIGN §4). Lookup is by upper-case name and current state; a
 * command not allowed in this state, or disabled by a setting, is "unknown" to the client, as in Dovecot.
 */
import type { Pop3Session } from '../session.js';
import type { Pop3Command } from './types.js';
import { apopCommand } from './apop.js';
import { authCommand } from './auth.js';
import { capaCommand } from './capa.js';
import { deleCommand } from './dele.js';
import { lastCommand } from './last.js';
import { listCommand } from './list.js';
import { noopCommand } from './noop.js';
import { passCommand } from './pass.js';
import { quitCommand } from './quit.js';
import { retrCommand } from './retr.js';
import { rsetCommand } from './rset.js';
import { statCommand } from './stat.js';
import { stlsCommand } from './stls.js';
import { topCommand } from './top.js';
import { uidlCommand } from './uidl.js';
import { userCommand } from './user.js';

export const POP3_COMMANDS: readonly Pop3Command[] = [
  capaCommand, userCommand, passCommand, apopCommand, authCommand, stlsCommand, quitCommand,
  statCommand, listCommand, retrCommand, topCommand, deleCommand, noopCommand, rsetCommand, uidlCommand, lastCommand,
];

export function findCommand(name: string, s: Pop3Session): Pop3Command | undefined {
  return POP3_COMMANDS.find((c) => c.name === name && c.states.includes(s.state) && (c.enabled?.(s) ?? true));
}
