/*
 * The smtpd socket adapter: listens (or takes an already bound net.Server from the MTA main),
 * resolves the client's name (client-name.ts), runs one SmtpdSession per connection, and performs
 * TLS: implicit TLS for smtpd_tls_wrappermode (port 465, "submissions") and the STARTTLS upgrade
 * (the TLSSocket wraps the plain socket; input.ts then reads from it, dropping any plaintext the
 * client pipelined behind STARTTLS). Postfix's smtpd_timeout applies to every read
 * (`421 4.4.2 host Error: timeout exceeded`); close() stops listening and ends idle sessions.
 *
 * smtp-server (the fixed dependency) is deliberately not used here; see the header of session.ts
 * for why a subclass would have replaced everything but the socket.
 *
 * Usage from the MTA main (one call per master.cf smtpd service):
 *   const smtpd = await startSmtpd({ config, listen: { host, port } | { server }, cleanup, policy,
 *     sasl, credentials, log, qualify, hostResolver?, etrn? });
 *   …; await smtpd.close();
 */
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import type { PostfixConfig } from '../../shared/config/postfix/config.js';
import type { ServerCredentials } from '../../shared/tls/credentials.js';
import type { Log } from '../../shared/log/logger.js';
import type { Cleanup } from '../cleanup/api.js';
import type { SmtpdPolicy } from './policy/api.js';
import { SmtpInput } from './input.js';
import { SmtpdSession, type SaslBackend, type TlsInfo, type SessionTransport } from './session.js';
import { smtpdSettings, type SmtpdSettings } from './settings.js';
import { smtpdMilterConfig } from './milters.js';
import { ClientNameCache, clientHostname, normaliseAddr, systemResolver, type HostResolver } from './client-name.js';
import { HANDLERS } from './commands.js';

export interface SmtpdDeps {
  /** main.cf plus this service's master.cf `-o` overrides. */
  config: PostfixConfig;
  listen: { host: string; port: number } | { server: Server };
  cleanup: Cleanup;
  policy: SmtpdPolicy;
  /** smtpd_sasl_type = dovecot client; undefined = no SASL. */
  sasl: SaslBackend | undefined;
  /** smtpd_tls_chain_files / cert / key, loaded with loadPostfixCredentials(); undefined = no TLS. */
  credentials: ServerCredentials | undefined;
  log: Log;
  /** Resolver.qualify: appends @$myorigin to an unqualified address. */
  qualify: (address: string) => string;
  hostResolver?: HostResolver;
  /** ETRN flush request; absent = every ETRN is refused with 459. */
  etrn?: (domain: string) => Promise<boolean>;
  /** Tests: replaces the error sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Tests: settings overrides after reading the config. */
  settings?: Partial<SmtpdSettings>;
}

export interface SmtpdHandle {
  readonly server: Server;
  readonly address: { host: string; port: number };
  readonly settings: SmtpdSettings;
  close(): Promise<void>;
}

function tlsInfo(t: TLSSocket): TlsInfo {
  const c = t.getCipher();
  const info: TlsInfo = { protocol: t.getProtocol() ?? 'TLS', cipher: c.standardName ?? c.name };
  return info;
}

function secureServer(socket: Socket, ctx: SecureContext, timeoutMs: number): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const t = new TLSSocket(socket, { isServer: true, secureContext: ctx });
    const timer = setTimeout(() => {
      t.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    t.once('secure', () => {
      clearTimeout(timer);
      resolve(t);
    });
    t.once('error', (err) => {
      clearTimeout(timer);
      t.destroy();
      reject(err);
    });
  });
}

export async function startSmtpd(deps: SmtpdDeps): Promise<SmtpdHandle> {
  const settings: SmtpdSettings = { ...smtpdSettings(deps.config), ...deps.settings };
  const milters = smtpdMilterConfig(deps.config);
  const ctx = deps.credentials
    ? createSecureContext({ key: deps.credentials.key, cert: deps.credentials.cert, minVersion: 'TLSv1' })
    : undefined;
  // The system resolver's answers are kept a few seconds (ClientNameCache); an injected resolver
  // (tests) is asked for every connection.
  const cache = deps.hostResolver === undefined ? new ClientNameCache(systemResolver) : undefined;
  const lookupName = (addr: string): Promise<string> =>
    cache !== undefined ? cache.lookup(addr) : clientHostname(addr, deps.hostResolver ?? systemResolver);
  const sockets = new Set<Socket>();

  const handle = async (raw: Socket): Promise<void> => {
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
    raw.on('error', () => undefined);
    raw.setNoDelay(true);
    const clientAddr = normaliseAddr(raw.remoteAddress ?? '0.0.0.0');
    const clientName = settings.peernameLookup ? await lookupName(clientAddr) : 'unknown';
    let stream: Socket | TLSSocket = raw;
    let implicitTls: TlsInfo | undefined;
    if (settings.tlsWrapperMode) {
      if (!ctx) {
        raw.destroy();
        return;
      }
      try {
        stream = await secureServer(raw, ctx, settings.starttlsTimeout * 1000);
        implicitTls = tlsInfo(stream as TLSSocket);
      } catch {
        raw.destroy();
        return;
      }
    }
    const input = new SmtpInput(stream, settings.timeout * 1000);
    const io: SessionTransport = {
      input,
      write: (text) => {
        if (!stream.destroyed) stream.write(text, 'latin1');
      },
      startTls:
        ctx && !settings.tlsWrapperMode
          ? async () => {
              input.detach();
              const t = await secureServer(raw, ctx, settings.starttlsTimeout * 1000);
              stream = t;
              t.on('error', () => undefined);
              input.attach(t);
              return tlsInfo(t);
            }
          : undefined,
      close: () => {
        input.detach();
        stream.end();
        setTimeout(() => raw.destroy(), 1000).unref();
      },
    };
    const session = new SmtpdSession(
      {
        settings, cleanup: deps.cleanup, policy: deps.policy, sasl: deps.sasl, log: deps.log, qualify: deps.qualify,
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
        ...(deps.etrn ? { etrn: deps.etrn } : {}),
        ...(milters ? { milters } : {}),
      },
      io,
      {
        clientName, clientAddr, clientPort: raw.remotePort ?? 0,
        serverAddr: normaliseAddr(raw.localAddress ?? ''), serverPort: raw.localPort ?? 0,
        ...(implicitTls ? { tls: implicitTls } : {}),
      },
    );
    await session.run(HANDLERS);
  };

  const server = 'server' in deps.listen ? deps.listen.server : createServer();
  server.on('connection', (s: Socket) => void handle(s));
  if (!('server' in deps.listen)) {
    const { host, port } = deps.listen;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }
  const a = server.address();
  const address = a !== null && typeof a === 'object' ? { host: a.address, port: a.port } : { host: '', port: 0 };
  return {
    server,
    address,
    settings,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
