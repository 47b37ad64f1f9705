/*
 * Starts the four daemons of the e2e mixes on a prepared example setup (config-rewrite.ts):
 * real Postfix (`postfix -c DIR start`), real Dovecot (`dovecot -c CONF`), postern-mta and
 * postern-mda (child processes of the test). Each resolves once it serves (its port accepts
 * connections, or its Postfix-facing sockets exist) and is stopped when the test ends. The MDA must
 * be up before the MTA: Postfix connects to the LMTP and auth sockets it created.
 * Needs root (Postfix, Dovecot and the privilege drops); callers skip otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { TOP, type ExampleSetup } from './config-rewrite.js';

export interface Daemon {
  readonly name: string;
  /** Everything the daemon wrote (its log file, plus stderr for our child processes). */
  log(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, diag: () => string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${diag()}`);
    await sleep(100);
  }
}

export async function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Ready when smtpd greets; QUIT politely, so the probe leaves no "lost connection" line for fail2ban. */
export async function smtpReady(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.setEncoding('latin1');
    let buf = '';
    s.on('data', (d: string) => {
      buf += d;
      if (/^220 .*\r\n/m.test(buf)) s.write('QUIT\r\n');
      if (/^221 /m.test(buf)) {
        s.destroy();
        resolve(true);
      }
    });
    s.once('error', () => resolve(false));
    s.once('close', () => resolve(/^221 /m.test(buf)));
  });
}

const readText = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pidIn(file: string): number | undefined {
  const n = Number(readText(file).trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** SIGTERM a pid we started (or a master whose pid file we read), then SIGKILL if it lingers. */
async function terminate(pid: number | undefined): Promise<void> {
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 150 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

export async function startRealPostfix(t: TestContext, s: ExampleSetup): Promise<Daemon> {
  const run = (args: string[]) => spawnSync('/usr/sbin/postfix', ['-c', s.postfixDir, ...args], { encoding: 'utf8', timeout: 60_000 });
  const check = run(['check']);
  if (check.status !== 0) throw new Error(`postfix check: ${check.stdout}${check.stderr}${readText(s.maillog)}`);
  const start = run(['start']);
  if (start.status !== 0) throw new Error(`postfix start: ${start.stdout}${start.stderr}${readText(s.maillog)}`);
  // The pid is read now: node:test runs after-hooks in registration order, so the temp dir
  // (registered first, by prepareExamples) is gone before this daemon's stop hook runs.
  const pidFile = join(s.spool, 'pid', 'master.pid');
  let pid: number | undefined;
  const stop = async () => {
    pid ??= pidIn(pidFile);
    if (existsSync(s.postfixDir)) run(['stop']);
    await terminate(pid);
  };
  t.after(stop);
  await until('real Postfix master.pid', () => (pid = pidIn(pidFile)) !== undefined, () => readText(s.maillog));
  await until('real Postfix smtpd', () => smtpReady(s.ports.submission), () => readText(s.maillog));
  return { name: 'Postfix', log: () => readText(s.maillog), stop };
}

export async function startRealDovecot(t: TestContext, s: ExampleSetup): Promise<Daemon> {
  const outFile = join(s.root, 'dovecot.start');
  const out = openSync(outFile, 'w');
  const r = spawnSync('/usr/sbin/dovecot', ['-c', s.dovecotConf], { stdio: ['ignore', out, out], timeout: 30_000 });
  closeSync(out);
  if (r.status !== 0) throw new Error(`dovecot -c: ${readText(outFile)}${readText(s.dovecotLog)}`);
  const pidFile = join(s.root, 'run', 'dovecot', 'master.pid');
  let pid: number | undefined;
  const stop = async () => terminate(pid ?? pidIn(pidFile));
  t.after(stop);
  await until('real Dovecot master.pid', () => (pid = pidIn(pidFile)) !== undefined, () => readText(s.dovecotLog));
  await until('real Dovecot sockets', () => existsSync(s.lmtpSocket) && existsSync(s.authSocket), () => readText(s.dovecotLog));
  await until('real Dovecot IMAP', () => portOpen(s.ports.imap), () => readText(s.dovecotLog));
  return { name: 'Dovecot', log: () => readText(s.dovecotLog), stop };
}

/** Runs dist/<script> with node as a child of the test; its stderr is kept for diagnostics. */
function child(t: TestContext, script: string, args: string[]): { proc: ChildProcess; stderr: () => string; stop: () => Promise<void> } {
  const proc = spawn(process.execPath, [join(TOP, 'dist', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([gone, sleep(15_000)]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  t.after(stop);
  return { proc, stderr: () => err, stop };
}

export async function startPosternMda(t: TestContext, s: ExampleSetup): Promise<Daemon> {
  const c = child(t, 'mda/cli/postern-mda.js', ['-c', s.dovecotConf]);
  const log = () => `${readText(s.dovecotLog)}${c.stderr()}`;
  await until('postern-mda sockets', () => {
    if (c.proc.exitCode !== null) throw new Error(`postern-mda exited ${c.proc.exitCode}\n${log()}`);
    return existsSync(s.lmtpSocket) && existsSync(s.authSocket);
  }, log);
  await until('postern-mda IMAP', () => portOpen(s.ports.imap), log);
  return { name: 'postern-mda', log, stop: c.stop };
}

export async function startPosternMta(t: TestContext, s: ExampleSetup): Promise<Daemon> {
  const c = child(t, 'mta/cli/postern-mta.js', ['-c', s.postfixDir]);
  const log = () => `${readText(s.maillog)}${c.stderr()}`;
  await until('postern-mta smtpd', () => {
    if (c.proc.exitCode !== null) throw new Error(`postern-mta exited ${c.proc.exitCode}\n${log()}`);
    return smtpReady(s.ports.submission);
  }, log);
  return { name: 'postern-mta', log, stop: c.stop };
}
