/*
 * One client connection: the thin adapter between a net/tls socket and an ImapSession. It feeds
 * bytes to the incremental parser, runs one command at a time (the socket is paused while a
 * command runs, so a pipelining client is held back by TCP, not by our memory), writes `+ OK` for
 * synchronising literals, hands raw lines to AUTHENTICATE and IDLE, upgrades to TLS for STARTTLS,
 * and enforces the timeouts.
 *
 * Backpressure: output goes to the socket; a command waits (io.drain) whenever the socket's buffer
 * is over its high-water mark, and the next command is not read before the buffer drained, so a
 * client that stops reading stops the server from producing more for it.
 * Distrusts: all input — sizes are bounded by the parser (imap_max_line_length, the literal limit
 * checked before any literal byte is buffered or `+ OK` is sent), bad commands are counted.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { dispatch, replyCounted } from './dispatch.js';
import { ImapCommandParser } from './proto/command-parser.js';
import { PRELOGIN_BAD_TEXT } from './proto/errors.js';
import { withTiming } from './proto/formatter.js';
import { ImapSession, type SessionDeps, type SessionIo } from './session.js';
import { preLoginCapabilityOf } from './login-policy.js';
import { postLoginCapability } from './capabilities.js';
import { mapError } from './errors.js';
import { taggedResponse } from './proto/formatter.js';
import type { DetachedConnection } from '../worker/route.js';
import type { ConnectionState } from '../worker/protocol.js';
import { mdaEvents } from '../log-events.js';

export interface ConnectionOptions {
  readonly deps: SessionDeps;
  /** For STARTTLS; undefined when TLS is not configured. */
  readonly secureContext: SecureContext | undefined;
  /** The socket is already TLS (imaps). */
  readonly implicitTls: boolean;
  readonly onClose?: () => void;
  /**
   * In a mail worker: the session a login side handed over (its ID and the client's addresses;
   * the socket may be the plaintext end of a pipe from the master's TLS connection).
   */
  readonly resumed?: { readonly session: string; readonly conn: ConnectionState };
}

const normIp = (ip: string | undefined): string => (ip ?? '').replace(/^::ffff:/, '');

export class ImapConnection implements SessionIo {
  private socket: Socket;
  private readonly parser: ImapCommandParser;
  readonly session: ImapSession;
  private busy = false;
  private closed = false;
  private markEnded!: () => void;
  /** Settles when the connection is over: torn down (and logged) or handed to a mail worker. */
  readonly ended: Promise<void> = new Promise((resolve) => (this.markEnded = resolve));
  private lineWaiter: ((l: string | undefined | null) => void) | undefined;
  private drainWaiters: (() => void)[] = [];
  /** Output of this event-loop turn, written together by flushOut(). */
  private out: Buffer[] = [];
  private flushScheduled = false;
  private tls: boolean;
  private currentCommand: string | undefined;
  /** Set by kick(): the reason the disconnect log line gives. */
  private closeReason: string | undefined;
  readonly remoteIp: string;
  readonly localIp: string;
  readonly remotePort: number;
  readonly localPort: number;

  constructor(socket: Socket, private readonly opts: ConnectionOptions) {
    this.socket = socket;
    // A response is written in several pieces (untagged lines, then the tagged one); with Nagle's
    // algorithm on, the last piece waits for the client's delayed ACK (~40 ms a command). Dovecot
    // sets TCP_NODELAY too. Measured with bench/ (IMAP workload): p50 44 ms → 8 ms.
    socket.setNoDelay?.(true);
    const r = opts.resumed?.conn;
    this.tls = r?.tls ?? opts.implicitTls;
    this.remoteIp = r?.remoteIp ?? normIp(socket.remoteAddress);
    this.localIp = r?.localIp ?? normIp(socket.localAddress);
    this.remotePort = r?.remotePort ?? socket.remotePort ?? 0;
    this.localPort = r?.localPort ?? socket.localPort ?? 0;
    const s = opts.deps.settings;
    this.parser = new ImapCommandParser({
      maxLineLength: s.imap_max_line_length,
      maxLiteralSize: (cmd) => (cmd === 'APPEND' && this.session.state !== 'not-authenticated' ? s.postern_imap_max_append_size : s.imap_max_line_length),
    });
    this.session = new ImapSession(this, opts.deps, opts.resumed?.session);
  }

