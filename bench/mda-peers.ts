/*
 * The two MDA peers, started from one and the same dovecot.conf text: real Dovecot 2.3
 * (`dovecot -F -c CONF`, the master in the foreground so its pid is the child's) and ours
 * (`node dist/mda/cli/postern-mda.js -c CONF`). Each gets its own temp directory (base_dir, logs,
 * passwd-file, mail root); mail belongs to uid/gid 65534 (mail_uid), as in a virtual-user setup.
 * Both listen on 127.0.0.1 only; /etc/dovecot and the system service are never touched.
 * Durability: mail_fsync = optimized (Dovecot's default: the message file is fsync'd before the
 * rename into new/; ours also fsyncs the directory).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/free-port.js';
import { killIfSame, processTree, startTime } from './proc.js';
import { removeLater } from './scratch.js';
import { settleMachine } from './settle.js';
import { DAEMON_NODE_FLAGS, daemonEnv } from '../shared/daemon-flags.js';

export type Side = 'ours' | 'reference';
export const MAIL_UID = process.getuid?.() === 0 ? 65534 : (process.getuid?.() ?? 1000);
export const MAIL_GID = process.getuid?.() === 0 ? 65534 : (process.getgid?.() ?? 1000);
export const PASSWORD = 'benchpw';
export const DOMAIN = 'bench.test';
const OUR_MDA = fileURLToPath(new URL('../mda/cli/postern-mda.js', import.meta.url));

/**
 * Node arguments for our daemons: the ones bin/_launch gives them (shared/daemon-flags.ts), then
 * extra ones from BENCH_OURS_NODE_ARGS (space-separated) for profiling (`--cpu-prof
 * --cpu-prof-dir=DIR`) and diagnostics; no extra ones for the reported figures.
 */
