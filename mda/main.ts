/*
 * The MDA daemon (Dovecot's master, in one Node process): loads dovecot.conf, opens the logs
 * (log_path / info_log_path / debug_log_path, Dovecot's line shapes), writes
 * `<base_dir>/master.pid`, builds the auth service (mda/auth/config-adapter.ts), and starts the
 * services of one explicit list (SERVICES below: auth, admin, lmtp, imap, pop3). A protocol's
 * service runs only when `protocols` names it; auth and the admin socket (`<base_dir>/postern-admin`,
 * what `doveadm who|kick` ask, mda/admin/) always run.
 *
 * Start-up order, for privileges (see privileges.ts): every service binds its sockets first (as
 * root when started as root, so `/var/spool/postfix/private/*` get their owner and mode and ports
 * below 1024 can be bound; TLS keys are read then too), then root is dropped for good to
 * mail_uid/mail_gid, then services start serving. IMAP and POP3 accept connections as soon as they
 * are bound, but no user's mail is opened before the drop (openStore waits for it). Started as
 * root WITHOUT mail_uid (system users, each with their own uid), the master keeps root but never
 * touches mail: logged-in IMAP/POP3 sessions and LMTP deliveries go to per-uid worker processes
 * (mda/worker/pool.ts), so no maildir is ever written as root.
 *
 * Signals: SIGTERM/SIGINT stop (listeners closed, in-flight LMTP DATA given a few seconds, 421 to
 * the rest, IMAP/POP3 sessions ended without POP3 deletions, pid file removed); SIGHUP reloads
 * dovecot.conf for new deliveries, lookups and mail locations (listeners and the IMAP/POP3
 * protocol settings stay as at start).
 *
 * Only this file and mda/cli/ read argv, listen and choose concrete backends (DESIGN.md rule 6).
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { loadDovecotConfig, readFileValue, type DovecotConfig } from '../shared/config/dovecot/config.js';
import { dovecotLogger, type DovecotLog } from '../shared/log/logger.js';
import { openLogSink, type LogSink } from '../shared/log/sink.js';
import { loadDovecotCredentials, type ServerCredentials } from '../shared/tls/credentials.js';
import { ADMIN_SOCKET_NAME } from './admin/protocol.js';
import { startAdminServer } from './admin/server.js';
import { SessionRegistry } from './admin/sessions.js';
import type { AuthService } from './auth/auth-service.js';
import { authFromDovecotConfig } from './auth/config-adapter.js';
import { startAuthServer } from './auth/server.js';
import { LdaAgent, type UserdbPort } from './deliver/agent.js';
import { deliverySettings, type DeliverySettings } from './deliver/settings.js';
import { autoMailboxes, imapSettings, specialUseMap } from './imap/settings.js';
import { warmUpImap, warmUpText } from './imap/warmup.js';
import { startImapServer } from './imap/server.js';
import { LmtpServer } from './lmtp/connection.js';
import { bindInet, bindUnix, closeListener, socketPath, type BoundListener } from './lmtp/listeners.js';
import { mdaEvents } from './log-events.js';
import { userStoreOpener, type OpenUserStore, type UserStoreOptions } from './mail-user.js';
import { MailStoreCache } from './store-cache.js';
import { authServicePop3Auth } from './pop3/auth.js';
import { pop3Settings } from './pop3/settings.js';
import { startPop3Server } from './pop3/server.js';
import { pidAlive } from '../shared/fs/pid.js';
import { dropPrivileges, mailIds, PrivilegeError, recipientIds } from './privileges.js';
import { authSettings } from './auth/settings.js';
import { escapingUserName } from './mail-user.js';
import { INTERNAL_ERROR_TEXT, StorageError } from './storage/api.js';
import { MailWorkerPool } from './worker/pool.js';
import type { WorkerSettings } from './worker/protocol.js';
import { shardOf, type RouteUser } from './worker/route.js';
import { inboxNamespace, readMdaSettings, serviceInetListeners, type InetListener, type MdaSettings } from './settings.js';

export const POSTERN_DOVECOT_VERSION = '2.3.19.1 (Postern)';


/** `$default_internal_user`-style references in listener settings. */
function deref(cfg: DovecotConfig, v: string): string {
  return v.startsWith('$') ? cfg.get(v.slice(1)) : v;
}

