/*
 * The MTA daemon (Postfix master(8) and the daemons it runs, in one process): `postern-mta -c DIR`.
 *
 * Start-up: main.cf and master.cf (postfix.md §3.2), the maillog sink, the pid file
 * `$queue_directory/pid/master.pid` (Postfix's format: the PID right-aligned in 32 columns), the
 * QueueStore with start-up recovery, the resolver, one delivery agent per master.cf `unix` service
 * whose command is a delivery agent (with its -o overrides), qmgr, the control socket for
 * postqueue/postsuper, and every `inet` service whose command is smtpd (when the smtpd/cleanup
 * wiring is given, see `listeners`). Listeners are bound as root; then the process drops to
 * mail_owner. Logs `postfix/master[PID]: daemon started -- version V, configuration DIR`.
 * SIGTERM/SIGINT: stop accepting, give running deliveries a grace period, abandon the rest (they
 * stay queued), close the store. SIGQUIT (postfix abort): the same without grace. SIGHUP: logged as
 * Postfix's reload line; configuration changes need a restart (not yet re-read in place).
 * Only this file and cli/ choose concrete backends (DESIGN.md §2 rule 6).
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPostfixConfig, type PostfixConfig } from '../shared/config/postfix/config.js';
import { effectiveServices, entryParams, parseMasterCf, type MasterEntry } from '../shared/config/postfix/master-cf.js';
import { ConfigOpenError, strerror } from '../shared/errors/config-error.js';
import { postfixLogger, type Log } from '../shared/log/logger.js';
import { openLogSink, type LogSink } from '../shared/log/sink.js';
import { QueueStore } from './queue/store.js';
import { queueSettings } from './queue/settings.js';
import { startControlServer, type ControlServer } from './queue/control-server.js';
import { createResolveContext } from './resolve/context.js';
import { createResolver } from './resolve/resolver.js';
import { AgentRegistry, DELIVERY_COMMANDS, agentFor } from './delivery/registry.js';
import { Qmgr, type DsnGenerator } from './qmgr/scheduler.js';
import type { QueueRecord } from './queue/types.js';
import { controlHandler } from './qmgr/control.js';
import { realClock } from './qmgr/clock.js';
import { qmgrSettings, transportLimits } from './qmgr/settings.js';
import { mtaEvents } from './log-events.js';
import { createCleanup } from './cleanup/service.js';
import { cleanupSettings } from './cleanup/settings.js';
import { addressMapsFromResolver } from './cleanup/resolver-maps.js';
import { createSmtpdPolicy } from './smtpd/policy/engine.js';
import { startSmtpd } from './smtpd/server.js';
import { DovecotSaslClient, resolveSaslPath } from './smtpd/sasl/dovecot-client.js';
import type { Cleanup } from './cleanup/api.js';
import { sendDelayWarning, sendPendingNotices, type BounceDeps } from './bounce/notify.js';
import { bounceSettings } from './bounce/settings.js';
import { startPickup } from './pickup/pickup.js';
import { loadPostfixCredentials } from '../shared/tls/credentials.js';
import { pidAlive } from '../shared/fs/pid.js';

export interface MtaOptions {
  configDir: string;
  /** Seconds running deliveries get at SIGTERM before they are abandoned. */
  stopGraceSeconds?: number;
  /** Skip the privilege drop (tests that run unprivileged, or keep root on purpose). */
  keepPrivileges?: boolean;
  /** Starts extra services (smtpd listeners, pickup) after the queue is open; closed at stop. */
  services?: (ctx: ServiceContext) => Promise<Array<{ close(): Promise<void> }>>;
  /** Start the master.cf `inet … smtpd` listeners (default true). */
  smtpd?: boolean;
  /** Replaces the bounce generator (mta/bounce); returning undefined makes DSNs wait in the queue. */
  dsn?: (ctx: ServiceContext) => DsnGenerator | undefined;
  /** Run pickup on the maildrop directory (default true). */
  pickup?: boolean;
}

