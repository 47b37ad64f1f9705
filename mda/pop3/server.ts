/*
 * The POP3 socket adapter: listeners from `service pop3-login { inet_listener pop3 { … } inet_listener pop3s
 * { ssl = yes } }`, implicit TLS on pop3s, STLS upgrades, line reading with the session's bound, idle
 * timeouts, backpressure both ways, and shutdown. All protocol decisions are in session.ts; this file only moves
 * bytes and turns socket events into session calls. Dependencies are injected (DESIGN §2 rule 6: only entry
 * points choose backends): mda/main.ts passes the settings, the auth, the store opener, the logger factory and
 * the TLS credentials.
 *
 * Distrusts: the peer (may pipeline, stall, half-close, reset, or send TLS garbage); a connection's errors never
 * reach the listener.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { DovecotLog } from '../../shared/log/logger.js';
import type { ServerCredentials } from '../../shared/tls/credentials.js';
import { tlsServerContext } from '../tls-context.js';
import type { Pop3Auth } from './auth.js';
import type { Pop3Io } from './io.js';
import { LineSplitter } from './line-splitter.js';
import { checkUidlFormat } from './proto/uidl.js';
import { Pop3Session, type Pop3SessionDeps } from './session.js';
import { inProcessSessionLocks, type SessionLocks } from './session-lock.js';
import type { Pop3Listener, Pop3Settings } from './settings.js';
import type { OpenUserStore } from '../mail-user.js';
import type { SessionSink } from '../admin/sessions.js';
import type { RouteUser } from '../worker/route.js';
import type { ConnectionState } from '../worker/protocol.js';
import { resumeLogin } from './login.js';

export interface Pop3ServerDeps {
  readonly settings: Pop3Settings;
  readonly listeners: readonly Pop3Listener[];
  readonly auth: Pop3Auth;
  readonly openStore: OpenUserStore;
  readonly log: (prefix: string) => DovecotLog;
  /** Loaded from ssl_cert/ssl_key (loadDovecotCredentials); undefined = no TLS (no STLS, no pop3s). */
  readonly tls?: ServerCredentials;
  /** For the APOP challenge; os.hostname() by default. */
  readonly hostname?: string;
  readonly locks?: SessionLocks;
  readonly pid?: number;
  /** Where logged-in sessions are registered for `doveadm who` / `kick` (mda/admin/sessions.ts). */
  readonly sessions?: SessionSink;
  /** Per-uid mail workers: logged-in sessions move there (mda/worker/). */
  readonly route?: RouteUser;
}

export interface Pop3BoundListener extends Pop3Listener {
  /** The port actually bound (differs from `port` when 0 was asked). */
  readonly boundPort: number;
}

export interface Pop3Server {
  readonly listeners: readonly Pop3BoundListener[];
  /** Stops listening, ends every connection (nothing deleted for sessions without QUIT) and waits for them. */
  close(): Promise<void>;
}

/** Input buffered beyond this pauses the socket until the session catches up. */
const INPUT_HIGH_WATER = 64 * 1024;
/** How long a closing connection may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 5000;

function plainIp(addr: string | undefined): string {
  if (addr === undefined) return '';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

/** Validates settings that Dovecot refuses at start-up. */
function checkSettings(deps: Pop3ServerDeps): void {
  checkUidlFormat(deps.settings.pop3_uidl_format);
  if (deps.settings.pop3_delete_type === 'flag' && deps.settings.pop3_deleted_flag === '') {
    throw new RangeError('pop3_delete_type=flag, but pop3_deleted_flag not set');
  }
  const needTls = deps.listeners.some((l) => l.ssl);
  if (needTls && (deps.tls === undefined || deps.settings.ssl === 'no')) {
    throw new RangeError('pop3s listener has ssl=yes, but no SSL certificate/key configured (ssl_cert/ssl_key)');
  }
}

