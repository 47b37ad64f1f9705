/*
 * The MTA daemon (Postfix master(8) and the daemons it runs): `postern-mta -c DIR`. Everything runs
 * in this process, except smtpd and cleanup when postern_smtpd_processes > 1 (master/smtpd-processes.ts:
 * then this process binds their sockets and hands them over, and keeps qmgr and delivery).
 *
 * Start-up: main.cf and master.cf (postfix.md §3.2), the maillog sink, the pid file
 * `$queue_directory/pid/master.pid` (Postfix's format: the PID right-aligned in 32 columns), the
 * QueueStore with start-up recovery, the resolver, one delivery agent per master.cf `unix` service
 * whose command is a delivery agent (with its -o overrides), qmgr, the control socket for
 * postqueue/postsuper, and every `inet` service whose command is smtpd (unless `smtpd: false`).
 * Listeners are bound as root; then the process drops to mail_owner. Logs
 * `postfix/master[PID]: daemon started -- version V, configuration DIR`.
 * SIGTERM/SIGINT: stop accepting, give running deliveries a grace period, abandon the rest (they
 * stay queued), close the store. SIGQUIT (postfix abort): the same without grace. SIGHUP: logged as
 * Postfix's reload line; configuration changes need a restart (not yet re-read in place).
 * Only this file and cli/ choose concrete backends (DESIGN.md §2 rule 6).
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPostfixConfig, type PostfixConfig } from '../shared/config/postfix/config.js';
import type { Log } from '../shared/log/logger.js';
import { openLogSink, type LogSink } from '../shared/log/sink.js';
import { QueueStore } from './queue/store.js';
import { queueSettings } from './queue/settings.js';
import { startControlServer, type ControlServer } from './queue/control-server.js';
import { createResolver } from './resolve/resolver.js';
import { AgentRegistry, DELIVERY_COMMANDS, agentFor } from './delivery/registry.js';
import { Qmgr, type DsnGenerator } from './qmgr/scheduler.js';
import type { QueueRecord } from './queue/types.js';
import { controlHandler } from './qmgr/control.js';
import { realClock } from './qmgr/clock.js';
import { qmgrSettings, transportLimits } from './qmgr/settings.js';
import { mtaEvents } from './log-events.js';
import { POSTERN_MTA_PARAMS } from './params.js';
import { startSmtpdServices, type RunningService } from './smtpd/services.js';
import { readMasterServices, smtpdEndpoints, type MasterService } from './master/services.js';
import { mtaLogger, mtaRewriting, openQueue } from './master/wiring.js';
import { becomeMailOwner, mailOwner, MailOwnerError } from './master/privileges.js';
import { startSmtpdProcesses } from './master/smtpd-processes.js';
import { sendDelayWarning, sendPendingNotices, type BounceDeps } from './bounce/notify.js';
import { bounceSettings } from './bounce/settings.js';
import { startPickup } from './pickup/pickup.js';
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
  services: MasterService[];
}

export interface MtaHandle {
  readonly store: QueueStore;
  readonly qmgr: Qmgr;
  readonly log: Log;
  stop(graceSeconds?: number, signal?: number): Promise<void>;
  /** SIGHUP: logs Postfix's reload line (the configuration is not re-read in place yet). */
  reload(): void;
  /** PIDs of the smtpd processes (postern_smtpd_processes > 1); empty when smtpd runs in this process. */
  smtpdPids(): number[];
  /** True while the smtpd processes accept (mta/master/spread.ts); false without them. */
  smtpdSpreading(): boolean;
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

/**
 * postern_smtpd_processes: a whole number ≥ 1; unset or empty means its default (POSTERN_MTA_PARAMS;
 * the configuration's built-in defaults are Postfix's catalogue, which does not know the name).
 */
export function smtpdProcessCount(cfg: PostfixConfig): number {
  return posternCount(cfg, 'postern_smtpd_processes', 1);
}

/** postern_smtpd_spread_sessions: a whole number ≥ 0 (mta/master/spread.ts), as smtpdProcessCount. */
export function smtpdSpreadSessions(cfg: PostfixConfig): number {
  return posternCount(cfg, 'postern_smtpd_spread_sessions', 0);
}

