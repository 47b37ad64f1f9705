/*
 * The MDA daemon (Dovecot's master, in one Node process): loads dovecot.conf, opens the logs
 * (log_path / info_log_path / debug_log_path, Dovecot's line shapes), writes
 * `<base_dir>/master.pid`, builds the auth service from the passdb/userdb sections, and starts
 * the services of one explicit list (SERVICES below: auth, lmtp; pop3 and imap plug in there).
 *
 * Start-up order, for privileges (see privileges.ts): every service binds its sockets first
 * (as root when started as root, so `/var/spool/postfix/private/*` get their owner and mode),
 * then root is dropped for good to mail_uid/mail_gid, then services start serving. Started as
 * root without mail_uid, the daemon refuses to run: it never writes a maildir as root.
 *
 * Signals: SIGTERM/SIGINT stop (listeners closed, in-flight LMTP DATA given a few seconds,
 * 421 to the rest, pid file removed); SIGHUP reloads dovecot.conf for new deliveries and
 * lookups (listeners stay as bound).
 *
 * Only this file and mda/cli/ read argv, listen and choose concrete backends (DESIGN.md rule 6).
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDovecotConfig, type DovecotConfig } from '../shared/config/dovecot/config.js';
import { dovecotLogger, type DovecotLog } from '../shared/log/logger.js';
import { openLogSink, type LogSink } from '../shared/log/sink.js';
import { AuthService, type DbSection } from './auth/auth-service.js';
import type { Passdb, Userdb } from './auth/db.js';
import { parsePasswdFileArgs, passwdFilePassdb, passwdFileUserdb, PasswdFileCache } from './auth/passwd-file.js';
import { startAuthServer, type AuthListener, type AuthListenerKind } from './auth/server.js';
import { authSettingsFromText, AUTH_SETTING_DEFAULTS, type AuthSettings } from './auth/settings.js';
import { staticUserdb } from './auth/static-userdb.js';
import { LdaAgent, type UserdbPort } from './deliver/agent.js';
import { deliverySettings, type DeliverySettings } from './deliver/settings.js';
import { LmtpServer } from './lmtp/connection.js';
import { bindInet, bindUnix, closeListener, socketPath, type BoundListener } from './lmtp/listeners.js';
import { mdaEvents } from './log-events.js';
import { dropPrivileges, mailIds, PrivilegeError } from './privileges.js';

export const POSTERN_DOVECOT_VERSION = '2.3.19.1 (Postern)';

/** `$default_internal_user`-style references in listener settings. */
function deref(cfg: DovecotConfig, v: string): string {
  return v.startsWith('$') ? cfg.get(v.slice(1)) : v;
}

/** The auth service a dovecot.conf describes (passwd-file and static drivers). */
export function authServiceFromConfig(cfg: DovecotConfig, log?: { info(t: string): void; error(t: string): void }): AuthService {
  const values: Partial<Record<keyof AuthSettings, string>> = {};
  for (const k of Object.keys(AUTH_SETTING_DEFAULTS) as (keyof AuthSettings)[]) {
    try {
      values[k] = cfg.get(k);
    } catch {
      // Postern-only keys (limits) are not dovecot.conf settings: keep their defaults.
    }
  }
  const settings = authSettingsFromText(values, cfg.get('hostname'));
  const cache = new PasswdFileCache(log);
  const passdbs: DbSection<Passdb>[] = [];
  for (const s of cfg.passdbs()) {
    const driver = s.get('driver');
    if (driver !== 'passwd-file') throw new Error(`passdb driver ${driver} is not supported`);
    passdbs.push({ db: passwdFilePassdb(parsePasswdFileArgs(s.get('args')), cache), default_fields: s.get('default_fields'), override_fields: s.get('override_fields') });
  }
  const userdbs: DbSection<Userdb>[] = [];
  for (const s of cfg.userdbs()) {
    const driver = s.get('driver');
    let db: Userdb;
    if (driver === 'passwd-file') db = passwdFileUserdb(parsePasswdFileArgs(s.get('args')), cache);
    else if (driver === 'static') db = staticUserdb(s.get('args'), passdbs.map((p) => p.db));
    else if (driver === 'prefetch') continue;
    else throw new Error(`userdb driver ${driver} is not supported`);
    userdbs.push({ db, default_fields: s.get('default_fields'), override_fields: s.get('override_fields') });
  }
  return new AuthService({ settings, passdbs, userdbs, ...(log !== undefined ? { log } : {}) });
}