/** What every service gets from the daemon. */
export interface ServiceContext {
  readonly config: () => DovecotConfig;
  readonly baseDir: string;
  readonly logFor: (prefix: string) => DovecotLog;
  readonly auth: () => AuthService;
  readonly processIds: () => { uid: number; gid: number };
  /** ssl_cert/ssl_key, read at start (before the privilege drop); undefined when not configured. */
  readonly tls: ServerCredentials | undefined;
  /** Resolves once privileges are dropped and services serve: no mail is opened before. */
  readonly serving: Promise<void>;
  /** Logged-in IMAP/POP3 sessions, for `doveadm who` / `kick` over the admin socket. */
  readonly sessions: SessionRegistry;
  /**
   * Per-uid mail workers, when started as root without mail_uid (mda/worker/pool.ts): set before
   * serve() runs; undefined in the single-uid modes.
   */
  readonly workers: () => MailWorkerPool | undefined;
  /** Started as root without mail_uid: mail is handled by per-uid workers. */
  readonly perUidWorkers: boolean;
  /**
   * Single-uid mode with `postern_mail_processes` > 1: logged-in sessions are spread over this many
   * worker processes of the daemon's own uid, each user always to the same one; 0 otherwise.
   */
  readonly sessionShards: number;
  /** The users' opened stores in this process, shared by their sessions and deliveries (store-cache.ts). */
  readonly stores: MailStoreCache;
}

/** A service after binding: `serve()` runs after the privilege drop. */
export interface BoundService {
  serve(): Promise<void>;
  /** SIGHUP: pick up the reloaded configuration (ctx.config() already returns it). */
  reload?(): void;
  close(): Promise<void>;
}

export interface MdaService {
  /** Dovecot's service name (`service lmtp { }`) and protocol name in `protocols`. */
  readonly name: string;
  /** Whether it runs for this config (e.g. `lmtp` in protocols). */
  enabled(cfg: DovecotConfig): boolean;
  bind(ctx: ServiceContext): Promise<BoundService>;
}

function unixSpecs(cfg: DovecotConfig, baseDir: string, service: string): { path: string; mode: number; user: string; group: string }[] {
  return (cfg.service(service)?.sections('unix_listener') ?? []).map((l) => ({
    path: socketPath(baseDir, l.get('path') || l.name),
    mode: parseInt(l.get('mode') || '0600', 8),
    user: deref(cfg, l.get('user')),
    group: deref(cfg, l.get('group')),
  }));
}

const authService: MdaService = {
  name: 'auth',
  enabled: () => true,
  async bind(ctx) {
    const { listeners } = authFromDovecotConfig(ctx.config());
    for (const l of listeners) mkdirSync(join(l.path, '..'), { recursive: true, mode: 0o755 });
    const log = ctx.logFor('auth');
    const running = await startAuthServer({ service: ctx.auth(), listeners, log });
    return { serve: async () => undefined, close: () => running.close() };
  },
};

/**
 * `<base_dir>/postern-admin` (mda/admin/server.ts): Postern's stand-in for the anvil socket doveadm
 * who/kick ask. Bound with the other listeners before the privilege drop, mode 0600.
 */
const adminService: MdaService = {
  name: 'admin',
  enabled: () => true,
  async bind(ctx) {
    const server = await startAdminServer(join(ctx.baseDir, ADMIN_SOCKET_NAME), ctx.sessions);
    return { serve: async () => undefined, close: () => server.close() };
  },
};

