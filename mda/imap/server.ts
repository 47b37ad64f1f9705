/*
 * The IMAP listeners (`service imap-login { inet_listener imap { port = 143 } inet_listener imaps {
 * port = 993; ssl = yes } }`): plain listeners offer STARTTLS when TLS is configured, `ssl = yes`
 * listeners speak TLS from the first byte. Everything the server needs is injected by the MDA's
 * main.ts (settings, the auth service, how to open a user's MailStore, the logger, TLS
 * credentials), so tests start it on free ports with temporary stores.
 *
 * Dovecot behaviour: `ssl = no` disables STARTTLS and imaps; `ssl = required` keeps the plaintext
 * port but refuses authentication before TLS (unless the peer is secured); mail_max_userip_connections
 * counts logged-in sessions per user and remote IP across all listeners.
 */
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import type { DovecotLog } from '../../shared/log/logger.js';
import type { ServerCredentials } from '../../shared/tls/credentials.js';
import { tlsServerOptions } from '../tls-context.js';
import type { AuthService } from '../auth/auth-service.js';
import type { SessionSink } from '../admin/sessions.js';
import type { MailStore } from '../storage/api.js';
import { ImapConnection } from './connection.js';
import type { SessionDeps } from './session.js';
import type { ImapListener, ImapSettings } from './settings.js';
import type { RouteUser } from '../worker/route.js';

export interface ImapServerDeps {
  readonly settings: ImapSettings;
  readonly listeners: readonly ImapListener[];
  readonly auth: AuthService;
  /** Opens the mail store of an authenticated user (userdb lookup + openMailStore in main.ts). */
  readonly openStore: (user: string, facts: { rip: string; lip: string; session: string }) => Promise<MailStore>;
  /** Dovecot logger factory: `log('imap-login')`, `log('imap(alice)<pid><session>')`. */
  readonly log: (prefix: string) => DovecotLog;
  /** TLS credentials (loadDovecotCredentials); undefined or settings.ssl = no: no TLS. */
  readonly tls?: ServerCredentials;
  /** Where logged-in sessions are registered for `doveadm who` / `kick` (mda/admin/sessions.ts). */
  readonly sessions?: SessionSink;
  /** Per-uid mail workers: logged-in sessions move there (mda/worker/). */
  readonly route?: RouteUser;
}

export interface ImapServerHandle {
  /** Bound addresses, in listener order (port 0 resolves to the real port). */
  readonly addresses: readonly { name: string; address: string; port: number; ssl: boolean }[];
  /** Number of open connections. */
  connections(): number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Starts every listener; resolves once all are bound. */
export async function startImapServer(deps: ImapServerDeps): Promise<ImapServerHandle> {
  const tlsOn = deps.settings.ssl !== 'no' && deps.tls !== undefined;
  // ssl_min_protocol, ssl_cipher_list, ssl_prefer_server_ciphers under `protocol imap` (a bad value throws).
  const tlsOptions = tlsOn ? tlsServerOptions(deps.tls!, deps.settings) : undefined;
  const ctx = tlsOptions !== undefined ? createSecureContext(tlsOptions) : undefined;
  const perUserIp = new Map<string, number>();
  const limit = deps.settings.mail_max_userip_connections;
  const sessionDeps: SessionDeps = {
    settings: deps.settings,
    auth: deps.auth,
    openStore: deps.openStore,
    log: deps.log,
    tlsConfigured: tlsOn,
    ...(deps.route !== undefined ? { route: deps.route } : {}),
    claimUserIp(user, ip) {
      const key = `${user}\0${ip}`;
      const n = perUserIp.get(key) ?? 0;
      if (limit > 0 && n >= limit) return undefined;
      perUserIp.set(key, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const m = (perUserIp.get(key) ?? 1) - 1;
        if (m <= 0) perUserIp.delete(key);
        else perUserIp.set(key, m);
      };
    },
  };
  const open = new Set<ImapConnection>();
  const servers: Server[] = [];
  const addresses: { name: string; address: string; port: number; ssl: boolean }[] = [];
  const accept = (implicitTls: boolean) => (socket: Socket) => {
    socket.on('error', () => undefined);
    let unregister: (() => void) | undefined;
    const sink = deps.sessions;
    // The session is registered once its mail is open (Dovecot: the mail process connects to anvil).
    const connDeps: SessionDeps = sink === undefined ? sessionDeps : {
      ...sessionDeps,
      openStore: async (user, facts) => {
        const store = await sessionDeps.openStore(user, facts);
        unregister?.();
        unregister = sink.register({ user, service: 'imap', pid: process.pid, ip: facts.rip, session: facts.session, kick: () => conn.kick() });
        return store;
      },
    };
    const conn: ImapConnection = new ImapConnection(socket, {
      deps: connDeps, secureContext: ctx, implicitTls,
      onClose: () => {
        open.delete(conn);
        unregister?.();
      },
    });
    open.add(conn);
    conn.start();
  };
  try {
    for (const l of deps.listeners) {
      if (l.ssl && tlsOptions === undefined) continue;
      const srv = l.ssl
        ? createTlsServer(tlsOptions!, accept(true))
        : createNetServer(accept(false));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(l.port, l.address, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      const a = srv.address() as AddressInfo;
      addresses.push({ name: l.name, address: a.address, port: a.port, ssl: l.ssl });
      servers.push(srv);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
    throw err;
  }
  return {
    addresses,
    connections: () => open.size,
    async close() {
      // Stop accepting first; each server's close settles once its connections are gone, those
      // handed to a mail worker included (the worker ends them when the pool stops it).
      const closing = servers.map((s) => new Promise((r) => s.close(() => r(undefined))));
      await Promise.all([...open].map((c) => c.kick()));
      await Promise.all(closing);
    },
  };
}
