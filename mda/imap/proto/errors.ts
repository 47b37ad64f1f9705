/*
 * Syntax errors of the IMAP protocol layer, carrying Dovecot 2.3's exact client texts.
 *
 * Dovecot composes a BAD reply from three parts (imap-client.c client_send_command_error): a prefix
 * that depends on how far the command was read ("Error in IMAP tag: ", "Error in IMAP command: ",
 * "Error in IMAP command NAME: "), the parser's or handler's message, and (post-login only) the
 * timing suffix. The pre-login process hides all of that behind one fixed text. The texts below were
 * observed from Dovecot 2.3.19 (see test/mda/imap/proto/*.test.ts).
 */

/** Parser messages, as Dovecot's imap-parser.c words them. */
export const PARSE_TEXT = {
  invalidTag: 'Invalid tag',
  invalidCommandName: 'Invalid command name',
  unexpectedParen: "Unexpected ')'",
  missingParen: "Missing ')'",
  missingQuote: "Missing '\"'",
  nulInString: 'NULs not allowed in strings',
  atomChars: 'Invalid characters in atom',
  atom8bit: '8bit data in atom',
  literalSize: 'Invalid literal size',
  literalLf: 'Missing LF after literal size',
  literal8: 'literal8 not allowed here',
  tooLong: 'Too long argument',
  literalTooBig: 'Literal size too large',
  tooDeep: 'Too deep list nesting',
} as const;

/** Handler messages shared by many commands (Dovecot's cmd-*.c). */
export const COMMAND_TEXT = {
  invalidArguments: 'Invalid arguments.',
  invalidMessageset: 'Invalid messageset',
  unknownCommand: 'Unknown command.',
  missingArgument: 'Missing argument',
  invalidSection: 'Invalid BODY[..] section',
  invalidBinarySection: 'Invalid BINARY[..] section',
} as const;

/** Pre-login (imap-login) hides the detail behind this text. */
export const PRELOGIN_BAD_TEXT = 'Error in IMAP command received by server.';

/** A grammar error inside one command's arguments; `message` is the client text. */
export class ImapSyntaxError extends Error {
  override readonly name = 'ImapSyntaxError';
  constructor(message: string) {
    super(message);
  }
}

/** How every command error's text starts (commandErrorText): Dovecot counts these as invalid commands (dispatch.ts). */
export const COMMAND_ERROR_PREFIX = 'Error in IMAP ';

/**
 * The BAD text Dovecot's post-login imap process sends (without the tag and the timing suffix):
 * `tag` undefined or invalid → tag error, `command` undefined → command-name error.
 */
export function commandErrorText(message: string, command: string | undefined, tagValid: boolean): string {
  if (!tagValid) return `${COMMAND_ERROR_PREFIX}tag: ${message}`;
  if (command === undefined) return `${COMMAND_ERROR_PREFIX}command: ${message}`;
  return `${COMMAND_ERROR_PREFIX}command ${command.toUpperCase()}: ${message}`;
}
