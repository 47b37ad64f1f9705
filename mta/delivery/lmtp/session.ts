/*
 * One LMTP client connection (RFC 2033) as Postfix's lmtp(8) runs it: connect (Unix or TCP),
 * read the greeting, LHLO $lmtp_lhlo_name, then transactions; RSET before a cached connection is
 * reused, QUIT when it is retired. Every read has a timeout (lmtp_*_timeout); a timeout or lost
 * connection is reported with Postfix's wording and the stage it happened in:
 *   `conversation with H[A] timed out while receiving the initial server greeting`
 *   `lost connection with H[A] while performing the LHLO handshake`
 * Distrusts the server: bounded reply lines and counts (reply.ts), a reply without a waiter is
 * queued, never trusted to match a request it did not answer.
 */
import { connect, type Socket } from 'node:net';
import { ReplyParser, type ServerReply } from './reply.js';
import { endpointName, hostName, type LmtpTarget } from './target.js';

const MAX_LINE = 8192;

export interface LmtpTimeouts {
  /** Milliseconds; 0 = the operating system's own connect timeout (Postfix lmtp_connect_timeout = 0s). */
  connect: number;
  lhlo: number;
  mail: number;
  rcpt: number;
  dataInit: number;
  dataXfer: number;
  dataDone: number;
  rset: number;
  quit: number;
}

/** A failure of the connection as a whole: every recipient still open gets this reason. */
export class LmtpSessionError extends Error {
  override readonly name = 'LmtpSessionError';
  constructor(
    readonly reason: string,
    readonly dsn: string,
    /** Whether the connection had been set up (relay= names the host then, else `none`). */
    readonly connected: boolean,
  ) {
    super(reason);
  }
}

export class LmtpSession {
  readonly capabilities = new Set<string>();
  sizeLimit: number | undefined;
  readonly openedAt = Date.now();
  uses = 0;
  private buf = '';
  private readonly parser = new ReplyParser();
  private readonly replies: ServerReply[] = [];
  private waiter: { resolve: (r: ServerReply) => void; reject: (e: Error) => void } | undefined;
  private closedError: Error | undefined;
  private remoteAddr: string | undefined;