export interface ServiceContext {
  cfg: PostfixConfig;
  configDir: string;
  store: QueueStore;
  resolver: ReturnType<typeof createResolver>;
  qmgr: Qmgr;
  logger(program: string, syslogName?: string): Log;
  /** master.cf services with the effective config of each (main.cf + -o overrides + service_name). */
  services: Array<{ entry: MasterEntry; name: string; type: string; command: string; config: PostfixConfig }>;
}

export interface MtaHandle {
  readonly store: QueueStore;
  readonly qmgr: Qmgr;
  readonly log: Log;
  stop(graceSeconds?: number, signal?: number): Promise<void>;
  /** SIGHUP: logs Postfix's reload line (the configuration is not re-read in place yet). */
  reload(): void;
}

export class MtaStartError extends Error {
  override readonly name = 'MtaStartError';
}

export function pidFilePath(queueDirectory: string): string {
  return join(queueDirectory, 'pid', 'master.pid');
}

/** Postfix's master.pid: the PID right-aligned in 32 columns, newline. */
export function formatPidFile(pid: number): string {
  return `${String(pid).padStart(32, ' ')}\n`;
}

export function readPidFile(queueDirectory: string): number | undefined {
  try {
    const n = Number(readFileSync(pidFilePath(queueDirectory), 'latin1').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function lookupPasswd(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no passwd file
  }
  return /^\d+$/.test(name) ? { uid: Number(name), gid: Number(name) } : undefined;
}

function lookupGroup(name: string): number | undefined {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f.length >= 3) return Number(f[2]);
    }
  } catch {
    // no group file
  }
  return /^\d+$/.test(name) ? Number(name) : undefined;
}

/**
 * The maildrop directory, as Postfix's (postfix:postdrop, mode 1730 with set-gid postdrop) but
 * without a set-gid program: mode 3733 (sticky, set-gid, anyone may create, nobody but the owner may
 * list), owned by mail_owner and the setgid_group. sendmail writes 0640 files there, which inherit the
 * group through the set-gid bit, so pickup (mail_owner, with setgid_group as a supplementary group)
 * can read them and other local users can neither list nor read them.
 */
function prepareMaildrop(dir: string, uid: number, gid: number): void {
  mkdirSync(dir, { recursive: true });
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o3733);
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid);
    else chownSync(p, uid, gid);
  }
}