export class Pop3Connection {
  private readonly splitter = new LineSplitter();
  private socket: Socket;
  private pumping = false;
  private eof = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.splitter.push(chunk);
    this.touch();
    if (this.splitter.buffered > INPUT_HIGH_WATER) this.socket.pause();
    void this.pump();
  };
  private readonly onEnd = (): void => {
    this.eof = true;
    void this.pump();
  };
  session!: Pop3Session;
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    raw: Socket,
    private readonly secureContext: SecureContext | undefined,
  ) {
    this.socket = raw;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  start(sessionDeps: Pop3SessionDeps, implicitTls: boolean): void {
    const raw = this.socket;
    raw.setNoDelay(true);
    const info = {
      rip: plainIp(raw.remoteAddress), lip: plainIp(raw.localAddress), rport: raw.remotePort ?? 0, lport: raw.localPort ?? 0, tls: implicitTls,
    };
    this.session = new Pop3Session(sessionDeps, info, this.io());
    raw.on('close', () => {
      this.clearIdle();
      this.eof = true;
      void this.pump().finally(() => this.resolveDone());
    });
    if (implicitTls) {
      this.wrapTls()
        .then(() => this.begin())
        .catch((err: unknown) => {
          void this.session.closeLogin(`Connection closed: TLS handshaking: ${err instanceof Error ? err.message : String(err)}`);
        });
    } else {
      this.attach();
      this.begin();
    }
  }

  /**
   * In a mail worker: continue a session the login side authenticated (the socket may be the
   * plaintext end of the master's TLS pipe): open the maildrop, answer, then serve what the client
   * pipelined after its login command.
   */
  resume(sessionDeps: Pop3SessionDeps, h: { session: string; conn: ConnectionState; user: string; pending: Buffer }): void {
    const raw = this.socket;
    const info = { rip: h.conn.remoteIp, lip: h.conn.localIp, rport: h.conn.remotePort, lport: h.conn.localPort, tls: h.conn.tls };
    this.session = new Pop3Session(sessionDeps, info, this.io(), h.session);
    raw.on('close', () => {
      this.clearIdle();
      this.eof = true;
      void this.pump().finally(() => this.resolveDone());
    });
    this.splitter.push(h.pending);
    this.pumping = true;
    this.attach();
    this.touch();
    void resumeLogin(this.session, h.user).finally(() => {
      this.pumping = false;
      void this.pump();
    });
  }

  private begin(): void {
    this.touch();
    void this.session.greet().then(() => this.pump());
  }

  private attach(): void {
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onEnd);
    this.socket.on('error', () => {
      this.eof = true;
      void this.pump();
    });
  }

  private detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
  }

  private wrapTls(): Promise<void> {
    const ctx = this.secureContext;
    if (ctx === undefined) return Promise.reject(new Error('TLS not configured'));
    return new Promise((resolve, reject) => {
      const tls = new TLSSocket(this.socket, { isServer: true, secureContext: ctx });
      const onError = (err: Error): void => reject(err);
      tls.once('error', onError);
      tls.once('secure', () => {
        tls.off('error', onError);
        this.socket = tls;
        this.attach();
        resolve();
      });
    });
  }

  private io(): Pop3Io {
    return {
      write: (data) => {
        const s = this.socket;
        if (s.destroyed || !s.writable) return Promise.resolve();
        this.touch();
        if (s.write(data)) return Promise.resolve();
        return new Promise((resolve) => {
          const done = (): void => {
            s.off('drain', done);
            s.off('close', done);
            resolve();
          };
          s.on('drain', done);
          s.on('close', done);
        });
      },
      startTls: async () => {
        this.detach();
        this.splitter.clear();
        await this.wrapTls();
      },
      close: () => {
        this.clearIdle();
        this.eof = true;
        const s = this.socket;
        s.end();
        setTimeout(() => s.destroy(), CLOSE_GRACE_MS).unref();
      },
      handOff: () => {
        this.clearIdle();
        this.detach();
        const s = this.socket;
        s.removeAllListeners('error');
        s.on('error', () => undefined);
        s.pause();
        const tls = s instanceof TLSSocket;
        const c = this.session.conn;
        return {
          socket: s, tls, pending: this.splitter.take(),
          conn: { remoteIp: c.rip, localIp: c.lip, remotePort: c.rport, localPort: c.lport, tls: this.session.tls },
        };
      },
    };
  }

  private touch(): void {
    this.clearIdle();
    if (this.session === undefined || this.session.closed) return;
    this.idleTimer = setTimeout(() => void this.session.onIdle(), this.session.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** Feeds buffered lines to the session one at a time, in order. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.session.closed) {
        const next = this.splitter.next(this.session.maxLineLength);
        if (next.kind === 'none') break;
        if (next.kind === 'overflow') {
          await this.session.onOverflow();
          break;
        }
        await this.session.handleLine(next.line);
        if (this.socket.isPaused() && this.splitter.buffered < INPUT_HIGH_WATER / 2 && !this.session.closed) this.socket.resume();
      }
      if (this.eof && !this.session.closed && this.splitter.next(this.session.maxLineLength).kind === 'none') {
        await this.session.onEof();
      }
    } catch (err) {
      this.session.log.error(`POP3 session failed: ${err instanceof Error ? err.message : String(err)}`);
      await this.session.onEof('Internal error').catch(() => undefined);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * `doveadm kick` and the daemon's stop, as Dovecot's processes do on SIGTERM (observed): pop3 sends
   * `-ERR [SYS/TEMP] Server shutting down.` and logs `Disconnected: Server shutting down.`;
   * pop3-login sends `-ERR Shutting down` and logs `Disconnected: Shutting down (…)`.
   */
  async shutdown(): Promise<void> {
    if (!this.session.closed) {
      if (this.session.state === 'AUTHORIZATION') {
        await this.session.reply('-ERR Shutting down');
        await this.session.onEof('Shutting down');
      } else {
        await this.session.reply('-ERR [SYS/TEMP] Server shutting down.');
        await this.session.onEof('Server shutting down.');
      }
    }
    this.socket.destroy();
  }
}

