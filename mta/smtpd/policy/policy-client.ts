/*
 * The client side of Postfix's SMTPD policy delegation protocol (SMTPD_POLICY_README; attr_clnt,
 * auto_clnt and attr_print_plain/attr_scan_plain in Postfix): a request is `name=value` lines ended
 * by an empty line; the reply is `name=value` lines ended by an empty line, of which only `action`
 * is used (other attributes are ignored, as Postfix 3.7 ignores them; a reply without `action` is a
 * failure: `warning: missing attribute action in input from NAME`).
 *
 * One PolicyClient per check_policy_service endpoint. Postfix's smtpd is one process per session and
 * keeps one connection per service; Postern serves many sessions in one process, so the client keeps
 * a pool of idle connections: a request takes an idle connection (or connects), and gives it back
 * afterwards unless it has reached max_ttl (smtpd_policy_service_max_ttl, counted from connect) or
 * request_limit requests. Idle connections are closed after max_idle. The timeout applies to the
 * connect and to each request/reply exchange.
 *
 * Failures (connect error, timeout, EOF, a malformed, over-long or action-less reply) close the
 * connection and are retried after retry_delay, up to try_limit tries; the caller then applies
 * default_action. Log lines are Postfix 3.7.11's (observed): `warning: connect to NAME: Connection
 * refused`, `warning: problem talking to server NAME: Connection timed out` (logged after every
 * try that failed with a system error other than EPIPE/ENOENT/ECONNRESET, and after every try
 * after the first; "Application error" when there is no system error).
 */
import { connect, type Socket } from 'node:net';

export type PolicyEndpoint = { kind: 'inet'; host: string; port: number } | { kind: 'unix'; path: string };

export interface PolicyClientSettings {
  timeoutMs: number;
  maxIdleMs: number;
  maxTtlMs: number;
  tryLimit: number;
  retryDelayMs: number;
  /** 0 = no limit. */
  requestLimit: number;
}

/** Bound on one reply (all its lines): a longer reply is a failure, never buffered without end. */
export const MAX_POLICY_REPLY = 256 * 1024;

class PolicyFailure extends Error {
  constructor(
    message: string,
    /** errno name (ECONNREFUSED …), or undefined for a protocol error (Postfix: "Application error"). */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ETIMEDOUT: 'Connection timed out',
  ECONNRESET: 'Connection reset by peer',
  EPIPE: 'Broken pipe',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ENOTSOCK: 'Socket operation on non-socket',
  ECONNABORTED: 'Software caused connection abort',
  EADDRNOTAVAIL: 'Cannot assign requested address',
};

function errnoText(code: string | undefined): string {
  if (code === undefined) return 'Application error';
  return ERRNO_TEXT[code] ?? code;
}

interface Conn {
  socket: Socket;
  created: number;
  requests: number;
  idleTimer?: NodeJS.Timeout;
  /** Bytes received and not yet consumed. */
  buf: string;
  /** Set while a request waits for data or close. */
  wake?: () => void;
  closed: boolean;
  error?: NodeJS.ErrnoException;
}

export interface PolicyClientOptions {
  log: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Encodes a request: `name=value\n` lines and the empty line. Newlines in values are replaced by spaces. */
export function encodeRequest(attrs: ReadonlyArray<readonly [string, string]>): string {
  return attrs.map(([k, v]) => `${k}=${v.replace(/[\r\n]/g, ' ')}\n`).join('') + '\n';
}

/** Parses reply lines (without the terminating empty line) into the `action` value, if any. */
export function replyAction(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    if (line.slice(0, eq) === 'action') return line.slice(eq + 1);
  }
  return undefined;
}

export class PolicyClient {
  private readonly idle: Conn[] = [];
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private closedForGood = false;

  constructor(
    /** The name Postfix logs: `127.0.0.1:10023`, `private/policy`, `/run/x.sock`. */
    readonly name: string,
    readonly endpoint: PolicyEndpoint,
    readonly settings: PolicyClientSettings,
    private readonly opts: PolicyClientOptions,
  ) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = opts.now ?? Date.now;
  }

