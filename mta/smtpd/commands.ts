/*
 * The explicit list of smtpd command handlers, one entry per command of state.ts's table.
 */
import type { SmtpdSession } from './session.js';
import type { CommandName } from './state.js';
import { ehloCommand, etrnCommand, heloCommand, noopCommand, quitCommand, rsetCommand, vrfyCommand } from './commands-basic.js';
import { mailCommand, rcptCommand } from './commands-envelope.js';
import { bdatCommand, dataCommand } from './commands-data.js';
import { authCommand, starttlsCommand } from './commands-tls-auth.js';

export const HANDLERS: Readonly<Record<CommandName, (s: SmtpdSession, args: string) => Promise<boolean>>> = {
  HELO: heloCommand,
  EHLO: ehloCommand,
  STARTTLS: starttlsCommand,
  AUTH: authCommand,
  MAIL: mailCommand,
  RCPT: rcptCommand,
  DATA: dataCommand,
  BDAT: bdatCommand,
  RSET: rsetCommand,
  NOOP: noopCommand,
  VRFY: vrfyCommand,
  ETRN: etrnCommand,
  QUIT: quitCommand,
};