  get tlsActive(): boolean {
    return this.tls;
  }

  start(): void {
    this.attach(this.socket);
    this.write(`* OK [CAPABILITY ${preLoginCapabilityOf(this.session)}] ${this.opts.deps.settings.login_greeting}\r\n`);
    this.armTimeout();
  }

  /**
   * In a mail worker: continue a session the login side authenticated. Opens the user's mail,
   * answers the login command with the tag it was given, then serves what the client pipelined.
   * If the mail cannot be opened the client gets the error as a tagged NO and the connection ends
   * (this process cannot authenticate anyone).
   */
  async resume(tag: string, user: string, pending: Buffer): Promise<void> {
    this.busy = true;
    this.socket.pause();
    this.attach(this.socket);
    if (pending.length > 0) this.parser.push(pending);
    try {
      await this.session.resumeLogin(user);
    } catch (err) {
      const m = mapError(err);
      if (m.log !== undefined) this.session.log.error(mdaEvents.mail.imapInternalError('LOGIN', m.log));
      this.write(taggedResponse(tag, 'NO', m.error.text, m.error.code));
      this.busy = false;
      this.close();
      return;
    }
    this.write(taggedResponse(tag, 'OK', 'Logged in', { name: 'CAPABILITY', args: postLoginCapability(this.session.settings) }));
    this.armTimeout();
    this.busy = false;
    this.socket.resume();
    void this.pump();
  }

  /** SessionIo.handOff: stop serving this socket and give it (with unparsed input) to a mail worker. */
  handOff(): DetachedConnection {
    this.flushOut();
    this.closed = true;
    const sock = this.socket;
    this.detach(sock);
    sock.pause();
    sock.setTimeout(0);
    sock.on('error', () => undefined);
    this.releaseDrain();
    this.opts.onClose?.();
    this.markEnded();
    return {
      socket: sock,
      tls: this.tls,
      pending: this.parser.takeBuffered(),
      conn: { remoteIp: this.remoteIp, localIp: this.localIp, remotePort: this.remotePort, localPort: this.localPort, tls: this.tls },
    };
  }

  private attach(sock: Socket): void {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('drain', () => this.releaseDrain());
    sock.on('error', () => this.teardown('Connection closed'));
    sock.on('close', () => this.teardown('Connection closed'));
    sock.on('timeout', () => this.onTimeout());
  }

  private detach(sock: Socket): void {
    sock.removeAllListeners('data');
    sock.removeAllListeners('drain');
    sock.removeAllListeners('error');
    sock.removeAllListeners('close');
    sock.removeAllListeners('timeout');
  }

  private armTimeout(): void {
    const s = this.opts.deps.settings;
    this.socket.setTimeout(this.session.state === 'not-authenticated' ? s.postern_imap_login_idle_timeout : s.postern_imap_idle_timeout);
  }

  private onTimeout(): void {
    if (this.currentCommand === 'IDLE') return;
    this.write('* BYE Disconnected for inactivity.\r\n');
    this.close();
    void this.teardown('Disconnected for inactivity');
  }

  /**
   * `doveadm kick` and the daemon's stop: what Dovecot's imap does on SIGTERM (clients_destroy_all):
   * `* BYE Server shutting down.`, then `Disconnected: Server shutting down.` in the log. Before login
   * it is what imap-login does on SIGTERM (observed): `* BYE Shutting down`, logged as
   * `Disconnected: Shutting down (no auth attempts in 0 secs): …`. Resolves once the connection ended.
   */
  kick(): Promise<void> {
    if (this.closed) return this.ended;
    const reason = this.session.state === 'not-authenticated' ? 'Shutting down' : 'Server shutting down.';
    this.closeReason = reason;
    this.write(`* BYE ${reason}\r\n`);
    this.close();
    // A client that does not read keeps the socket from closing: it is destroyed after a second.
    setTimeout(() => void this.teardown(reason), 1000).unref();
    return this.ended;
  }