  private constructor(
    private readonly sock: Socket,
    readonly target: LmtpTarget,
    private readonly myhostname: string,
    readonly timeouts: LmtpTimeouts,
  ) {
    sock.setEncoding('latin1');
    sock.setNoDelay?.(true);
    sock.on('data', (d: string) => this.onData(d));
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('connection closed')));
    this.remoteAddr = target.kind === 'inet' ? sock.remoteAddress : undefined;
  }

  /** relay= value: `host[addr]:port` or `myhostname[private/…]`. */
  get relay(): string {
    return endpointName(this.target, this.myhostname, this.remoteAddr);
  }

  /** `host[addr]` as "host … said:" texts name it. */
  get host(): string {
    return hostName(this.target, this.myhostname, this.remoteAddr);
  }

  get alive(): boolean {
    return this.closedError === undefined && !this.sock.destroyed;
  }

  /** Connects, reads the greeting and does LHLO. Throws LmtpSessionError with Postfix's reason. */
  static async open(target: LmtpTarget, lhloName: string, myhostname: string, t: LmtpTimeouts, signal?: AbortSignal): Promise<LmtpSession> {
    const sock = await connectSocket(target, myhostname, t.connect, signal);
    const s = new LmtpSession(sock, target, myhostname, t);
    try {
      const greet = await s.read(t.lhlo, 'receiving the initial server greeting');
      if (greet.code !== 220) {
        throw new LmtpSessionError(`host ${s.host} refused to talk to me: ${oneLine(greet)}`, greet.code >= 500 ? '5.0.0' : '4.0.0', true);
      }
      s.write(`LHLO ${lhloName}\r\n`);
      const lhlo = await s.read(t.lhlo, 'performing the LHLO handshake');
      if (lhlo.code !== 250) {
        throw new LmtpSessionError(`host ${s.host} refused to talk to me: ${oneLine(lhlo)}`, lhlo.code >= 500 ? '5.0.0' : '4.0.0', true);
      }
      for (const l of lhlo.lines.slice(1)) {
        const kw = l.slice(4).trim().split(/\s+/);
        const name = (kw[0] ?? '').toUpperCase();
        if (name === '') continue;
        s.capabilities.add(name);
        if (name === 'SIZE' && kw[1] !== undefined && /^\d+$/.test(kw[1]) && Number(kw[1]) > 0) s.sizeLimit = Number(kw[1]);
      }
    } catch (err) {
      s.destroy();
      throw err;
    }
    return s;
  }

  write(data: string | Buffer): boolean {
    return this.sock.write(data);
  }

  /** Waits until the socket's write buffer has drained (backpressure for the body). */
  drain(timeoutMs: number, stage: string): Promise<void> {
    if (!this.sock.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => done(this.timeoutError(stage)), timeoutMs) : undefined;
      const onDrain = () => done();
      const onClose = () => done(this.lostError(stage));
      const done = (e?: Error) => {
        if (timer) clearTimeout(timer);
        this.sock.off('drain', onDrain);
        this.sock.off('close', onClose);
        if (e) reject(e);
        else resolve();
      };
      this.sock.on('drain', onDrain);
      this.sock.on('close', onClose);
    });
  }

  /** The next reply, within `timeoutMs`; `stage` names the wait in a timeout/lost-connection reason. */
  read(timeoutMs: number, stage: string): Promise<ServerReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedError) return Promise.reject(this.lostError(stage));
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => {
        this.waiter = undefined;
        this.destroy();
        reject(this.timeoutError(stage));
      }, timeoutMs) : undefined;
      this.waiter = {
        resolve: (r) => {
          if (timer) clearTimeout(timer);
          resolve(r);
        },
        reject: () => {
          if (timer) clearTimeout(timer);
          reject(this.lostError(stage));
        },
      };
    });
  }

  timeoutError(stage: string): LmtpSessionError {
    return new LmtpSessionError(`conversation with ${this.host} timed out while ${stage}`, '4.4.2', true);
  }

  lostError(stage: string): LmtpSessionError {
    return new LmtpSessionError(`lost connection with ${this.host} while ${stage}`, '4.4.2', true);
  }

  /** RSET before reuse; false when the connection is no good any more. */
  async rset(): Promise<boolean> {
    if (!this.alive) return false;
    try {
      this.write('RSET\r\n');
      const r = await this.read(this.timeouts.rset, 'sending RSET');
      if (r.code !== 250) {
        this.destroy();
        return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** QUIT and close; never throws. */
  async quit(): Promise<void> {
    if (this.alive) {
      try {
        this.write('QUIT\r\n');
        await this.read(Math.min(this.timeouts.quit, 5000), 'sending QUIT');
      } catch {
        // closing anyway
      }
    }
    this.sock.end();
    this.destroy();
  }

  destroy(): void {
    if (!this.sock.destroyed) this.sock.destroy();
    this.fail(new Error('closed'));
  }

  private onData(d: string): void {
    this.buf += d;
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) break;
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      let reply: ServerReply | undefined;
      try {
        reply = this.parser.push(line);
      } catch (err) {
        this.fail(err as Error);
        this.sock.destroy();
        return;
      }
      if (!reply) continue;
      const w = this.waiter;
      if (w) {
        this.waiter = undefined;
        w.resolve(reply);
      } else {
        this.replies.push(reply);
      }
    }
    if (this.buf.length > MAX_LINE) {
      this.fail(new Error('reply line too long'));
      this.sock.destroy();
    }
  }

  private fail(e: Error): void {
    this.closedError ??= e;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }
}

function oneLine(r: ServerReply): string {
  return r.lines.map((l, i) => (i === 0 ? l.replace(/^(\d{3})-/, '$1 ') : l.slice(4))).join(' ');
}

/** strerror(3) texts for the connect errors Postfix reports. */
function strerror(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT': return 'No such file or directory';
    case 'ECONNREFUSED': return 'Connection refused';
    case 'EACCES': return 'Permission denied';
    case 'ETIMEDOUT': return 'Connection timed out';
    case 'EHOSTUNREACH': return 'No route to host';
    case 'ENETUNREACH': return 'Network is unreachable';
    case 'ENOTSOCK': return 'Socket operation on non-socket';
    case 'ECONNRESET': return 'Connection reset by peer';
    case 'ENOTFOUND': return 'Host not found';
    default: return err.message;
  }
}

function connectSocket(target: LmtpTarget, myhostname: string, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = target.kind === 'unix' ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
    const name = endpointName(target, myhostname);
    let timer: NodeJS.Timeout | undefined;
    const finish = (e?: LmtpSessionError) => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.off('error', onError);
      sock.off('connect', onConnect);
      if (e) {
        sock.destroy();
        reject(e);
      } else {
        resolve(sock);
      }
    };
    const onError = (err: NodeJS.ErrnoException) => {
      if (target.kind === 'inet' && err.code === 'ENOTFOUND') {
        finish(new LmtpSessionError(`Host or domain name not found. Name service error for name=${target.host} type=A: Host not found`, '4.4.3', false));
        return;
      }
      finish(new LmtpSessionError(`connect to ${name}: ${strerror(err)}`, '4.4.1', false));
    };
    const onConnect = () => finish();
    const onAbort = () => finish(new LmtpSessionError(`connect to ${name}: Operation canceled`, '4.4.1', false));
    if (timeoutMs > 0) timer = setTimeout(() => finish(new LmtpSessionError(`connect to ${name}: Connection timed out`, '4.4.1', false)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('error', onError);
    sock.once('connect', onConnect);
  });
}
