/*
 * The two loggers the daemons use: Postfix-shaped for the MTA, Dovecot-shaped for the MDA.
 *
 * Postfix: one logger per program ("smtpd", "qmgr" …) under `syslog_name` (which master.cf may
 * override per service, e.g. postfix/submission), all writing to `maillog_file`.
 * Dovecot: errors and warnings to `log_path`, info to `info_log_path` (empty = log_path), debug to
 * `debug_log_path` (empty = info_log_path), every line prefixed as Dovecot prefixes it.
 * Passwords and message bodies never reach a logger: callers log events from the closed catalogues
 * (mta/log-events.ts, mda/log-events.ts), not free text built from client data.
 */
import { formatDovecotLine, formatPostfixLine, type DovecotLevel, type PostfixSeverity } from './line-format.js';
import type { LogSink } from './sink.js';

export interface Log {
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  fatal(text: string): void;
}

export interface PostfixLoggerOptions {
  sink: LogSink;
  /** myhostname. */
  host: string;
  /** syslog_name, "postfix" by default; may itself contain a slash ("postfix/submission"). */
  syslogName: string;
  /** The Postfix program whose role this code plays: "smtpd", "cleanup", "qmgr", "lmtp" … */
  program: string;
  pid?: number;
  now?: () => Date;
}

export function postfixLogger(o: PostfixLoggerOptions): Log {
  const progname = `${o.syslogName}/${o.program}`;
  const pid = o.pid ?? process.pid;
  const now = o.now ?? (() => new Date());
  const emit = (severity: PostfixSeverity) => (text: string) =>
    o.sink.write(formatPostfixLine({ time: now(), host: o.host, progname, pid, severity, text }));
  return { info: emit('info'), warn: emit('warning'), error: emit('error'), fatal: emit('fatal') };
}

export interface DovecotLoggerOptions {
  /** log_path sink: Warning, Error, Fatal, Panic. */
  errorSink: LogSink;
  /** info_log_path sink (the error sink when info_log_path is empty). */
  infoSink: LogSink;
  /** debug_log_path sink (the info sink when empty). */
  debugSink: LogSink;
  /** log_timestamp. */
  timestamp: string;
  now?: () => Date;
}

export interface DovecotLog extends Log {
  debug(text: string): void;
}

/** Returns a factory of prefixed loggers: `forPrefix('imap-login')`, `forPrefix('imap(alice)<12><abc>')`. */
export function dovecotLogger(o: DovecotLoggerOptions): (prefix: string) => DovecotLog {
  const now = o.now ?? (() => new Date());
  return (prefix: string) => {
    const emit = (sink: LogSink, level: DovecotLevel) => (text: string) =>
      sink.write(formatDovecotLine({ time: now(), timestamp: o.timestamp, prefix, level, text }));
    return {
      debug: emit(o.debugSink, 'Debug'),
      info: emit(o.infoSink, 'Info'),
      warn: emit(o.errorSink, 'Warning'),
      error: emit(o.errorSink, 'Error'),
      fatal: emit(o.errorSink, 'Fatal'),
    };
  };
}
