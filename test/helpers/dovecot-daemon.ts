/*
 * A private real Dovecot 2.3 daemon for interop tests: `dovecot -c CONF` with base_dir, state_dir and
 * log_path inside a temp dir, stopped (and waited for) in cleanup. The caller supplies the service and
 * auth parts of the configuration; /etc/dovecot and the system instance are never touched.
 * Needs root (Dovecot's master drops to dovecot/dovenull); callers skip with oracleSkip('dovecot').
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, openSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './free-port.js';

export const DOVECOT = '/usr/sbin/dovecot';

export interface DovecotDaemon {
  readonly dir: string;
  readonly conf: string;
  log(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts Dovecot with `body` (dovecot.conf text; `@DIR@` is replaced by the temp dir) after a
 * preamble that keeps all state in the temp dir. Resolves when every path in `waitFor` exists.
 */
export async function startDovecot(t: TestContext, body: string, waitFor: string[] = []): Promise<DovecotDaemon> {
  // Not tempDir(): the directory must outlive the daemon, so one hook stops it and then removes it.
  const dir = mkdtempSync(join(tmpdir(), 'postern-dovecotd-'));
  chmodSync(dir, 0o755);
  for (const d of ['run', 'state']) mkdirSync(join(dir, d));
  const conf = join(dir, 'dovecot.conf');
  const text = `base_dir = ${dir}/run\nstate_dir = ${dir}/state\nlog_path = ${dir}/dovecot.log\nssl = no\n${body.replaceAll('@DIR@', dir)}\n`;
  writeFileSync(conf, text);
  const pidFile = join(dir, 'run', 'master.pid');
  let masterPid = 0;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (masterPid === 0 && existsSync(pidFile)) masterPid = Number(readFileSync(pidFile, 'utf8').trim());
    if (masterPid > 0) {
      try {
        process.kill(masterPid, 'SIGTERM');
        for (let i = 0; i < 200; i++) {
          process.kill(masterPid, 0);
          await sleep(50);
        }
      } catch {
        // gone
      }
    }
  };
  t.after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  // The daemon inherits its stdout/stderr: give it a file, or spawnSync would wait on the pipes.
  const outFile = join(dir, 'start.out');
  const out = openSync(outFile, 'w');
  const r = spawnSync(DOVECOT, ['-c', conf], { stdio: ['ignore', out, out], timeout: 30_000 });
  closeSync(out);
  if (r.status !== 0) throw new Error(`dovecot -c ${conf} failed (${r.status}): ${readFileSync(outFile, 'utf8')}`);
  const paths = waitFor.map((p) => p.replaceAll('@DIR@', dir));
  for (let i = 0; i < 200 && !(existsSync(pidFile) && paths.every((p) => existsSync(p))); i++) await sleep(50);
  if (existsSync(pidFile)) masterPid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!paths.every((p) => existsSync(p))) throw new Error(`dovecot did not create ${paths.join(', ')}`);
  return {
    dir,
    conf,
    log: () => (existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8') : ''),
    stop,
  };
}

/**
 * A private Dovecot serving IMAP on a free loopback port (imaps off), mail as uid 65534 in
 * `~/Maildir`, and one passwd-file user u1, password `secret`, home `<dir>/home/u1`. `settings` are
 * added to the configuration (e.g. `disable_plaintext_auth = no`, `imap_capability = …`).
 */
export async function startImapDovecot(t: TestContext, settings: readonly string[] = []): Promise<DovecotDaemon & { readonly port: number }> {
  const port = await freePort();
  const d = await startDovecot(t, [
    'protocols = imap',
    'listen = 127.0.0.1',
    'first_valid_uid = 100',
    'mail_uid = 65534',
    'mail_gid = 65534',
    'mail_location = maildir:~/Maildir',
    ...settings,
    'passdb {\n  driver = passwd-file\n  args = @DIR@/passwd\n}',
    'userdb {\n  driver = passwd-file\n  args = @DIR@/passwd\n}',
    `service imap-login {\n  inet_listener imap {\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
  ].join('\n'), ['@DIR@/run/anvil']);
  mkdirSync(join(d.dir, 'home', 'u1'), { recursive: true });
  chownSync(join(d.dir, 'home', 'u1'), 65534, 65534);
  writeFileSync(join(d.dir, 'passwd'), `u1:{PLAIN}secret:65534:65534::${d.dir}/home/u1::\n`);
  return { ...d, port };
}