export async function startMta(o: MtaOptions): Promise<MtaHandle> {
  const cfg = loadPostfixConfig({ configDir: o.configDir });
  const masterPath = join(o.configDir, 'master.cf');
  let masterText: string;
  try {
    masterText = readFileSync(masterPath, 'utf8');
  } catch (err) {
    throw new ConfigOpenError(masterPath, strerror(err));
  }
  const master = parseMasterCf(masterText, masterPath);
  const myhostname = cfg.get('myhostname');
  const syslogName = cfg.get('syslog_name') || 'postfix';
  const sink: LogSink = openLogSink(cfg.get('maillog_file'));
  const logger = (program: string, name = syslogName): Log => postfixLogger({ sink, host: myhostname, syslogName: name, program });
  const masterLog = logger('master');
  const qmgrLog = logger('qmgr');
  const qs = queueSettings(cfg);

  for (const d of ['pid', 'public', 'private']) mkdirSync(join(qs.queueDirectory, d), { recursive: true });
  chmodSync(join(qs.queueDirectory, 'private'), 0o700);
  const pidPath = pidFilePath(qs.queueDirectory);
  const other = readPidFile(qs.queueDirectory);
  if (other !== undefined && other !== process.pid && pidAlive(other)) {
    await sink.close();
    throw new MtaStartError(`the Postfix mail system is already running: PID: ${other}`);
  }
  writeFileSync(pidPath, formatPidFile(process.pid));

  const store = QueueStore.open({ queueDirectory: qs.queueDirectory, longQueueIds: qs.longQueueIds, retry: qs, warn: (m) => qmgrLog.warn(m) });
  await store.recover();

  const resolver = createResolver(createResolveContext(cfg, { warn: (m) => logger('trivial-rewrite').warn(m) }));
  const services = effectiveServices(master).map((entry) => {
    const name = entry.argv[0]!;
    const overrides: Record<string, string> = { service_name: name };
    for (const [k, v] of entryParams(entry.argv)) overrides[k] = v;
    const config = loadPostfixConfig({ configDir: o.configDir, overrides });
    return { entry, name, type: entry.argv[1]!, command: entry.argv[7]!, config };
  });
  // One cleanup for every way mail enters: smtpd, pickup (sendmail) and the bounce generator.
  const cleanup = createCleanup({
    store,
    settings: cleanupSettings(cfg),
    maps: addressMapsFromResolver(resolver),
    log: logger('cleanup'),
  });
  const bounceDeps: BounceDeps = {
    cleanup,
    // qmgr calls finishDsn itself once the generator resolved (and logs `removed`), so the
    // generator's own call is a no-op here; the order — notices durable first — is unchanged.
    store: { readBody: (id) => store.readBody(id), finishDsn: async () => true },
    settings: bounceSettings(cfg),
    log: logger('bounce'),
  };
  const maxprocOf = new Map<string, string>();
  const registry = new AgentRegistry({ config: cfg, syslogName });
  for (const s of services) {
    if (s.type !== 'unix' || !DELIVERY_COMMANDS.has(s.command)) continue;
    const spec = { name: s.name, command: s.command, config: s.config };
    const svcSyslog = s.config.get('syslog_name') || syslogName;
    registry.add(spec, agentFor(spec, logger(s.command, svcSyslog)));
    maxprocOf.set(s.name, s.entry.argv[6]!);
  }
  const qmgr = new Qmgr({
    store,
    resolver,
    transports: registry,
    settings: qmgrSettings(cfg),
    limitsOf: (t) => transportLimits(cfg, t, maxprocOf.get(t)),
    clock: realClock,
    logger,
    delayWarning: async (rec) => {
      const r = await sendDelayWarning(bounceDeps, rec, rec.recipients.filter((x) => x.status === 'pending'));
      if (!r.ok) throw new Error('delay notice refused by cleanup');
    },
  });
  const ctx: ServiceContext = { cfg, configDir: o.configDir, store, resolver, qmgr, logger, services };
  const smtpdListeners = await startSmtpdServices(ctx, cleanup, o.smtpd ?? true);
  const defaultDsn = async (rec: QueueRecord): Promise<void> => {
    const r = await sendPendingNotices(bounceDeps, rec);
    if (!r.ok) throw new Error('a notice was refused by cleanup');
  };
  qmgr.setDsnGenerator(o.dsn ? o.dsn(ctx) : defaultDsn);
  const pickup = o.pickup === false ? undefined : startPickup({ queueDirectory: qs.queueDirectory, cleanup, log: logger('pickup') });

  const control: ControlServer = await startControlServer(store.paths.controlSocket, controlHandler(qmgr));
  const extra = o.services ? await o.services(ctx) : [];

  // Everything privileged is done (sockets bound, files open): run as mail_owner from here on.
  if (!o.keepPrivileges && process.getuid?.() === 0) {
    const owner = cfg.get('mail_owner');
    const ids = lookupPasswd(owner);
    if (!ids) throw new MtaStartError(`file ${cfg.mainCfPath}: parameter mail_owner: unknown user name value: ${owner}`);
    chownTree(store.paths.dir, ids.uid, ids.gid);
    const dropGid = lookupGroup(cfg.get('setgid_group')) ?? ids.gid;
    prepareMaildrop(join(qs.queueDirectory, 'maildrop'), ids.uid, dropGid);
    process.setgroups?.([ids.gid, dropGid]);
    process.setgid?.(ids.gid);
    process.setuid?.(ids.uid);
  }

  masterLog.info(mtaEvents.master.started(cfg.get('mail_version'), o.configDir));
  qmgr.start();

  let stopped: Promise<void> | undefined;
  const stop = (graceSeconds = o.stopGraceSeconds ?? 10, signal?: number): Promise<void> => {
    stopped ??= (async () => {
      if (signal !== undefined) masterLog.info(mtaEvents.master.terminating(signal));
      pickup?.stop();
      await Promise.allSettled([...smtpdListeners, ...extra].map((s) => s.close()));
      await control.close();
      await qmgr.stop(graceSeconds * 1000);
      await registry.closeAll();
      await store.close();
      await sink.close();
    })();
    return stopped;
  };
  const reload = () => masterLog.info(mtaEvents.master.reload(cfg.get('mail_version'), o.configDir));
  return { store, qmgr, log: masterLog, stop, reload };
}