function posternCount(cfg: PostfixConfig, name: string, min: number): number {
  const text = cfg.get(name).trim() || (POSTERN_MTA_PARAMS.find((x) => x.name === name)?.default ?? '');
  if (!/^\d{1,4}$/.test(text) || Number(text) < min) throw new MtaStartError(`bad numerical configuration: ${name} = ${text}`);
  return Number(text);
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
  const services = readMasterServices(o.configDir);
  const syslogName = cfg.get('syslog_name') || 'postfix';
  const sink: LogSink = openLogSink(cfg.get('maillog_file'));
  const logger = mtaLogger(cfg, sink);
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

  const smtpdEnabled = o.smtpd ?? true;
  // smtpd in processes of its own (postern_smtpd_processes > 1): each enqueues with its own slot of
  // the queue-ID space; the master's cleanup (pickup, bounces) has slot 0.
  const smtpdProcesses = smtpdEnabled ? smtpdProcessCount(cfg) : 1;
  // Checked at start like the count, whether or not there are processes to spread the load over.
  const spreadSessions = smtpdSpreadSessions(cfg);
  // How master logs an smtpd process and how long it waits after one failed to start.
  const smtpdPath = `${cfg.get('daemon_directory')}/smtpd`;
  const throttleMs = cfg.getTime('service_throttle_time') * 1000;
  const idSlot = smtpdProcesses > 1 ? { index: 0, count: smtpdProcesses + 1 } : undefined;
  const store = openQueue(qs, (m) => qmgrLog.warn(m), idSlot);
  await store.recover();

  // One cleanup for every way mail enters here: smtpd (unless in processes of its own), pickup
  // (sendmail) and the bounce generator.
  const { resolver, cleanup } = mtaRewriting(cfg, store, logger);
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
  const etrn = async (domain: string): Promise<boolean> => {
    await qmgr.flushSite(domain);
    return true;
  };
  // No smtpd address in master.cf (a null client): no smtpd process, whatever the setting says.
  const endpoints = smtpdEnabled ? smtpdEndpoints(services) : [];
  const pool = endpoints.length === 0 || smtpdProcesses <= 1
    ? undefined
    : await startSmtpdProcesses({
        configDir: o.configDir,
        count: smtpdProcesses,
        endpoints,
        keepPrivileges: o.keepPrivileges === true || process.getuid?.() !== 0,
        path: smtpdPath,
        throttleMs,
        spreadSessions,
        log: masterLog,
        queue: {
          // Another process committed these: qmgr scans incoming (a fresh read snapshot).
          enqueued: (ids) => store.notifyChange({ kind: 'enqueued', ids }),
          admitted: (id) => qmgr.adoptAdmitted(id),
          lend: (n) => qmgr.lendSlots(n),
          giveBack: (n) => qmgr.returnSlots(n),
          orphaned: () => qmgr.adoptStray(),
        },
        onEtrn: (domain) => void etrn(domain),
      });
  // smtpd in this process: on its own sockets without smtpd processes; with them, on the sockets the
  // pool bound, unless the master never accepts there (mta/master/spread.ts).
  let ownSmtpd: RunningService[] = [];
  if (pool === undefined) {
    if (smtpdEnabled) ownSmtpd = await startSmtpdServices({ services, resolver, cleanup, logger, etrn });
  } else if (pool.masterAccepts) {
    ownSmtpd = await startSmtpdServices({ services, resolver, cleanup, logger, etrn, listenerFor: (ep) => pool.masterListener(ep) });
    pool.acceptHere();
  }
  const smtpdListeners = [...ownSmtpd, ...(pool ? [pool] : [])];
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
    let ids;
    try {
      ids = mailOwner(cfg);
    } catch (err) {
      if (err instanceof MailOwnerError) throw new MtaStartError(err.message);
      throw err;
    }
    await sink.opened?.();
    chownTree(store.paths.dir, ids.uid, ids.gid);
    prepareMaildrop(join(qs.queueDirectory, 'maildrop'), ids.uid, ids.dropGid);
    becomeMailOwner(ids);
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
  return { store, qmgr, log: masterLog, stop, reload, smtpdPids: () => pool?.pids() ?? [], smtpdSpreading: () => pool?.spreading() ?? false };
}
