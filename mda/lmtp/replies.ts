/*
 * Dovecot 2.3's LMTP reply texts (lib-smtp smtp-server-cmd-*.c, lmtp-local.c), as observed on
 * 2.3.19.1 (reference/transcripts.md §5 and probes recorded in test/mda/lmtp). Pure: every reply
 * the LMTP server sends is built here, so the wire text lives in one place.
 *
 * A reply is a code, an enhanced status code (omitted for the greeting, LHLO, 354 and the
 * un-enhanced "501 Missing hostname" Dovecot sends) and a text.
 */

export interface LmtpReply {
  readonly code: number;
  /** RFC 3463 enhanced status code, or '' for none. */
  readonly enhanced: string;
  readonly text: string;
}

export function reply(code: number, enhanced: string, text: string): LmtpReply {
  return { code, enhanced, text };
}

/** One reply line as sent on the wire (without CRLF). */
export function formatReply(r: LmtpReply): string {
  return `${r.code} ${r.enhanced !== '' ? `${r.enhanced} ` : ''}${r.text}`;
}

/** Multi-line 250 reply to LHLO: first line is the server's hostname. */
export function formatLhlo(hostname: string, capabilities: readonly string[]): string[] {
  const lines = [hostname, ...capabilities];
  return lines.map((l, i) => `250${i < lines.length - 1 ? '-' : ' '}${l}`);
}

export const REPLIES = {
  greeting: (hostname: string, greeting: string) => reply(220, '', `${hostname} ${greeting}`),
  ok: reply(250, '2.0.0', 'OK'),
  mailOk: reply(250, '2.1.0', 'OK'),
  rcptOk: reply(250, '2.1.5', 'OK'),
  dataGo: reply(354, '', 'OK'),
  bye: reply(221, '2.0.0', 'Bye'),
  vrfy: reply(252, '2.3.3', 'Try RCPT instead'),
  vrfyNoArg: reply(501, '5.5.4', 'Invalid parameters'),
  unknownCommand: reply(500, '5.5.1', 'Unknown command'),
  invalidSyntax: reply(500, '5.5.2', 'Invalid command syntax'),
  lineTooLong: reply(500, '5.5.2', 'Line too long'),
  tooManyInvalid: (hostname: string) => reply(421, '4.7.0', `${hostname} Too many invalid commands.`),
  idleTimeout: (hostname: string) => reply(421, '4.4.2', `${hostname} Disconnected for inactivity`),
  shuttingDown: (hostname: string) => reply(421, '4.3.2', `${hostname} Shutting down`),
  missingHostname: reply(501, '', 'Missing hostname'),
  mailNeeded: reply(503, '5.5.0', 'MAIL needed first'),
  mailAlreadyGiven: reply(503, '5.5.0', 'MAIL already given'),
  noValidRecipients: reply(503, '5.5.0', 'No valid recipients'),
  unsupportedParams: reply(555, '5.5.4', 'Unsupported parameters'),
  unsupportedBody: reply(555, '5.5.4', 'Unsupported mail BODY type'),
  invalidPath: (which: 'FROM' | 'TO', why: string) => reply(501, '5.5.4', `Invalid ${which}: ${why}`),
  startTlsDisabled: reply(502, '5.5.1', 'TLS support is not enabled.'),
  unsupportedCommand: reply(502, '5.5.1', 'Unsupported command'),
  internalError: reply(451, '4.3.0', 'Temporary internal error'),
  tooManyRecipients: reply(452, '4.5.3', 'Too many recipients'),
  messageTooBig: reply(552, '5.2.3', 'Message size exceeds administrative limit'),
  /** RCPT for a user the userdb does not know. */
  userUnknown: (addr: string, user: string) => reply(550, '5.1.1', `<${addr}> User doesn't exist: ${user}`),
  /** RCPT when the userdb lookup failed internally. */
  rcptTempFail: (addr: string) => reply(451, '4.3.0', `<${addr}> Temporary internal error`),
  saved: (addr: string, id: string) => reply(250, '2.0.0', `<${addr}> ${id} Saved`),
  overQuota: (addr: string, tempfail: boolean) =>
    tempfail ? reply(452, '4.2.2', `<${addr}> Quota exceeded (mailbox for user is full)`)
      : reply(552, '5.2.2', `<${addr}> Quota exceeded (mailbox for user is full)`),
  /** Storage failure after DATA: Dovecot's generic temporary error. */
  dataTempFail: (addr: string, text: string) => reply(451, '4.2.0', `<${addr}> ${text}`),
  dataPermFail: (addr: string, text: string) => reply(554, '5.2.0', `<${addr}> ${text}`),
  diskFull: (addr: string) => reply(452, '4.3.1', `<${addr}> Not enough disk space`),
} as const;