export function ourNodeArgs(): string[] {
  return [...DAEMON_NODE_FLAGS, ...(process.env['BENCH_OURS_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '')];
}

export const userName = (i: number): string => `user${String(i).padStart(4, '0')}@${DOMAIN}`;

export interface MdaPeer {
  readonly side: Side;
  readonly dir: string;
  readonly mailRoot: string;
  readonly lmtpSocket: string;
  readonly imapPort: number;
  readonly pid: number;
  readonly conf: string;
  maildir(user: string): string;
  log(): string;
  /** Stops the daemon and starts it again on the same configuration and mail (state kept, as a restart by the administrator). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface MdaPeerOptions {
  readonly users: number;
  /** Called before the daemon starts, to put mail in place (maildirs are chowned afterwards). */
  readonly prepare?: (mailRoot: string) => void | Promise<void>;
  /** postern_mail_processes for our MDA (BenchSettings.mailProcesses). */
  readonly mailProcesses: number;
}

/** A new temp directory reachable by uid 65534. */
export function benchDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  return d;
}

export function dovecotConf(dir: string, imapPort: number, mailProcesses = 1): string {
  return `# Postern benchmark: the same text is given to Dovecot 2.3 and to postern-mda
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = lmtp imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
hostname = mail.${DOMAIN}
mail_location = maildir:~/Maildir
mail_fsync = optimized
mail_uid = ${MAIL_UID}
mail_gid = ${MAIL_GID}
first_valid_uid = ${Math.min(MAIL_UID, 100)}
first_valid_gid = ${Math.min(MAIL_GID, 100)}
default_process_limit = 2500
default_client_limit = 10000
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/users
}
protocol imap {
  mail_max_userip_connections = 1000
}
service lmtp {
  unix_listener ${dir}/run/bench-lmtp {
    mode = 0666
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
}
service imap {
  process_limit = 2500
}
plugin {
  postern_mail_processes = ${mailProcesses}${warmUpLine()}
}
`;
}

/** BENCH_OURS_WARMUP (e.g. `0`, `5 secs`) sets postern_imap_warmup, for A/Bs of the first seconds; the default otherwise. */
function warmUpLine(): string {
  const v = process.env['BENCH_OURS_WARMUP'];
  return v === undefined ? '' : `\n  postern_imap_warmup = ${v}`;
}

function chownTree(path: string): void {
  if (process.getuid?.() !== 0) return;
  // spawnSync of chown -R is far faster than walking 100k files from JS.
  const r = spawnSyncQuiet('chown', ['-R', `${MAIL_UID}:${MAIL_GID}`, path]);
  if (r !== 0) throw new Error(`chown -R ${path} failed`);
}

function spawnSyncQuiet(cmd: string, args: string[]): number {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status ?? -1;
}

async function connectable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startMdaPeer(side: Side, o: MdaPeerOptions): Promise<MdaPeer> {
  const dir = benchDir(side === 'ours' ? 'postern-bench-ours-' : 'postern-bench-dovecot-');
  const mailRoot = join(dir, 'mail');
  for (const d of ['run', 'state', 'mail']) mkdirSync(join(dir, d), { mode: 0o755 });
  const lines: string[] = [];
  for (let i = 1; i <= o.users; i++) {
    const u = userName(i);
    lines.push(`${u}:{PLAIN}${PASSWORD}:${MAIL_UID}:${MAIL_GID}::${mailRoot}/${u}::`);
  }
  writeFileSync(join(dir, 'users'), lines.join('\n') + '\n', { mode: 0o644 });
  await o.prepare?.(mailRoot);
  chownTree(mailRoot);
  const imapPort = await freePort();
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, dovecotConf(dir, imapPort, o.mailProcesses));
  const lmtpSocket = join(dir, 'run', 'bench-lmtp');
  const log = (): string => {
    const f = join(dir, 'dovecot.log');
    const so = join(dir, 'stdout.log');
    return (existsSync(f) ? readFileSync(f, 'utf8') : '') + (existsSync(so) ? readFileSync(so, 'utf8') : '');
  };
  const launch = async (): Promise<{ pid: number; end: () => Promise<void> }> => {
    const out = openSync(join(dir, 'stdout.log'), 'a');
    const child: ChildProcess =
      side === 'reference'
        ? spawn('/usr/sbin/dovecot', ['-F', '-c', conf], { stdio: ['ignore', out, out] })
        : spawn(process.execPath, [...ourNodeArgs(), OUR_MDA, '-c', conf], { stdio: ['ignore', out, out], env: daemonEnv(process.env) });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const deadline = Date.now() + 30_000;
    while (!(existsSync(lmtpSocket) && (await connectable(imapPort)))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${side} MDA did not start:\n${log().slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // Serving is not the end of the start: since the fifteenth session our session shards start with
    // the daemon (mda/worker/pool.ts startShards), about a second of CPU for Node's start-up here while
    // the master already accepts. Both sides are measured started, as a server that runs for days is:
    // each peer's start ends when the machine is quiet again (Dovecot's start is quiet at once; its
    // lmtp and imap processes, forked on demand, stay inside the figures, as do our sessions).
    await settleMachine();
    const pid = child.pid ?? 0;
    return {
      pid,
      async end() {
        const tree = processTree(pid).map((p) => ({ pid: p, start: startTime(p) }));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        // Children that outlived the master go too: only the very processes seen in its tree
        // (same pid and same start time), never a reused pid.
        for (const p of tree) killIfSame(p.pid, p.start);
      },
    };
  };
  let running = await launch();
  let stopped = false;
  return {
    side,
    dir,
    mailRoot,
    lmtpSocket,
    imapPort,
    get pid() { return running.pid; },
    conf,
    maildir: (user) => join(mailRoot, user, 'Maildir'),
    log,
    async restart() {
      await running.end();
      running = await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.end();
      removeLater(dir);
    },
  };
}

export function chownForMail(path: string): void {
  chownTree(path);
}

export function chownOne(path: string): void {
  if (process.getuid?.() === 0) chownSync(path, MAIL_UID, MAIL_GID);
}