/** Binds every listener and serves POP3 until close(). */
export async function startPop3Server(deps: Pop3ServerDeps): Promise<Pop3Server> {
  checkSettings(deps);
  const secureContext = deps.tls !== undefined && deps.settings.ssl !== 'no'
    ? tlsServerContext(deps.tls, deps.settings)
    : undefined;
  const sessionDeps: Pop3SessionDeps = {
    settings: deps.settings,
    auth: deps.auth,
    openStore: deps.openStore,
    locks: deps.locks ?? inProcessSessionLocks(),
    log: deps.log,
    tlsAvailable: secureContext !== undefined,
    hostname: deps.hostname ?? osHostname(),
    pid: deps.pid ?? process.pid,
    ...(deps.route !== undefined ? { route: deps.route } : {}),
  };
  const connections = new Set<Pop3Connection>();
  const servers: Server[] = [];
  const bound: Pop3BoundListener[] = [];
  try {
    for (const l of deps.listeners) {
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => {
        socket.on('error', () => undefined);
        const c = new Pop3Connection(socket, secureContext);
        connections.add(c);
        let unregister: (() => void) | undefined;
        void c.done.then(() => {
          connections.delete(c);
          unregister?.();
        });
        const sink = deps.sessions;
        // Registered once the mail is open; kick ends it as Dovecot's pop3 does on SIGTERM.
        const connDeps: Pop3SessionDeps = sink === undefined ? sessionDeps : {
          ...sessionDeps,
          openStore: async (user, facts) => {
            const store = await sessionDeps.openStore(user, facts);
            unregister?.();
            unregister = sink.register({
              user, service: 'pop3', pid: sessionDeps.pid, ip: facts.rip ?? '', session: facts.session ?? '', kick: () => void c.shutdown(),
            });
            return store;
          },
        };
        c.start(connDeps, l.ssl);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, l.address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
      bound.push({ ...l, boundPort: (server.address() as AddressInfo).port });
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }
  return {
    listeners: bound,
    async close() {
      const closing = servers.map((s) => new Promise((r) => s.close(r)));
      await Promise.all([...connections].map((c) => c.shutdown()));
      await Promise.all(closing);
    },
  };
}
