/*
 * The shape of one POP3 command (DESIGN §4: one command per file, each declaring the states it may run in).
 * `run` answers on the session and says whether the command counted as a bad command (Dovecot counts unknown
 * commands and message-number errors; too many in a row disconnects).
 */
import type { Pop3Session, Pop3State } from '../session.js';

export type CommandOutcome = 'ok' | 'bad';

export interface Pop3Command {
  readonly name: string;
  readonly states: readonly Pop3State[];
  /** A command that exists only with a setting (LAST with pop3_enable_last). */
  enabled?(session: Pop3Session): boolean;
  run(session: Pop3Session, args: string): Promise<CommandOutcome>;
}