/** Well-known service ports for master.cf names that are not numbers (getservbyname). */
const SERVICE_PORTS: Record<string, number> = { smtp: 25, submission: 587, submissions: 465, smtps: 465, lmtp: 24 };

/** Listening addresses of an inet service: `[host]:port`, `host:port` or `port` (then inet_interfaces). */
export function inetEndpoints(name: string, cfg: PostfixConfig): Array<{ host: string; port: number }> {
  let host: string | undefined;
  let portText = name;
  const m = /^\[([^\]]*)\]:(.+)$/.exec(name) ?? /^([^:[\]]*):([^:]+)$/.exec(name);
  if (m) {
    host = m[1]!;
    portText = m[2]!;
  }
  const port = /^\d+$/.test(portText) ? Number(portText) : SERVICE_PORTS[portText];
  if (port === undefined) throw new MtaStartError(`unknown service: ${portText}/tcp`);
  if (host !== undefined && host !== '') return [{ host, port }];
  const protocols = cfg.getList('inet_protocols').map((x) => x.toLowerCase());
  const v4 = protocols.includes('all') || protocols.includes('ipv4');
  const v6 = protocols.includes('all') || protocols.includes('ipv6');
  const out: Array<{ host: string; port: number }> = [];
  for (const i of cfg.getList('inet_interfaces').map((x) => x.toLowerCase())) {
    if (i === 'all') {
      out.push({ host: v6 ? '::' : '0.0.0.0', port });
    } else if (i === 'loopback-only') {
      if (v4) out.push({ host: '127.0.0.1', port });
      if (v6) out.push({ host: '::1', port });
    } else {
      out.push({ host: i.replace(/^\[|\]$/g, ''), port });
    }
  }
  return out;
}

/**
 * Every master.cf `inet` service whose command is smtpd: one listener per address, with the
 * service's own configuration (main.cf + -o overrides: syslog_name, smtpd_tls_wrappermode …), a
 * shared cleanup into the store, the restriction engine, Dovecot SASL when enabled, TLS credentials
 * when configured.
 */
async function startSmtpdServices(ctx: ServiceContext, cleanup: Cleanup, enabled: boolean): Promise<Array<{ close(): Promise<void> }>> {
  if (!enabled) return [];
  const resolver = ctx.resolver;
  const out: Array<{ close(): Promise<void> }> = [];
  try {
    for (const s of ctx.services) {
      if (s.type !== 'inet' || s.command !== 'smtpd') continue;
      const c = s.config;
      const syslog = c.get('syslog_name') || 'postfix';
      const log = ctx.logger('smtpd', syslog);
      const policy = createSmtpdPolicy(c, { resolver, log: (line) => log.info(line) });
      let sasl: DovecotSaslClient | undefined;
      if (c.getBool('smtpd_sasl_auth_enable') && c.get('smtpd_sasl_type') === 'dovecot') {
        sasl = new DovecotSaslClient({ endpoint: resolveSaslPath(c.get('smtpd_sasl_path'), c.get('queue_directory')) });
      }
      const credentials = loadPostfixCredentials({
        chainFiles: c.getList('smtpd_tls_chain_files'),
        certFile: c.get('smtpd_tls_cert_file'),
        keyFile: c.get('smtpd_tls_key_file'),
        eccertFile: c.get('smtpd_tls_eccert_file'),
        eckeyFile: c.get('smtpd_tls_eckey_file'),
      });
      for (const listen of inetEndpoints(s.name, c)) {
        const h = await startSmtpd({
          config: c, listen, cleanup, policy, sasl, credentials, log, qualify: (a) => resolver.qualify(a),
          // ETRN: smtpd has checked fast_flush_domains; the site's deferred mail becomes due now.
          etrn: async (domain) => {
            await ctx.qmgr.flushSite(domain);
            return true;
          },
        });
        out.push({ close: async () => { await h.close(); sasl?.close(); policy.close?.(); } });
      }
    }
  } catch (err) {
    await Promise.allSettled(out.map((x) => x.close()));
    throw err;
  }
  return out;
}