  // --- SessionIo ---------------------------------------------------------------------------------

  write(data: string | Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    // Output is coalesced per event-loop turn: a command's untagged lines and its tagged reply go
    // out in one writev instead of one send each (socket writes were ~7 % of CPU under the IMAP
    // bench). flushOut() runs before any wait for the client, so nothing waits on held output.
    this.out.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushOut());
    }
  }

  private flushOut(): void {
    this.flushScheduled = false;
    if (this.out.length === 0) return;
    const out = this.out;
    this.out = [];
    if (this.closed || this.socket.destroyed) return;
    if (out.length === 1) {
      this.socket.write(out[0]!);
      return;
    }
    this.socket.cork();
    for (const b of out) this.socket.write(b);
    this.socket.uncork();
  }

  drain(): Promise<void> {
    this.flushOut();
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private releaseDrain(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  readLine(): Promise<string | undefined | null> {
    this.flushOut();
    if (this.closed) return Promise.resolve(undefined);
    const l = this.parser.takeLine();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve) => {
      this.lineWaiter = resolve;
      this.socket.resume();
    });
  }

  async startTls(): Promise<void> {
    const ctx = this.opts.secureContext;
    if (ctx === undefined) throw new Error('TLS not configured');
    this.parser.discard();
    this.flushOut();
    const raw = this.socket;
    this.detach(raw);
    const t = new TLSSocket(raw, { isServer: true, secureContext: ctx });
    this.socket = t;
    this.attach(t);
    await new Promise<void>((resolve, reject) => {
      t.once('secure', () => resolve());
      t.once('error', reject);
    });
    this.tls = true;
  }

  close(): void {
    if (this.closed) return;
    this.flushOut();
    this.socket.end();
  }

  // --- input -------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.session.stats.in += chunk.length;
    this.parser.push(chunk);
    if (this.lineWaiter !== undefined) {
      const l = this.parser.takeLine();
      if (l !== undefined) {
        const w = this.lineWaiter;
        this.lineWaiter = undefined;
        this.socket.pause();
        w(l);
      }
      return;
    }
    if (!this.busy) void this.pump();
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (!this.closed) {
        const r = this.parser.next();
        if (r.kind === 'need-more') break;
        if (r.kind === 'continuation') {
          this.write(`+ ${r.text}\r\n`);
          continue;
        }
        if (r.kind === 'error') {
          if (r.fatal) {
            this.write(`* BYE ${r.message}\r\n`);
            this.close();
            return;
          }
          const pre = this.session.state === 'not-authenticated';
          const text = pre ? PRELOGIN_BAD_TEXT : withTiming(r.text, '0.000 + 0.000 secs');
          // r.text is a command error (commandErrorText): it counts after login too.
          if (replyCounted(this.session, `${r.tag} BAD ${text}\r\n`, 'BAD', r.text)) {
            this.close();
            return;
          }
          continue;
        }
        this.socket.pause();
        this.currentCommand = r.command.name;
        let outcome;
        try {
          outcome = await dispatch(this.session, r.command);
        } finally {
          this.currentCommand = undefined;
        }
        if (outcome === 'close') {
          this.close();
          return;
        }
        if (outcome === 'detached') return;
        this.armTimeout();
        await this.drain();
        if (this.closed) return;
        this.socket.resume();
      }
    } catch (err) {
      this.session.log.error(`connection failed: ${err instanceof Error ? err.message : String(err)}`);
      this.close();
    } finally {
      this.busy = false;
    }
  }

  private async teardown(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lineWaiter?.(undefined);
    this.lineWaiter = undefined;
    this.releaseDrain();
    this.socket.destroy();
    const r = this.closeReason ?? this.session.byeReason ?? (this.session.state === 'logout' ? 'Logged out' : reason);
    await this.session.end(r).catch(() => undefined);
    this.opts.onClose?.();
    this.markEnded();
  }
}
