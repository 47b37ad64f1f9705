/*
 * postfix(1): `postfix [-c config_dir] start|stop|reload|abort|flush|check|status|start-fg`, with
 * postfix-script's messages and exit codes as Postfix 3.7.11 prints them (checked against the real
 * /usr/sbin/postfix on a temporary configuration):
 *   status   `postfix/postfix-script: the Postfix mail system is running: PID: N` (0) or
 *            `… is not running` (1)
 *   start    `starting the Postfix mail system` (0); running already: `fatal: the Postfix mail system
 *            is already running` (1); the daemon did not come up: `fatal: mail system startup failed` (1)
 *   stop     `stopping the Postfix mail system`, `waiting for the Postfix mail system to terminate` (0)
 *   abort    `aborting the Postfix mail system`; reload: `refreshing the Postfix mail system`
 *   stop/abort/reload when down: `fatal: the Postfix mail system is not running` (1)
 *   flush    as postqueue -f (down: `postqueue: fatal: Cannot flush mail queue - mail system is down`, 69)
 *   other    `fatal: unknown command: 'X'. Usage: postfix start (or stop, …)` (1)
 * Messages go to standard error and, as `postfix/postfix-script[PID]: …`, to maillog_file.
 * The daemon is bin/postern-mta; its PID file is $queue_directory/pid/master.pid.
 */
import { spawn } from 'node:child_process';
import { DAEMON_NODE_FLAGS, daemonEnv } from '../../shared/daemon-flags.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPostfixConfig, type PostfixConfig } from '../../shared/config/postfix/config.js';
import { parseMasterCf } from '../../shared/config/postfix/master-cf.js';
import { postfixLogger } from '../../shared/log/logger.js';
import { openLogSink } from '../../shared/log/sink.js';
import { strerror } from '../../shared/errors/config-error.js';
import { configDirFrom } from './queue-config.js';
import { readPidFile } from '../main.js';
import { pidAlive } from '../../shared/fs/pid.js';
import { controlRequest, ControlUnavailableError } from '../queue/control-client.js';
import { queuePaths } from '../queue/paths.js';

const USAGE = 'Usage: postfix start (or stop, reload, abort, flush, check, status, set-permissions, upgrade-configuration, logrotate)';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PostfixCliIo {
  stderr(s: string): void;
  env: NodeJS.ProcessEnv;
}

interface Script {
  info(m: string): void;
  warn(m: string): void;
  fatal(m: string, status?: number): number;
  close(): Promise<void>;
}

function scriptLog(cfg: PostfixConfig | undefined, io: PostfixCliIo): Script {
  let sink: ReturnType<typeof openLogSink> | undefined;
  try {
    const path = cfg?.get('maillog_file') ?? '';
    if (path !== '' && path !== '/dev/stdout' && path !== '/dev/stderr') sink = openLogSink(path);
  } catch {
    sink = undefined;
  }
  const log = sink && cfg ? postfixLogger({ sink, host: cfg.get('myhostname'), syslogName: cfg.get('syslog_name') || 'postfix', program: 'postfix-script' }) : undefined;
  return {
    info: (m) => {
      io.stderr(`postfix/postfix-script: ${m}\n`);
      log?.info(m);
    },
    warn: (m) => {
      io.stderr(`postfix/postfix-script: warning: ${m}\n`);
      log?.warn(m);
    },
    fatal: (m, status = 1) => {
      io.stderr(`postfix/postfix-script: fatal: ${m}\n`);
      log?.fatal(m);
      return status;
    },
    close: async () => {
      await sink?.close();
    },
  };
}

function daemonEntry(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'postern-mta.js');
}

function running(queueDirectory: string): number | undefined {
  const pid = readPidFile(queueDirectory);
  return pid !== undefined && pidAlive(pid) ? pid : undefined;
}

/** postfix check: configuration readable, queue directories present (created when missing). */
function check(cfg: PostfixConfig, s: Script): boolean {
  const masterPath = join(cfg.configDir, 'master.cf');
  try {
    parseMasterCf(readFileSync(masterPath, 'utf8'), masterPath);
  } catch (err) {
    s.fatal((err as NodeJS.ErrnoException).code ? `open ${masterPath}: ${strerror(err)}` : (err as Error).message);
    return false;
  }
  const q = cfg.get('queue_directory');
  try {
    for (const d of ['pid', 'public', 'private']) mkdirSync(join(q, d), { recursive: true });
  } catch (err) {
    s.fatal(`cannot create ${q}: ${strerror(err)}`);
    return false;
  }
  return true;
}

