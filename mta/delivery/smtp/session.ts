/*
 * One client connection to an SMTP server: connect with a time limit, read whole replies with a
 * per-stage deadline (the whole reply, not each read: a slowloris server that trickles bytes gets
 * no more than the stage's time), write with a progress time limit, and upgrade to TLS.
 * Every socket or TLS failure becomes a SessionError value with a kind the caller turns into
 * Postfix's reason text; nothing escapes as an unhandled 'error' event.
 * Distrusts: every byte from the server (ReplyParser bounds memory).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ReplyParser, ReplySyntaxError, type ReplyLimits, type ServerReply } from './reply-parser.js';

export type SessionErrorKind = 'connect' | 'timeout' | 'lost' | 'malformed' | 'tls';

export class SessionError extends Error {
  override readonly name = 'SessionError';
  constructor(
    readonly kind: SessionErrorKind,
    /** strerror-like detail: `Connection refused`, a TLS alert, the malformed line. */
    readonly detail: string,
  ) {
    super(`${kind}: ${detail}`);
  }
}

const STRERROR: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ECONNRESET: 'Connection reset by peer',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EADDRINUSE: 'Address already in use',
  EPIPE: 'Broken pipe',
  EACCES: 'Permission denied',
};

export function strerror(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && STRERROR[code]) return STRERROR[code]!;
  return err instanceof Error ? err.message : String(err);
}

export interface ConnectOptions {
  addr: string;
  port: number;
  localAddress?: string;
  timeoutMs: number;
  limits?: ReplyLimits;
  signal?: AbortSignal;
}

export class SmtpSession {
  private parser: ReplyParser;
  private waiter: { resolve: (r: ServerReply) => void; reject: (e: SessionError) => void } | undefined;
  private failure: SessionError | undefined;
  private closed = false;
  private readonly closeHooks: Array<() => void> = [];
  readonly connectedAt = Date.now();
  tls: TLSSocket | undefined;

  private constructor(
    private socket: Socket,
    private readonly limits: ReplyLimits | undefined,
  ) {
    this.parser = new ReplyParser(limits);
    this.attach(socket);
  }

  static connect(o: ConnectOptions): Promise<SmtpSession> {
    return new Promise((resolve, reject) => {
      const sock = netConnect({ host: o.addr, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
      const timer = setTimeout(() => done(new SessionError('connect', 'Connection timed out')), o.timeoutMs);
      const onAbort = (): void => done(new SessionError('connect', 'Operation canceled'));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const done = (err?: SessionError): void => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        sock.removeAllListeners('connect');
        sock.removeListener('error', onError);
        if (err) {
          sock.on('error', () => undefined);
          sock.destroy();
          reject(err);
        } else {
          resolve(new SmtpSession(sock, o.limits));
        }
      };
      const onError = (err: Error): void => done(new SessionError('connect', strerror(err)));
      sock.once('connect', () => done());
      sock.once('error', onError);
    });
  }

  private attach(sock: Socket): void {
    sock.on('data', this.onData);
    sock.on('error', this.onError);
    sock.on('close', this.onClose);
    sock.on('end', this.onEnd);
  }

  private detach(sock: Socket): void {
    sock.removeListener('data', this.onData);
    sock.removeListener('error', this.onError);
    sock.removeListener('close', this.onClose);
    sock.removeListener('end', this.onEnd);
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.fail(new SessionError('malformed', err instanceof ReplySyntaxError ? err.message : String(err)));
      this.socket.destroy();
      return;
    }
    this.deliver();
  };
  private readonly onError = (err: Error): void => this.fail(new SessionError('lost', strerror(err)));
  private readonly onEnd = (): void => this.fail(new SessionError('lost', 'Connection closed by peer'));
  private readonly onClose = (): void => {
    this.fail(new SessionError('lost', 'Connection closed'));
    this.closed = true;
    for (const h of this.closeHooks.splice(0)) h();
  };

  private fail(err: SessionError): void {
    this.failure ??= err;
    const w = this.waiter;
    if (w && !this.hasReply()) {
      this.waiter = undefined;
      w.reject(this.failure);
    }
  }

  private hasReply(): boolean {
    return this.peek() !== undefined;
  }
  private peeked: ServerReply | undefined;
  private peek(): ServerReply | undefined {
    this.peeked ??= this.parser.shift();
    return this.peeked;
  }

  private deliver(): void {
    const w = this.waiter;
    if (!w) return;
    const r = this.peek();
    if (r === undefined) return;
    this.peeked = undefined;
    this.waiter = undefined;
    w.resolve(r);
  }

  get isClosed(): boolean {
    return this.closed || this.failure !== undefined;
  }

  onceClosed(fn: () => void): void {
    if (this.closed) fn();
    else this.closeHooks.push(fn);
  }

  /** Reads one whole reply within timeoutMs. */
  read(timeoutMs: number): Promise<ServerReply> {
    const r = this.peek();
    if (r !== undefined) {
      this.peeked = undefined;
      return Promise.resolve(r);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new SessionError('timeout', 'timed out'));
      }, timeoutMs);
      this.waiter = {
        resolve: (x) => {
          clearTimeout(timer);
          resolve(x);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Writes and waits until the data is handed to the kernel, failing after timeoutMs without progress. */
  write(data: string | Buffer, timeoutMs: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new SessionError('timeout', 'timed out'));
        this.socket.destroy();
      }, timeoutMs);
      this.socket.write(data, (err) => {
        clearTimeout(timer);
        if (err) reject(this.failure ?? new SessionError('lost', strerror(err)));
        else resolve();
      });
    });
  }

  /**
   * Upgrades the connection after a 2xx reply to STARTTLS. Anything the server sent after that reply
   * in plaintext is discarded (RFC 3207 §5, the STARTTLS command injection defence).
   */
  startTls(options: ConnectionOptions, timeoutMs: number): Promise<TLSSocket> {
    const plain = this.socket;
    this.detach(plain);
    this.parser = new ReplyParser(this.limits);
    this.peeked = undefined;
    return new Promise((resolve, reject) => {
      const ts = tlsConnect({ ...options, socket: plain });
      const timer = setTimeout(() => finish(new SessionError('timeout', 'timed out')), timeoutMs);
      const finish = (err?: SessionError): void => {
        clearTimeout(timer);
        ts.removeListener('error', onErr);
        ts.removeListener('close', onClose);
        if (err) {
          this.failure ??= err;
          ts.on('error', () => undefined);
          ts.destroy();
          plain.destroy();
          reject(err);
          return;
        }
        this.socket = ts;
        this.tls = ts;
        this.attach(ts);
        resolve(ts);
      };
      const onErr = (e: Error): void => finish(new SessionError('tls', strerror(e)));
      const onClose = (): void => finish(new SessionError('tls', 'Connection closed during handshake'));
      ts.once('secureConnect', () => finish());
      ts.once('error', onErr);
      ts.once('close', onClose);
      plain.on('error', () => undefined);
    });
  }

  /** Sends QUIT without waiting for the answer (smtp_skip_quit_response = yes) and closes. */
  quit(): void {
    if (!this.failure && !this.closed) {
      this.socket.write('QUIT\r\n', () => undefined);
      this.socket.end();
      const t = setTimeout(() => this.socket.destroy(), 1000);
      t.unref();
    } else {
      this.socket.destroy();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
}