const lmtpService: MdaService = {
  name: 'lmtp',
  enabled: (cfg) => cfg.protocols().includes('lmtp'),
  async bind(ctx) {
    const cfg = ctx.config();
    const bound: BoundListener[] = [];
    for (const u of unixSpecs(cfg, ctx.baseDir, 'lmtp')) bound.push(await bindUnix(u));
    for (const l of cfg.service('lmtp')?.sections('inet_listener') ?? []) {
      const port = Number(l.get('port'));
      if (!Number.isInteger(port) || port <= 0) continue;
      bound.push(...(await bindInet({ name: l.name, address: l.get('address') || cfg.get('listen'), port })));
    }
    let settings: DeliverySettings = deliverySettings(cfg);
    let server: LmtpServer | undefined;
    const log = ctx.logFor(`lmtp(${process.pid})`);
    return {
      async serve() {
        const ids = ctx.processIds();
        const userdb: UserdbPort = {
          normalize: (u, f) => ctx.auth().normalize(u, f),
          userLookup: (u, f) => ctx.auth().userLookup(u, f),
        };
        // The agent reads the settings through a getter so SIGHUP reloads reach new deliveries.
        const agent = new LdaAgent({
          get settings() {
            return settings;
          },
          userdb,
          logFor: ctx.logFor,
          processUid: ids.uid,
          processGid: ids.gid,
          stores: ctx.stores,
          // Only per-uid workers take deliveries: with session shards the master saves itself, as
          // any other process writing the same maildirs (the sessions see the new files on sync).
          ...(ctx.perUidWorkers && ctx.workers() !== undefined ? { workers: ctx.workers()! } : {}),
        });
        server = new LmtpServer({
          hostname: settings.hostname,
          greeting: settings.login_greeting,
          agent,
          quotaFullTempfail: settings.quota_full_tempfail,
          lineLimit: settings.postern_lmtp_max_line_length,
          hardLineLimit: settings.postern_lmtp_hard_max_line_length,
          maxMessageSize: settings.postern_lmtp_max_message_size,
          maxRecipients: settings.postern_lmtp_max_recipients,
          maxBadCommands: settings.postern_lmtp_max_bad_commands,
          idleTimeoutMs: settings.postern_lmtp_idle_timeout,
          onEvent: (ev) => {
            if (ev.kind === 'connect') log.info(mdaEvents.lmtp.connect(ev.remote));
            else if (ev.kind === 'disconnect') log.info(mdaEvents.lmtp.disconnect(ev.remote, ev.reason, ev.state.toUpperCase()));
            else log.error(ev.detail);
          },
        });
        for (const b of bound) b.server.on('connection', (sock) => server?.accept(sock, { transport: b.transport }));
      },
      reload() {
        settings = deliverySettings(ctx.config());
      },
      async close() {
        // Stop accepting, then end the connections (DATA gets its few seconds, the rest a 421):
        // a listener's close settles only once its connections are gone, idle ones included.
        const listeners = bound.map((b) => closeListener(b).catch(() => undefined));
        await server?.close();
        await Promise.all(listeners);
      },
    };
  },
};

/** How IMAP and POP3 open a logged-in user's mail, from settings read with their protocol filter. */
function storeOptions(s: MdaSettings, service: string, ids: { uid: number; gid: number }): UserStoreOptions {
  return {
    service,
    mailLocation: s.mail_location,
    mailHome: s.mail_home,
    separator: inboxNamespace(s)?.separator ?? '',
    specialUse: specialUseMap(autoMailboxes(s)),
    privileges: { policy: s, uid: ids.uid, gid: ids.gid },
  };
}

/**
 * The store opener of a login service: waits until the daemon serves (privileges dropped), then looks the
 * user up and opens the store with the options of the current configuration (SIGHUP updates them).
 */
function gatedOpener(ctx: ServiceContext, protocol: string): { open: OpenUserStore; reload(): void } {
  let opts: UserStoreOptions | undefined;
  const options = (): UserStoreOptions =>
    (opts ??= storeOptions(readMdaSettings(ctx.config(), { protocol }), protocol, ctx.processIds()));
  return {
    open: async (user, facts) => {
      await ctx.serving;
      return userStoreOpener(ctx.auth(), options(), ctx.stores)(user, facts);
    },
    reload: () => {
      opts = undefined;
    },
  };
}

/** The userdb answer a route acts on; refusals are TEMP, as when opening the store fails. */
async function routedUser(ctx: ServiceContext, user: string, facts: Parameters<RouteUser>[1]) {
  await ctx.serving;
  const r = await ctx.auth().userLookup(user, {
    service: facts.service,
    ...(facts.rip !== undefined ? { rip: facts.rip } : {}),
    ...(facts.lip !== undefined ? { lip: facts.lip } : {}),
    ...(facts.session !== undefined ? { session: facts.session } : {}),
  });
  if (r.kind !== 'found') {
    throw new StorageError('TEMP', INTERNAL_ERROR_TEXT, r.kind === 'fail' ? `userdb lookup failed: ${r.reason}` : `User no longer exists: ${user}`);
  }
  if (escapingUserName(r.user)) {
    throw new StorageError('TEMP', INTERNAL_ERROR_TEXT, `Refusing mail access for user name ${JSON.stringify(r.user)}: it would escape its directory`);
  }
  return r;
}

