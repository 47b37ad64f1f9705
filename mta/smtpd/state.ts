/*
 * smtpd's protocol state machine, pure: which commands exist (Postfix 3.7's smtpd_cmd_table order,
 * which is also the order of the `disconnect from …` counters), their flags, how a raw line is
 * classified (empty, non-SMTP, unknown, command), and which sequencing reply a command gets in each
 * state. Handlers (commands-*.ts) run only once this file has let a command through.
 *
 * States: 'idle' (no MAIL yet), 'mail' (MAIL accepted, no recipient), 'rcpt' (≥ 1 recipient).
 * A BDAT transfer in progress is tracked beside the state (bdatUsed), as Postfix's bdat_state is.
 * Distrusts the line: NUL ends it (as a C string would), header-like first words and
 * smtpd_forbidden_commands end the session with `221 2.7.0 Error: I can break rules, too. Goodbye.`
 */
import type { SmtpReply } from '../../shared/proto/smtp-reply.js';
import { R } from './replies.js';

export type SmtpdState = 'idle' | 'mail' | 'rcpt';

export type CommandName = 'HELO' | 'EHLO' | 'STARTTLS' | 'AUTH' | 'MAIL' | 'RCPT' | 'DATA' | 'BDAT' | 'RSET' | 'NOOP' | 'VRFY' | 'ETRN' | 'QUIT';

export interface CommandFlags {
  /** Allowed before STARTTLS when TLS is required (smtpd_tls_security_level = encrypt). */
  preTls: boolean;
  /** Counts toward smtpd_junk_command_limit. */
  limit: boolean;
  /** Ends a pipelined group (RFC 2920 §3.1): anything sent after it without waiting is improper. */
  last: boolean;
}

/** In Postfix's table order. */
export const COMMANDS: Readonly<Record<CommandName, CommandFlags>> = {
  HELO: { preTls: true, limit: true, last: true },
  EHLO: { preTls: true, limit: true, last: true },
  STARTTLS: { preTls: true, limit: false, last: true },
  AUTH: { preTls: false, limit: false, last: true },
  MAIL: { preTls: false, limit: false, last: false },
  RCPT: { preTls: false, limit: false, last: false },
  DATA: { preTls: false, limit: false, last: true },
  BDAT: { preTls: false, limit: false, last: false },
  RSET: { preTls: false, limit: true, last: false },
  NOOP: { preTls: true, limit: true, last: true },
  VRFY: { preTls: false, limit: true, last: true },
  ETRN: { preTls: false, limit: true, last: false },
  QUIT: { preTls: true, limit: false, last: false },
};

export const COUNTER_ORDER: readonly string[] = [...Object.keys(COMMANDS).map((c) => c.toLowerCase()), 'unknown'];

export type LineClass =
  | { kind: 'empty' }
  | { kind: 'forbidden'; text: string }
  | { kind: 'unknown'; name: string }
  | { kind: 'command'; name: CommandName; args: string };

const FORBIDDEN = new Set(['CONNECT', 'GET', 'POST']);

/** A first word that looks like a message header name followed by a colon (Postfix is_header()). */
export function isHeaderLike(word: string): boolean {
  return /^[\x21-\x39\x3b-\x7e]+:/.test(word);
}

export function classifyLine(raw: string): LineClass {
  const nul = raw.indexOf('\0');
  const line = nul >= 0 ? raw.slice(0, nul) : raw;
  const trimmed = line.replace(/^[ \t]+/, '');
  if (trimmed.trim() === '') return { kind: 'empty' };
  const m = /^(\S+)(?:[ \t]+(.*))?$/.exec(trimmed.replace(/[ \t]+$/, ''));
  const word = m?.[1] ?? trimmed;
  const args = m?.[2] ?? '';
  const upper = word.toUpperCase();
  if (isHeaderLike(word) || FORBIDDEN.has(upper) || !/^[A-Za-z]/.test(word)) return { kind: 'forbidden', text: line };
  if (Object.hasOwn(COMMANDS, upper)) return { kind: 'command', name: upper as CommandName, args };
  return { kind: 'unknown', name: upper };
}

export interface SequenceFacts {
  state: SmtpdState;
  heloRequired: boolean;
  heloSeen: boolean;
  /** A BDAT was given in this transaction (DATA is then refused). */
  bdatUsed: boolean;
  /** TLS is required and not active. */
  needTls: boolean;
}

/** The reply a command gets before its own syntax is looked at, or undefined to run it. */
export function sequenceError(cmd: CommandName, f: SequenceFacts): SmtpReply | undefined {
  if (f.needTls && !COMMANDS[cmd].preTls) return R.mustStarttls;
  switch (cmd) {
    case 'MAIL':
      if (f.heloRequired && !f.heloSeen) return R.sendHeloFirst;
      if (f.bdatUsed) return R.mailAfterBdat;
      if (f.state !== 'idle') return R.nestedMail;
      return undefined;
    case 'RCPT':
      if (f.state === 'idle') return R.needMail;
      return f.bdatUsed ? R.rcptAfterBdat : undefined;
    case 'DATA':
      if (f.bdatUsed) return R.dataAfterBdat;
      if (f.state === 'idle') return R.needRcpt;
      if (f.state === 'mail') return R.noValidRecipients;
      return undefined;
    case 'ETRN':
      if (f.heloRequired && !f.heloSeen) return { code: 503, text: 'Error: send HELO/EHLO first' };
      if (f.state !== 'idle') return R.etrnInTransaction;
      return undefined;
    default:
      return undefined;
  }
}

/** BDAT's checks after its syntax (the chunk is read and dropped when this returns a reply). */
export function bdatSequenceError(f: SequenceFacts): SmtpReply | undefined {
  if (f.state === 'idle') return R.needRcpt;
  if (f.state === 'mail') return R.noValidRecipients;
  return undefined;
}
