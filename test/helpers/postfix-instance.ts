/*
 * A throw-away real Postfix 3.7 for interop tests: a private config directory with main.cf and
 * master.cf, its own queue and data directories and maillog_file, smtpd on 127.0.0.1:<free port>,
 * started with `postfix -c DIR start` and stopped (and waited for) in cleanup. /etc/postfix and
 * the system instance are never touched.
 *
 * Every service runs unchrooted (chroot column "n"), so absolute paths in main.cf (such as
 * `smtpd_sasl_path = /tmp/…/auth-client`) mean what they say. Postfix daemons run as `postfix`;
 * sockets they must reach need to be accessible to that user, and the temp tree is made
 * traversable for it. Needs root (postfix start does); callers skip with oracleSkip('postfix').
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';

export const POSTFIX = '/usr/sbin/postfix';

export interface PostfixInstanceOptions {
  /** Extra main.cf lines ("name = value"), applied after the defaults. */
  main?: Record<string, string>;
  /** Extra `-o name=value` overrides for the smtpd service. */
  smtpdOptions?: Record<string, string>;
  myhostname?: string;
}

export interface PostfixInstance {
  readonly dir: string;
  readonly configDir: string;
  readonly host: string;
  readonly port: number;
  readonly maillog: string;
  /** Current contents of maillog_file ('' while it does not exist). */
  log(): string;
  /** Runs `postconf -c DIR …`. */
  postconf(args: string[]): string;
  stop(): Promise<void>;
}

const MASTER_CF = (port: number, smtpdOpts: Record<string, string>): string => {
  const o = Object.entries(smtpdOpts).map(([k, v]) => `\n  -o ${k}=${v}`).join('');
  return `# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:${port} inet n - n - - smtpd${o}
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;
};

function run(cmd: string, args: string[]): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/**
 * Runs a postfix command; on failure runs it again under script(1), because the postfix command
 * writes its fatal message to stderr only when stderr is a terminal (else to syslog).
 */
function postfixCmd(args: string[]): { status: number; out: string } {
  const r = run(POSTFIX, args);
  if (r.status === 0 || r.out.trim() !== '') return r;
  const again = run('/usr/bin/script', ['-qec', [POSTFIX, ...args].map((a) => `'${a}'`).join(' '), '/dev/null']);
  return { status: r.status, out: again.out };
}

function masterPid(queueDir: string): number | undefined {
  try {
    const n = Number(readFileSync(join(queueDir, 'pid', 'master.pid'), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** Makes every directory from `dir` up to / traversable (o+x), so the postfix user can reach files under it. */
export function makeTraversable(dir: string): void {
  let d = dir;
  while (d !== '/' && d !== '') {
    try {
      const mode = Number.parseInt(execFileSync('stat', ['-c', '%a', d], { encoding: 'utf8' }).trim(), 8);
      if ((mode & 0o001) === 0) chmodSync(d, mode | 0o011);
    } catch {
      break;
    }
    d = join(d, '..');
    if (d === '/') break;
  }
}

/** Starts a private Postfix; it is stopped when the test ends (or earlier with stop()). */
export async function startPostfix(t: TestContext, opts: PostfixInstanceOptions = {}): Promise<PostfixInstance> {
  // Not tempDir(): node:test runs after-hooks in registration order, so tempDir's removal would run
  // before the stop hook could read master.pid, and the instance would leak. One hook does both.
  const dir = mkdtempSync(join(tmpdir(), 'postern-postfix-'));
  makeTraversable(dir);
  const configDir = join(dir, 'etc');
  const queueDir = join(dir, 'queue');
  const dataDir = join(dir, 'data');
  mkdirSync(configDir);
  mkdirSync(queueDir, { mode: 0o755 });
  const port = await freePort();
  const host = '127.0.0.1';
  const maillog = join(dir, 'maillog');
  const main: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: queueDir,
    data_directory: dataDir,
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    inet_interfaces: host,
    inet_protocols: 'ipv4',
    myhostname: opts.myhostname ?? 'mx.test.example',
    mydestination: '',
    mynetworks: '',
    maillog_file: maillog,
    maillog_file_prefixes: dir,
    syslog_name: 'postfix-test',
    smtpd_banner: '$myhostname ESMTP Postfix',
    alias_maps: '',
    alias_database: '',
    smtputf8_enable: 'yes',
    ...opts.main,
  };
  writeFileSync(join(configDir, 'main.cf'), Object.entries(main).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  writeFileSync(join(configDir, 'master.cf'), MASTER_CF(port, opts.smtpdOptions ?? {}));

  const check = postfixCmd(['-c', configDir, 'check']);
  if (check.status !== 0) throw new Error(`postfix check failed: ${check.out}`);
  const start = postfixCmd(['-c', configDir, 'start']);
  if (start.status !== 0) throw new Error(`postfix start failed: ${start.out}`);

  const startedPid = masterPid(queueDir);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const pid = masterPid(queueDir) ?? startedPid;
    run(POSTFIX, ['-c', configDir, 'stop']);
    if (pid !== undefined && !(await waitFor(() => !alive(pid), 15_000))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await waitFor(() => !alive(pid), 5_000);
    }
  };
  t.after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Ready when smtpd's port accepts connections (master binds it at start-up).
  const { connect } = await import('node:net');
  const up = async (): Promise<boolean> =>
    new Promise((resolve) => {
      const s = connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  const end = Date.now() + 20_000;
  while (!(await up())) {
    if (Date.now() > end) throw new Error(`postfix did not listen on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    dir, configDir, host, port, maillog,
    log: () => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : ''),
    postconf: (args) => run('/usr/sbin/postconf', ['-c', configDir, ...args]).out,
    stop,
  };
}