/**
 * Per-uid workers: after login the userdb says which uid the user's mail belongs to, and the
 * session moves to that uid's worker (Dovecot: imap-login hands the client to an imap process
 * running as the user).
 *
 * Session shards (single uid, `postern_mail_processes` = N > 1): the session moves to worker
 * number hash(user) mod N, all running as the daemon's own uid. One Node process runs its
 * JavaScript on one core; Dovecot runs a process per session and so uses every core. A user
 * always lands on the same worker, so one process holds each user's mailbox caches and POP3
 * session lock; the processes share the maildirs as Dovecot's processes do (files, uidlist
 * dotlock, LMDB sidecar).
 */
function workerRoute(ctx: ServiceContext, pool: MailWorkerPool): RouteUser {
  return async (user, facts) => {
    const r = await routedUser(ctx, user, facts);
    const own = ctx.processIds();
    const ids = recipientIds(r.fields, readMdaSettings(ctx.config()), own.uid, own.gid, ctx.perUidWorkers);
    if ('refused' in ids) throw new StorageError('TEMP', INTERNAL_ERROR_TEXT, ids.refused);
    const slot = ctx.perUidWorkers ? { uid: ids.uid, gid: ids.gid } : { uid: own.uid, gid: own.gid, shard: shardOf(r.user, ctx.sessionShards) };
    return {
      mpid: pool.pidFor(slot),
      transfer: (h, c, onEnd) => pool.handOff(slot, { ...h, user: r.user, fields: r.fields }, c, onEnd),
    };
  };
}

/** The login services' route when mail workers run (resolved lazily: the pool exists once serving). */
function routeOf(ctx: ServiceContext): RouteUser | undefined {
  if (!ctx.perUidWorkers && ctx.sessionShards === 0) return undefined;
  return async (user, facts) => {
    await ctx.serving;
    const pool = ctx.workers();
    if (pool === undefined) throw new StorageError('TEMP', INTERNAL_ERROR_TEXT, 'mail workers are not running');
    return workerRoute(ctx, pool)(user, facts);
  };
}

/** What a mail worker needs of the configuration (it never reads dovecot.conf itself). */
export function workerSettings(cfg: DovecotConfig): WorkerSettings {
  const imap = readMdaSettings(cfg, { protocol: 'imap' });
  const pop3 = readMdaSettings(cfg, { protocol: 'pop3' });
  const none = { uid: 0, gid: 0 };
  const { privileges: _i, ...imapStore } = storeOptions(imap, 'imap', none);
  const { privileges: _p, ...pop3Store } = storeOptions(pop3, 'pop3', none);
  return {
    imap: imapSettings(imap, autoMailboxes(imap)),
    imapStore,
    pop3: pop3Settings(pop3),
    pop3Store,
    pop3Hostname: pop3.hostname || osHostname(),
    delivery: deliverySettings(cfg),
    auth: authSettings(readMdaSettings(cfg), osHostname()),
  };
}

/** A login service's TCP listeners; `ssl = yes` ones only when TLS is configured (Dovecot skips them with ssl = no). */
function loginListeners(ctx: ServiceContext, cfg: DovecotConfig, service: string): InetListener[] {
  return serviceInetListeners(readMdaSettings(cfg), service).filter((l) => !l.ssl || ctx.tls !== undefined);
}

const imapService: MdaService = {
  name: 'imap',
  enabled: (cfg) => cfg.protocols().includes('imap'),
  async bind(ctx) {
    const cfg = ctx.config();
    const s = readMdaSettings(cfg, { protocol: 'imap' });
    const opener = gatedOpener(ctx, 'imap');
    const server = await startImapServer({
      settings: imapSettings(s, autoMailboxes(s)),
      listeners: loginListeners(ctx, cfg, 'imap-login'),
      auth: ctx.auth(),
      openStore: opener.open,
      log: ctx.logFor,
      sessions: ctx.sessions,
      ...(ctx.tls !== undefined ? { tls: ctx.tls } : {}),
      ...(routeOf(ctx) !== undefined ? { route: routeOf(ctx)! } : {}),
    });
    return { serve: async () => undefined, reload: opener.reload, close: () => server.close() };
  },
};