/** The kind of an auth unix_listener, by Dovecot's naming rule (auth-master / auth-userdb suffix). */
export function authListenerKind(path: string): AuthListenerKind {
  if (path.endsWith('-master')) return 'auth-master';
  if (path.endsWith('-userdb')) return 'auth-userdb';
  return 'auth-client';
}

/** What every service gets from the daemon. */
export interface ServiceContext {
  readonly config: () => DovecotConfig;
  readonly baseDir: string;
  readonly logFor: (prefix: string) => DovecotLog;
  readonly auth: () => AuthService;
  readonly processIds: () => { uid: number; gid: number };
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
    const cfg = ctx.config();
    const listeners: AuthListener[] = unixSpecs(cfg, ctx.baseDir, 'auth')
      // login/login and token-login/* belong to Dovecot's login processes, not to auth clients.
      .filter((l) => !/\/(login|token-login)\/[^/]+$/.test(l.path))
      .map((l) => ({ kind: authListenerKind(l.path), path: l.path, mode: l.mode, user: l.user, group: l.group }));
    for (const l of listeners) mkdirSync(join(l.path, '..'), { recursive: true, mode: 0o755 });
    const log = ctx.logFor('auth');
    const running = await startAuthServer({ service: ctx.auth(), listeners, log });
    return { serve: async () => undefined, close: () => running.close() };
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
        });
        server = new LmtpServer({
          hostname: settings.hostname,
          greeting: settings.login_greeting,
          agent,
          quotaFullTempfail: settings.quota_full_tempfail,
          lineLimit: settings.lmtp_line_limit,
          hardLineLimit: 64 * 1024,
          maxMessageSize: settings.lmtp_max_message_size,
          maxRecipients: settings.lmtp_max_recipients,
          maxBadCommands: 10,
          idleTimeoutMs: settings.lmtp_idle_timeout_ms,
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
        for (const b of bound) await closeListener(b).catch(() => undefined);
        await server?.close();
      },
    };
  },
};

/**
 * The services of this daemon, in start order. POP3 and IMAP plug in here with the same
 * bind/serve shape once mda/pop3/server.ts and mda/imap/server.ts export one.
 */
export const SERVICES: readonly MdaService[] = [authService, lmtpService];

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

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
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
  let auth = authServiceFromConfig(cfg, authLog);
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o644 });

  let ids = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const ctx: ServiceContext = { config: () => cfg, baseDir, logFor, auth: () => auth, processIds: () => ids };
  const bound: BoundService[] = [];
  const enabled = SERVICES.filter((s) => s.enabled(cfg));
  try {
    for (const s of enabled) bound.push(await s.bind(ctx));
    if (ids.uid === 0) {
      const m = mailIds(deliverySettings(cfg));
      if (m.uid === undefined || m.uid === 0) {
        throw new PrivilegeError('Started as root without mail_uid: refusing to write maildirs as root (set mail_uid/mail_gid to the virtual mail user)');
      }
      const gid = m.gid ?? m.uid;
      dropPrivileges(m.uid, gid);
      ids = { uid: m.uid, gid };
    }
    for (const b of bound) await b.serve();
  } catch (err) {
    master.fatal(err instanceof Error ? err.message : String(err));
    for (const b of bound.reverse()) await b.close().catch(() => undefined);
    try {
      unlinkSync(pidFile);
    } catch {
      // may belong to root after a drop
    }
    await Promise.all(sinks.map((s) => s.close()));
    throw err;
  }
  master.info(mdaEvents.master.startingUp(POSTERN_DOVECOT_VERSION, enabled.filter((s) => s.name !== 'auth').map((s) => s.name).join(', ')));

  let stopping: Promise<void> | undefined;
  const running: RunningMda = {
    pidFile,
    reload() {
      master.warn(mdaEvents.master.reloading());
      try {
        cfg = loadDovecotConfig(o.configPath);
        auth = authServiceFromConfig(cfg, authLog);
        for (const b of bound) b.reload?.();
      } catch (err) {
        master.error(`reload failed, keeping the old configuration: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    stop() {
      stopping ??= (async () => {
        for (const b of [...bound].reverse()) await b.close().catch(() => undefined);
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
