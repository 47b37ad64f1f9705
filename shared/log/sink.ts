/*
 * Where formatted log lines go, on top of winston (a fixed dependency): a file opened for append
 * (maillog_file, Dovecot's log_path / info_log_path / debug_log_path), or standard output/error
 * ("/dev/stdout", "/dev/stderr", the container mode `postfix start-fg` uses).
 *
 * Lines arrive already formatted (line-format.ts); winston only carries them, so the bytes on disk are
 * exactly the Postfix/Dovecot shapes. Syslog is not reachable from Node without a native module
 * (datagram Unix sockets), so "syslog" and an empty path write to standard error; an administrator who
 * keeps syslog-based tooling points maillog_file / log_path at the file those tools read (see docs).
 */
import winston from 'winston';
import { Writable } from 'node:stream';
import { appendFileSync } from 'node:fs';

export interface LogSink {
  write(line: string): void;
  /**
   * Resolves once the file is open (at once for streams and memory). A process that switches to
   * another uid after opening its log waits for this first: winston opens the file in the
   * background, and an open attempted after the switch can fail silently (the file belongs to the
   * user that created it), after which nothing is logged and close() never finishes.
   */
  opened?(): Promise<void>;
  /** Flushes and closes; safe to call twice. */
  close(): Promise<void>;
}

/** How long a file's log lines wait to be written together (see openLogSink). */
const FLUSH_MS = 10;

const passThrough = winston.format.printf((info) => String(info.message));

function streamFor(path: string): NodeJS.WritableStream | undefined {
  if (path === '/dev/stdout') return process.stdout;
  if (path === '' || path === 'syslog' || path === '/dev/stderr') return process.stderr;
  return undefined;
}

/** Opens a sink for a log path. Files are created if missing and appended to. */
export function openLogSink(path: string): LogSink {
  const stream = streamFor(path);
  const transport = stream
    ? new winston.transports.Stream({ stream })
    : new winston.transports.File({ filename: path, options: { flags: 'a' } });
  const logger = winston.createLogger({ level: 'silly', format: passThrough, transports: [transport] });
  let closed: Promise<void> | undefined;
  // A file's lines are written asynchronously anyway, so the lines logged within FLUSH_MS go to winston
  // as one message (its file transport adds the last line end): the same bytes, one pass through winston's
  // streams and one write(2) instead of one per line (about 12 % of the MTA's CPU under smtp-source load,
  // measured with --cpu-prof). The batch was first one event-loop turn; under load turns are short and the
  // per-write dispatch was still 6 % of the MTA's CPU, so it is now FLUSH_MS (smtp-source -s 20: 5,000
  // messages in 4.52-4.54 s before, 3.65-4.37 s after, one-sided bench runs). A crash loses at most that
  // many milliseconds of log lines, never mail. stdout/stderr keep one call per line: they are written
  // synchronously, and a command-line tool may exit right after logging.
  // Resolved by the file's 'open', or its first error (then the file is not usable anyway); a
  // bound on the wait so that a start-up never hangs on it.
  const opened: Promise<void> = stream
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5_000);
        t.unref();
        const done = (): void => {
          clearTimeout(t);
          resolve();
        };
        transport.once('open', done);
        transport.once('error', done);
      });
  let pending: string[] = [];
  // Lines that arrive after close() (a component still finishing while the daemon stops) cannot go
  // through winston, whose stream has ended ("write after end"). They wait for the file's last
  // write, then are appended synchronously, so the file keeps the order lines were logged in.
  let finished = false;
  let late: string[] = [];
  const appendLate = (): void => {
    if (late.length === 0) return;
    const text = `${late.join('\n')}\n`;
    late = [];
    try {
      appendFileSync(path, text);
    } catch {
      // The file is gone or unwritable: nowhere left to log.
    }
  };
  const flush = (): void => {
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    if (closed === undefined) {
      logger.info(lines.join('\n'));
      return;
    }
    late.push(...lines);
    if (finished) appendLate();
  };
  return {
    opened: () => opened,
    write(line: string): void {
      if (stream) {
        logger.info(line);
        return;
      }
      if (closed !== undefined) {
        late.push(line);
        if (finished) appendLate();
        return;
      }
      if (pending.length === 0) setTimeout(flush, FLUSH_MS);
      pending.push(line);
    },
    close(): Promise<void> {
      flush();
      closed ??= new Promise<void>((resolve) => {
        if (stream) {
          resolve();
          return;
        }
        transport.once('finish', () => {
          finished = true;
          appendLate();
          resolve();
        });
        logger.end();
      });
      return closed;
    },
  };
}

/** A sink that keeps lines in memory, for tests. */
export function memorySink(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    write: (line: string) => {
      lines.push(line);
    },
    close: async () => undefined,
  };
}

/** A sink writing to any Node stream (used by tests that need winston in the path). */
export function streamSink(stream: Writable): LogSink {
  const logger = winston.createLogger({
    level: 'silly',
    format: passThrough,
    transports: [new winston.transports.Stream({ stream })],
  });
  return {
    write: (line: string) => {
      logger.info(line);
    },
    close: async () => undefined,
  };
}
