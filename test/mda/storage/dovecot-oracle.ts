/*
 * A throw-away Dovecot 2.3 for the storage interop tests: a private dovecot.conf in a temp dir
 * (base_dir, state_dir, logs inside it; /etc/dovecot never read, no daemon started) and helpers to
 * run `doveadm` and `dovecot-lda` as the mail user. The user comes from USER/HOME in the
 * environment (doveadm without -u, dovecot-lda without -d), so no auth service is needed.
 * Dovecot refuses mail access as root: as root the tree is handed to uid/gid 65534 before each run.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import { run, type RunResult } from '../../helpers/oracle.js';
import { tempDir } from '../../helpers/tmp.js';

export interface Dovecot {
  readonly dir: string;
  readonly conf: string;
  readonly user: string;
  /** The user's maildir root (mail_location). */
  readonly root: string;
  readonly mailLocation: string;
  doveadm(args: string[], input?: string): RunResult;
  lda(input: string): RunResult;
  /** `doveadm -f tab` output as rows of column -> value. */
  table(args: string[]): Record<string, string>[];
}

function chownTree(p: string, uid: number, gid: number): void {
  chownSync(p, uid, gid);
  if (lstatSync(p).isDirectory()) for (const e of readdirSync(p)) chownTree(join(p, e), uid, gid);
}

export function createDovecot(t: TestContext, user = 'alice'): Dovecot {
  const dir = tempDir(t, 'postern-dovecot-storage-');
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? 65534 : process.getuid!();
  const gid = asRoot ? 65534 : process.getgid!();
  const home = join(dir, 'home', user);
  const mail = join(dir, 'mail');
  for (const d of ['run', 'state', 'log', home, mail]) mkdirSync(d.startsWith('/') ? d : join(dir, d), { recursive: true });
  const conf = join(dir, 'dovecot.conf');
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, `${user}:{PLAIN}x:${uid}:${gid}::${home}::\n`);
  writeFileSync(conf, [
    `base_dir = ${dir}/run`, `state_dir = ${dir}/state`, `log_path = ${dir}/log/dovecot.log`, 'ssl = no',
    `first_valid_uid = ${Math.min(uid, 500)}`, `first_valid_gid = ${Math.min(gid, 500)}`,
    `mail_uid = ${uid}`, `mail_gid = ${gid}`, `mail_location = maildir:${mail}/%u`,
    `passdb {\n  driver = passwd-file\n  args = ${passwd}\n}`, `userdb {\n  driver = passwd-file\n  args = ${passwd}\n}`,
    'namespace inbox {\n  inbox = yes\n  separator = .\n}', '',
  ].join('\n'));
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', USER: user, HOME: home };
  if (asRoot) {
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'home'), 0o755);
  }
  const prepare = (): void => {
    if (asRoot) {
      chownTree(join(dir, 'home'), uid, gid);
      chownTree(mail, uid, gid);
      chownTree(join(dir, 'log'), uid, gid);
    }
  };
  const doveadm = (args: string[], input?: string): RunResult => {
    prepare();
    return run('/usr/bin/doveadm', ['-c', conf, ...args], { input, env });
  };
  return {
    dir, conf, user, root: join(mail, user), mailLocation: `maildir:${join(mail, user)}`,
    doveadm,
    lda(input) {
      prepare();
      // As root, dovecot-lda insists on -d (a userdb lookup through the auth service), so it runs
      // as the mail user instead and takes USER/HOME from the environment.
      const r = spawnSync('/usr/lib/dovecot/dovecot-lda', ['-c', conf, '-f', 'sender@example.org'],
        { input, env, encoding: 'utf8', timeout: 60_000, ...(asRoot ? { uid, gid } : {}) });
      if (r.error) throw r.error;
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    table(args) {
      const r = doveadm(['-f', 'tab', ...args]);
      if (r.status !== 0) throw new Error(`doveadm ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      const head = lines[0]?.split('\t') ?? [];
      return lines.slice(1).map((l) => Object.fromEntries(l.split('\t').map((v, i) => [head[i]!, v])));
    },
  };
}
