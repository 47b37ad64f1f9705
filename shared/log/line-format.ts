/*
 * The two log line shapes that administrators' tools parse, as pure functions.
 *
 * Postfix (src/util/msg_logger.c, what maillog_file receives):
 *   "Nov 27 17:42:39 mx postfix/smtpd[15672]: connect from localhost[127.0.0.1]"
 *   severity other than info is written after the pid: "…[pid]: warning: text".
 *   The host is the first label of myhostname only. Time is local time.
 *
 * Dovecot (log_path = a file; src/lib/failures.c): "<log_timestamp><prefix>: <Level>: <text>"
 *   "Nov 27 17:41:14 imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127.0.0.1, …"
 *   Through syslog the level word is dropped for Info and the syslog header carries "dovecot: ".
 *
 * Text is untrusted (it can carry client-supplied strings): control characters are escaped the way
 * Postfix's printable() does for log safety, so one event is always one line.
 */
import { strftime } from './strftime.js';

export type PostfixSeverity = 'info' | 'warning' | 'error' | 'fatal' | 'panic';
export type DovecotLevel = 'Debug' | 'Info' | 'Warning' | 'Error' | 'Fatal' | 'Panic';

/** Replaces control characters (and DEL) with '?', as Postfix does before logging client input. */
export function logSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '?');
}

export interface PostfixLineFields {
  time: Date;
  /** myhostname; only its first label is printed. */
  host: string;
  /** syslog_name plus the program: "postfix/smtpd", "postfix/submission/smtpd". */
  progname: string;
  pid: number;
  severity: PostfixSeverity;
  text: string;
}

export function formatPostfixLine(f: PostfixLineFields): string {
  const host = f.host.split('.')[0] || f.host;
  const sev = f.severity === 'info' ? '' : `${f.severity}: `;
  return `${strftime('%b %d %H:%M:%S ', f.time)}${host} ${f.progname}[${f.pid}]: ${sev}${logSafe(f.text)}`;
}

export interface DovecotLineFields {
  time: Date;
  /** The log_timestamp setting, a strftime format (Dovecot's default "%b %d %H:%M:%S "). */
  timestamp: string;
  /** "imap-login", "auth", "lmtp(alice@example.org)<1234><Qx7…>". */
  prefix: string;
  level: DovecotLevel;
  text: string;
}

export function formatDovecotLine(f: DovecotLineFields): string {
  return `${strftime(f.timestamp, f.time)}${f.prefix}: ${f.level}: ${logSafe(f.text)}`;
}
