/*
 * `dovecot [-F] [-c FILE]`, `dovecot stop`, `dovecot reload` (Dovecot 2.3 master's command
 * line): without -F the daemon is started detached and the command returns once
 * `<base_dir>/master.pid` names a live process; `stop` sends SIGTERM to that pid and waits for
 * it to exit; `reload` sends SIGHUP. `--version` prints the version. Errors print
 * `Fatal: …` like Dovecot and exit 89 (FATAL_DEFAULT); usage errors exit 64.
 *
 * Distrusts the pid file: a stale or garbled one means "not running".
 */
import { spawn } from 'node:child_process';
import { DAEMON_NODE_FLAGS, daemonEnv } from '../../shared/daemon-flags.js';
import { readFileSync, realpathSync, unlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliExit, dovecotDiag, runCli, type Diag } from '../../shared/cli/diag.js';
import { loadDovecotConfig } from '../../shared/config/dovecot/config.js';
import { pidFilePath, POSTERN_DOVECOT_VERSION } from '../main.js';
import { pidAlive } from '../../shared/fs/pid.js';
import { FATAL_DEFAULT, parseDaemonArgs, runForeground } from './postern-mda.js';

export interface DovecotIo {
  stdout(s: string): void;
  stderr(s: string): void;
}

function runningPid(pidFile: string): number | undefined {
  try {
    const n = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(n) && n > 0 && pidAlive(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function dovecotCommand(argv: readonly string[], io: DovecotIo): Promise<number> {
  const diag: Diag = dovecotDiag('dovecot', io.stderr);
  if (argv.includes('--version')) {
    io.stdout(`${POSTERN_DOVECOT_VERSION}\n`);
    return 0;
  }
  const a = parseDaemonArgs(argv);
  if (a === undefined || a.rest.length > 1) {
    io.stderr('Usage: dovecot [-F] [-c <config file>] [stop|reload]\n');
    return 64;
  }
  const cmd = a.rest[0];
  let pidFile: string;
  try {
    pidFile = pidFilePath(loadDovecotConfig(a.config));
  } catch (err) {
    diag.fatal(err instanceof Error ? err.message : String(err), FATAL_DEFAULT);
  }
  if (cmd === 'stop' || cmd === 'reload') {
    const pid = runningPid(pidFile);
    if (pid === undefined) diag.fatal(`${cmd}: Dovecot is not running (read from ${pidFile})`, FATAL_DEFAULT);
    if (cmd === 'reload') {
      process.kill(pid, 'SIGHUP');
      return 0;
    }
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 600 && pidAlive(pid); i++) await sleep(50);
    if (pidAlive(pid)) diag.fatal(`stop: Dovecot (PID ${pid}) did not exit`, FATAL_DEFAULT);
    try {
      unlinkSync(pidFile);
    } catch {
      // already removed by the daemon
    }
    return 0;
  }
  if (cmd !== undefined) {
    io.stderr(`dovecot: Fatal: Unknown command: ${cmd}\n`);
    return 64;
  }
  const pid = runningPid(pidFile);
  if (pid !== undefined) diag.fatal(`Dovecot is already running with PID ${pid} (read from ${pidFile})`, FATAL_DEFAULT);
  if (a.foreground) return runForeground('dovecot', a.config);
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, fileURLToPath(import.meta.url), '-F', '-c', a.config], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: daemonEnv(process.env) });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  for (let i = 0; i < 400; i++) {
    if (exited !== undefined) {
      io.stderr(err);
      return exited ?? FATAL_DEFAULT;
    }
    if (runningPid(pidFile) === child.pid && err === '') break;
    await sleep(50);
  }
  await sleep(100);
  if (exited !== undefined) {
    io.stderr(err);
    return exited ?? FATAL_DEFAULT;
  }
  child.stderr?.destroy();
  child.unref();
  return 0;
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  void runCli(async () => {
    try {
      return await dovecotCommand(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
    } catch (e) {
      if (e instanceof CliExit) return e.status;
      throw e;
    }
  });
}