  /** Sends one request; resolves with the action, or undefined when every try failed. */
  async request(attrs: ReadonlyArray<readonly [string, string]>): Promise<string | undefined> {
    const text = encodeRequest(attrs);
    const tries = Math.max(1, this.settings.tryLimit);
    for (let n = 1; n <= tries; n++) {
      let conn: Conn | undefined;
      try {
        conn = await this.take();
        const action = await this.exchange(conn, text);
        this.give(conn);
        return action;
      } catch (err) {
        if (conn !== undefined) this.destroy(conn);
        const f = err instanceof PolicyFailure ? err : new PolicyFailure((err as Error).message, (err as NodeJS.ErrnoException).code);
        if (f.message !== '') this.opts.log(`warning: ${f.message}`);
        const benign = f.code === undefined || f.code === 'EPIPE' || f.code === 'ENOENT' || f.code === 'ECONNRESET';
        if (n > 1 || !benign) this.opts.log(`warning: problem talking to server ${this.name}: ${errnoText(f.code)}`);
        if (n < tries) await this.sleep(this.settings.retryDelayMs);
      }
    }
    return undefined;
  }

  /** Closes every idle connection (daemon stop, tests). */
  close(): void {
    this.closedForGood = true;
    for (const c of this.idle.splice(0)) this.destroy(c);
  }

  private expired(c: Conn): boolean {
    if (c.closed) return true;
    if (this.now() - c.created >= this.settings.maxTtlMs) return true;
    return this.settings.requestLimit > 0 && c.requests >= this.settings.requestLimit;
  }

  private async take(): Promise<Conn> {
    for (;;) {
      const c = this.idle.pop();
      if (c === undefined) break;
      if (c.idleTimer) clearTimeout(c.idleTimer);
      if (this.expired(c) || c.buf !== '') {
        this.destroy(c);
        continue;
      }
      c.socket.ref();
      return c;
    }
    return this.open();
  }

  private give(c: Conn): void {
    if (this.closedForGood || this.expired(c)) {
      this.destroy(c);
      return;
    }
    c.socket.unref();
    c.idleTimer = setTimeout(() => {
      const i = this.idle.indexOf(c);
      if (i >= 0) this.idle.splice(i, 1);
      this.destroy(c);
    }, this.settings.maxIdleMs);
    c.idleTimer.unref();
    this.idle.push(c);
  }

  private destroy(c: Conn): void {
    if (c.idleTimer) clearTimeout(c.idleTimer);
    c.closed = true;
    c.socket.destroy();
  }

  private open(): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const ep = this.endpoint;
      const socket = ep.kind === 'inet' ? connect({ host: ep.host, port: ep.port }) : connect({ path: ep.path });
      const c: Conn = { socket, created: this.now(), requests: 0, buf: '', closed: false };
      socket.setEncoding('latin1');
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new PolicyFailure('', 'ETIMEDOUT'));
      }, this.settings.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', onConnectError);
        socket.on('error', (err: NodeJS.ErrnoException) => {
          c.error ??= err;
          c.wake?.();
        });
        resolve(c);
      });
      const onConnectError = (err: NodeJS.ErrnoException): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new PolicyFailure(`connect to ${this.name}: ${errnoText(err.code)}`, err.code));
      };
      socket.once('error', onConnectError);
      socket.on('data', (d: string) => {
        c.buf += d;
        c.wake?.();
      });
      socket.on('close', () => {
        c.closed = true;
        c.wake?.();
      });
    });
  }

  /** Writes the request and reads one reply, within the timeout. */
  private async exchange(c: Conn, text: string): Promise<string> {
    c.requests++;
    c.socket.write(text, 'latin1');
    const deadline = this.now() + this.settings.timeoutMs;
    for (;;) {
      const end = c.buf.indexOf('\n\n');
      const start = c.buf.startsWith('\n') ? 0 : -1;
      if (start === 0 || end >= 0) {
        const cut = start === 0 ? 0 : end + 1;
        const body = c.buf.slice(0, cut);
        c.buf = c.buf.slice(cut + 1);
        const lines = body === '' ? [] : body.replace(/\n$/, '').split('\n');
        const action = replyAction(lines);
        if (action === undefined) throw new PolicyFailure(`missing attribute action in input from ${this.name}`, undefined);
        return action;
      }
      if (c.buf.length > MAX_POLICY_REPLY) throw new PolicyFailure(`policy reply from ${this.name} exceeds ${MAX_POLICY_REPLY} bytes`, undefined);
      if (c.error) throw new PolicyFailure('', c.error.code ?? 'ECONNRESET');
      if (c.closed) throw new PolicyFailure(`premature end-of-input on ${this.name} while reading input attribute name`, undefined);
      const left = deadline - this.now();
      if (left <= 0) throw new PolicyFailure('', 'ETIMEDOUT');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        c.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      c.wake = undefined;
    }
  }
}
