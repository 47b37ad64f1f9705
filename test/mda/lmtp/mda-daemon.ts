/*
 * Test helper: runs our MDA daemon (`postern-mda -c CONF`) as a child process from a generated
 * dovecot.conf in a temporary directory: passwd-file users, maildirs under the temp dir, LMTP
 * on a Unix socket (and optionally TCP), auth-client and auth-userdb sockets. As root the daemon
 * drops to uid/gid 65534 (mail_uid), the way a virtual-user setup runs; otherwise it runs as the
 * test's own uid. The child is killed when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { makeTraversable } from '../../helpers/postfix-instance.js';
import { tempDir } from '../../helpers/tmp.js';

export const DAEMON = fileURLToPath(new URL('../../../mda/cli/postern-mda.js', import.meta.url));

export interface MdaDaemon {
  readonly dir: string;
  readonly conf: string;
  readonly lmtpSocket: string;
  readonly authSocket: string;
  readonly mailRoot: string;
  readonly uid: number;
  readonly gid: number;
  /** The daemon's pid and its exit (code, or the signal's name). */
  readonly pid: number;
  readonly exited: Promise<number | string>;
  log(): string;
  stop(): Promise<void>;
}

export interface MdaDaemonOptions {
  /** passwd-file lines without uid/gid/home: `name:{PLAIN}pw` plus optional extra fields after `::`. */
  readonly users: readonly { name: string; password: string; extra?: string }[];
  readonly extraConf?: string;
  readonly tcpPort?: number;
  /** `protocols` (default `lmtp`). */
  readonly protocols?: string;
}

export async function startMdaDaemon(t: TestContext, o: MdaDaemonOptions): Promise<MdaDaemon> {
  const dir = tempDir(t, 'postern-mda-');
  makeTraversable(dir);
  const root = process.getuid?.() === 0;
  const uid = root ? 65534 : process.getuid?.() ?? 1000;
  const gid = root ? 65534 : process.getgid?.() ?? 1000;
  const mailRoot = join(dir, 'mail');
  mkdirSync(mailRoot, { mode: 0o755 });
  if (root) chownSync(mailRoot, uid, gid);
  const users = join(dir, 'users');
  writeFileSync(users, o.users.map((u) => `${u.name}:{PLAIN}${u.password}:${uid}:${gid}::${mailRoot}/${u.name}::${u.extra ?? ''}`).join('\n') + '\n', { mode: 0o644 });
  const conf = join(dir, 'dovecot.conf');
  const lmtpSocket = join(dir, 'run', 'lmtp');
  const authSocket = join(dir, 'run', 'auth-pf');
  writeFileSync(conf, `base_dir = ${dir}/run
log_path = ${dir}/dovecot.log
protocols = ${o.protocols ?? 'lmtp'}
listen = 127.0.0.1
ssl = no
hostname = mail.test.example
login_greeting = Dovecot ready.
mail_location = maildir:~/Maildir
${root ? `mail_uid = ${uid}\nmail_gid = ${gid}\n` : ''}first_valid_uid = ${Math.min(uid, 100)}
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${users}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${users}
}
service lmtp {
  unix_listener ${lmtpSocket} {
    mode = 0666
  }
${o.tcpPort !== undefined ? `  inet_listener lmtp {\n    address = 127.0.0.1\n    port = ${o.tcpPort}\n  }\n` : ''}}
service auth {
  unix_listener ${authSocket} {
    mode = 0666
  }
}
${o.extraConf ?? ''}
`);
  const d = await runMdaConfig(t, conf, join(dir, 'dovecot.log'));
  const { child, exited, log, stop } = d;
  return { dir, conf, lmtpSocket, authSocket, mailRoot, uid, gid, pid: child.pid ?? 0, exited, log, stop };
}

export interface RunningMdaChild {
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
  /** The log file's text so far. */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; also run when the test ends. */
  stop(): Promise<void>;
}

/** Starts `postern-mda -c conf` and waits for its "starting up" line in `logFile`. */
export async function runMdaConfig(t: TestContext, conf: string, logFile: string): Promise<RunningMdaChild> {
  const child: ChildProcess = spawn(process.execPath, [DAEMON, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | string>((r) => child.once('exit', (code, sig) => r(code ?? sig ?? -1)));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  };
  t.after(stop);
  const deadline = Date.now() + 20_000;
  while (!log().includes('starting up')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`MDA did not start: ${stderr}\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited, log, stop };
}