const pop3Service: MdaService = {
  name: 'pop3',
  enabled: (cfg) => cfg.protocols().includes('pop3'),
  async bind(ctx) {
    const cfg = ctx.config();
    const s = readMdaSettings(cfg, { protocol: 'pop3' });
    const opener = gatedOpener(ctx, 'pop3');
    const server = await startPop3Server({
      settings: pop3Settings(s),
      listeners: loginListeners(ctx, cfg, 'pop3-login'),
      auth: authServicePop3Auth(ctx.auth()),
      openStore: opener.open,
      log: ctx.logFor,
      hostname: s.hostname || osHostname(),
      sessions: ctx.sessions,
      ...(ctx.tls !== undefined ? { tls: ctx.tls } : {}),
      ...(routeOf(ctx) !== undefined ? { route: routeOf(ctx)! } : {}),
    });
    return { serve: async () => undefined, reload: opener.reload, close: () => server.close() };
  },
};

/**
 * ssl_cert/ssl_key for the login services. As in Dovecot, `ssl = yes|required` without a certificate
 * is a start-up error when IMAP or POP3 runs.
 */
function loadTls(cfg: DovecotConfig, protocols: readonly string[]): ServerCredentials | undefined {
  const s = readMdaSettings(cfg);
  if (s.ssl === 'no') return undefined;
  const cert = readFileValue(s.ssl_cert);
  const key = readFileValue(s.ssl_key);
  if (cert === '' && key === '') {
    if (protocols.includes('imap') || protocols.includes('pop3')) throw new Error('ssl enabled, but ssl_cert not set');
    return undefined;
  }
  return loadDovecotCredentials(cert, key, s.ssl_key_password);
}

/** The services of this daemon, in start order. */
export const SERVICES: readonly MdaService[] = [authService, adminService, lmtpService, imapService, pop3Service];