export async function postfixMain(argv: string[], io: PostfixCliIo): Promise<number> {
  let dir: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' && i + 1 < argv.length) dir = argv[++i];
    else if (a === '-v' || a === '-D') continue;
    else rest.push(a);
  }
  const configDir = configDirFrom(dir, io.env);
  let cfg: PostfixConfig;
  try {
    cfg = loadPostfixConfig({ configDir });
  } catch (err) {
    io.stderr(`postfix: fatal: ${(err as Error).message}\n`);
    return 1;
  }
  const s = scriptLog(cfg, io);
  try {
    return await command(rest[0] ?? '', cfg, s, io);
  } finally {
    await s.close();
  }
}

async function command(cmd: string, cfg: PostfixConfig, s: Script, io: PostfixCliIo): Promise<number> {
  const q = cfg.get('queue_directory');
  const pid = running(q);
  switch (cmd) {
    case 'status':
      if (pid === undefined) {
        s.info('the Postfix mail system is not running');
        return 1;
      }
      s.info(`the Postfix mail system is running: PID: ${pid}`);
      return 0;
    case 'check':
      return check(cfg, s) ? 0 : 1;
    case 'start':
    case 'start-fg': {
      if (pid !== undefined) return s.fatal('the Postfix mail system is already running');
      if (!check(cfg, s)) return 1;
      s.info('starting the Postfix mail system');
      const args = [...DAEMON_NODE_FLAGS, daemonEntry(), '-c', cfg.configDir];
      if (cmd === 'start-fg') {
        const child = spawn(process.execPath, args, { stdio: 'inherit', env: daemonEnv(io.env) });
        for (const sig of ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
        return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
      }
      const child = spawn(process.execPath, args, { stdio: 'ignore', detached: true, env: daemonEnv(io.env) });
      let exited = false;
      child.on('exit', () => {
        exited = true;
      });
      child.unref();
      for (let i = 0; i < 200 && !exited; i++) {
        if (running(q) === child.pid) return 0;
        await sleep(50);
      }
      return s.fatal('mail system startup failed');
    }
    case 'stop':
    case 'abort': {
      if (pid === undefined) return s.fatal('the Postfix mail system is not running');
      if (cmd === 'abort') {
        s.info('aborting the Postfix mail system');
        process.kill(pid, 'SIGQUIT');
        return 0;
      }
      s.info('stopping the Postfix mail system');
      process.kill(pid, 'SIGTERM');
      s.info('waiting for the Postfix mail system to terminate');
      for (let i = 0; i < 1200 && pidAlive(pid); i++) await sleep(50);
      return 0;
    }
    case 'reload':
      if (pid === undefined) return s.fatal('the Postfix mail system is not running');
      s.info('refreshing the Postfix mail system');
      process.kill(pid, 'SIGHUP');
      return 0;
    case 'flush': {
      const paths = queuePaths(q);
      try {
        const res = await controlRequest(paths.controlSocket, { verb: 'FLUSH' });
        if (res.status === 'ERROR') {
          io.stderr(`postqueue: fatal: Cannot flush mail queue: ${res.text}\n`);
          return 69;
        }
        return 0;
      } catch (err) {
        if (!(err instanceof ControlUnavailableError)) throw err;
        io.stderr(`postqueue: warning: unable to look up ${paths.controlSocketName}: ${err.reason}\n`);
        io.stderr('postqueue: fatal: Cannot flush mail queue - mail system is down\n');
        return 69;
      }
    }
    default:
      return s.fatal(`unknown command: '${cmd}'. ${USAGE}`);
  }
}

if (process.argv[1] && existsSync(process.argv[1]) && fileURLToPath(import.meta.url) === process.argv[1]) {
  postfixMain(process.argv.slice(2), { stderr: (t) => process.stderr.write(t), env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`postfix: fatal: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