export interface RunningMda {
  readonly pidFile: string;
  reload(): void;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly configPath: string;
  /** Skip signal handlers (tests run several daemons in one process). */
  readonly handleSignals?: boolean;
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function pidFilePath(cfg: DovecotConfig): string {
  return join(cfg.get('base_dir'), 'master.pid');
}

export async function startMda(o: StartOptions): Promise<RunningMda> {
  let cfg = loadDovecotConfig(o.configPath);
  const baseDir = cfg.get('base_dir');
  mkdirSync(baseDir, { recursive: true, mode: 0o755 });
  const pidFile = pidFilePath(cfg);
  const old = readPid(pidFile);
  if (old !== undefined && old !== process.pid && pidAlive(old)) {
    throw new Error(`Dovecot is already running with PID ${old} (read from ${pidFile})`);
  }
  const sinks: LogSink[] = [];
  const sink = (path: string): LogSink => {
    const s = openLogSink(path);
    sinks.push(s);
    return s;
  };
  const errorSink = sink(cfg.get('log_path'));
  const infoSink = cfg.get('info_log_path') === '' ? errorSink : sink(cfg.get('info_log_path'));
  const debugSink = cfg.get('debug_log_path') === '' ? infoSink : sink(cfg.get('debug_log_path'));
  const logFor = dovecotLogger({ errorSink, infoSink, debugSink, timestamp: cfg.get('log_timestamp') });
  const master = logFor('master');
  const authLog = logFor('auth');
  let auth: AuthService;
  let tls: ServerCredentials | undefined;
  try {
    auth = authFromDovecotConfig(cfg, authLog).service;
    tls = loadTls(cfg, cfg.protocols());
  } catch (err) {
    master.fatal(err instanceof Error ? err.message : String(err));
    await Promise.all(sinks.map((s) => s.close()));
    throw err;
  }
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o644 });

  let ids = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  let markServing!: () => void;
  const serving = new Promise<void>((resolve) => (markServing = resolve));
  const sessions = new SessionRegistry();
  let pool: MailWorkerPool | undefined;
  const startSettings = readMdaSettings(cfg);
  const perUidWorkers = ids.uid === 0 && startSettings.mail_uid === '';
  const workerIdleSecs = startSettings.postern_mail_worker_idle_timeout;
  const processes = startSettings.postern_mail_processes;
  const spares = startSettings.postern_mail_worker_spares;
  const sessionShards = !perUidWorkers && processes > 1 ? processes : 0;
  const ctx: ServiceContext = {
    config: () => cfg, baseDir, logFor, auth: () => auth, processIds: () => ids, tls, serving, sessions, workers: () => pool, perUidWorkers, sessionShards,
    stores: new MailStoreCache(),
  };
  const bound: BoundService[] = [];
  const enabled = SERVICES.filter((s) => s.enabled(cfg));
  try {
    for (const s of enabled) bound.push(await s.bind(ctx));
    if (perUidWorkers || sessionShards > 0) {
      // System users: the master keeps root (as Dovecot's master and lmtp do) and never touches
      // mail; each uid's mail is handled by a worker forked with that uid (mda/worker/pool.ts).
      // Session shards: workers forked after the drop below, so they run as the mail uid.
      pool = new MailWorkerPool({
        runDir: baseDir, logFor, settings: () => workerSettings(cfg), sessions, idleTimeoutSecs: workerIdleSecs,
        // Shards are never retired, so they need no spares.
        spares: perUidWorkers ? spares : 0,
      });
    }
    if (!perUidWorkers && ids.uid === 0) {
      const m = mailIds(readMdaSettings(cfg));
      if (m.uid === undefined || m.uid === 0) {
        throw new PrivilegeError('mail_uid=root: refusing to write maildirs as root (set mail_uid/mail_gid to the virtual mail user)');
      }
      const gid = m.gid ?? m.uid;
      // The master's socket-pair listener (TLS sessions handed to a worker) lives under base_dir,
      // which the mail uid may not write: it is made now and given to that uid.
      await pool?.prepare({ uid: m.uid, gid });
      dropPrivileges(m.uid, gid);
      ids = { uid: m.uid, gid };
    }
    markServing();
    // Forked now, after the drop, so they run as the mail uid (pool.ts startShards); only for
    // sessions to serve (with session shards the master saves LMTP deliveries itself).
    const imapServed = enabled.some((s) => s.name === 'imap');
    const warmUp = { maxMs: imapServed ? startSettings.postern_imap_warmup * 1000 : 0, debug: startSettings.mail_debug };
    if (sessionShards > 0 && enabled.some((s) => s.name === 'imap' || s.name === 'pop3')) pool?.startShards(ids.uid, ids.gid, sessionShards, warmUp);
    for (const b of bound) await b.serve();
    // Sessions served in this process: it warms up itself, as a shard does (imap/warmup.ts). A
    // root master with per-uid workers serves only logins, and its workers come and go.
    if (warmUp.maxMs > 0 && sessionShards === 0 && !perUidWorkers) {
      const ws = workerSettings(cfg);
      void warmUpImap({ imap: ws.imap, auth: ws.auth, maxMs: warmUp.maxMs }).then((r) => {
        if (warmUp.debug) master.debug(warmUpText(r));
      });
    }
  } catch (err) {
    master.fatal(err instanceof Error ? err.message : String(err));
    for (const b of bound.reverse()) await b.close().catch(() => undefined);
    await pool?.close().catch(() => undefined);
    try {
      unlinkSync(pidFile);
    } catch {
      // may belong to root after a drop
    }
    await Promise.all(sinks.map((s) => s.close()));
    throw err;
  }
  master.info(mdaEvents.master.startingUp(POSTERN_DOVECOT_VERSION, cfg.protocols().filter((p) => enabled.some((s) => s.name === p)).join(', ')));

  let stopping: Promise<void> | undefined;
  const running: RunningMda = {
    pidFile,
    reload() {
      master.warn(mdaEvents.master.reloading());
      try {
        cfg = loadDovecotConfig(o.configPath);
        auth = authFromDovecotConfig(cfg, authLog).service;
        for (const b of bound) b.reload?.();
        pool?.reload();
      } catch (err) {
        master.error(`reload failed, keeping the old configuration: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    stop() {
      stopping ??= (async () => {
        // The services close together, and the mail workers stop once LMTP has closed: a listener's
        // close also waits for the connections it handed to a worker, which end only when the pool
        // stops the workers; but a delivery still in DATA (given a few seconds) may need a worker.
        const closing = bound.map((b) => b.close().catch(() => undefined));
        const lmtpClosed = closing[enabled.indexOf(lmtpService)] ?? Promise.resolve();
        await Promise.all([...closing, lmtpClosed.then(() => pool?.close().catch(() => undefined))]);
        try {
          if (readPid(pidFile) === process.pid) unlinkSync(pidFile);
        } catch {
          // after a privilege drop the pid file belongs to root; `dovecot stop` removes it
        }
        await Promise.all(sinks.map((s) => s.close()));
      })();
      return stopping;
    },
  };
  if (o.handleSignals !== false) {
    const onStop = (sig: NodeJS.Signals): void => {
      master.warn(mdaEvents.master.killed(sig === 'SIGTERM' ? 15 : 2));
      void running.stop().then(() => process.exit(0));
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', () => running.reload());
  }
  return running;
}
