/*
 * `make run`: prepares the demo under var/demo (configuration from conf/demo with paths filled in,
 * a self-signed certificate, the demo domain and user) and runs both daemons in the foreground on
 * unprivileged loopback ports. Ctrl-C stops them cleanly (SIGTERM to each, then wait).
 *
 * It starts the daemons as separate processes through bin/, exactly as an administrator would, so
 * the MTA and MDA stay independent. A daemon that is not built yet is reported, not faked.
 *
 * Mail is never written as root: run by a normal user, the demo's mail uid/gid (@UID@/@GID@) are that
 * user's; run by root (CI machines), they are nobody's (65534), and var/demo/mail and the users file
 * are given to that uid, because the MDA binds as root and then drops to mail_uid for good (it must
 * still read the passwd-file afterwards). The demo user's password is stored as a SHA512-CRYPT hash
 * made by `bin/doveadm pw` (the MDA's own scheme code; shared/ may not import mda/).
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userInfo } from 'node:os';
import { makeSelfSigned } from '../tls/selfsigned.js';

const top = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const varDir = join(top, 'var', 'demo');
/** An unprivileged uid/gid for the mail when the demo runs as root: nobody/nogroup on Debian. */
const NOBODY = 65534;
const asRoot = (process.getuid?.() ?? 0) === 0;
const uid = asRoot ? NOBODY : process.getuid?.() ?? 0;
const gid = asRoot ? NOBODY : process.getgid?.() ?? 0;
/** The MTA's mail_owner: nobody as root, else the invoking user (it must exist in /etc/passwd). */
const mtaUser = asRoot ? 'nobody' : userInfo().username;

interface Daemon {
  name: string;
  args: string[];
  /** False until the daemon exists; `make run` then says so instead of starting a stub. */
  built: boolean;
}

function fill(template: string): string {
  return template.replaceAll('@VAR@', varDir).replaceAll('@UID@', String(uid)).replaceAll('@GID@', String(gid)).replaceAll('@MTA_USER@', mtaUser);
}

function install(src: string, dst: string): void {
  writeFileSync(dst, fill(readFileSync(join(top, 'conf', 'demo', src), 'utf8')));
}

/** Gives a tree to the mail uid (root only; a normal user already owns what it created). */
function giveToMailUser(path: string): void {
  if (!asRoot) return;
  chownSync(path, uid, gid);
  if (!statSync(path).isDirectory()) return;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.isDirectory()) giveToMailUser(join(path, e.name));
    else chownSync(join(path, e.name), uid, gid);
  }
}

/** `{SHA512-CRYPT}$6$…` for the password, from the MDA's own doveadm. */
function hashPassword(password: string): string {
  const r = spawnSync(join(top, 'bin', 'doveadm'), ['pw', '-s', 'SHA512-CRYPT', '-p', password], { encoding: 'utf8' });
  const hash = r.stdout.trim();
  if (r.status !== 0 || !hash.startsWith('{SHA512-CRYPT}$6$')) throw new Error(`doveadm pw failed: ${r.stderr}`);
  return hash;
}

function prepare(): { user: string; password: string } {
  for (const d of ['postfix', 'dovecot', 'spool', 'lib', 'lib/dovecot', 'mail', 'run', 'run/dovecot', 'tls']) {
    mkdirSync(join(varDir, d), { recursive: true });
  }
  chmodSync(join(varDir, 'tls'), 0o700);
  install('main.cf', join(varDir, 'postfix', 'main.cf'));
  install('master.cf', join(varDir, 'postfix', 'master.cf'));
  install('dovecot.conf', join(varDir, 'dovecot', 'dovecot.conf'));

  const key = join(varDir, 'tls', 'key.pem');
  const cert = join(varDir, 'tls', 'cert.pem');
  if (!existsSync(key) || !existsSync(cert)) {
    const pair = makeSelfSigned({ commonName: 'mail.demo.test', altNames: ['localhost', '127.0.0.1'] });
    writeFileSync(key, pair.keyPem, { mode: 0o600 });
    writeFileSync(cert, pair.certPem);
  }

  const user = 'demo@demo.test';
  const pwFile = join(varDir, 'demo-password');
  let password: string;
  if (existsSync(pwFile)) {
    password = readFileSync(pwFile, 'utf8').trim();
  } else {
    password = randomBytes(9).toString('base64url');
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  }
  const users = join(varDir, 'dovecot', 'users');
  writeFileSync(users, `${user}:${hashPassword(password)}::::::\n`, { mode: 0o600 });
  chmodSync(users, 0o600);
  giveToMailUser(users);
  giveToMailUser(join(varDir, 'mail'));
  writeFileSync(join(varDir, 'postfix', 'vmailbox'), `${user} demo.test/demo/\n`);
  return { user, password };
}

function showConfig(tool: string, args: string[]): void {
  const r = spawnSync(join(top, 'bin', tool), args, { encoding: 'utf8' });
  process.stdout.write(`\n$ bin/${tool} ${args.join(' ')}\n${r.stdout}${r.stderr}`);
}

const { user, password } = prepare();
const postfixDir = join(varDir, 'postfix');
const dovecotConf = join(varDir, 'dovecot', 'dovecot.conf');
const daemons: Daemon[] = [
  { name: 'postern-mda', args: ['-c', dovecotConf], built: true },
  { name: 'postern-mta', args: ['-c', postfixDir], built: true },
];

process.stdout.write(
  `Postern demo in ${varDir}\n` +
    `  user ${user}  password ${password}\n` +
    '  SMTP 127.0.0.1:2525, submission 2587 (STARTTLS), submissions 2465; IMAP 1143, IMAPS 1993; POP3 1110, POP3S 1995\n' +
    `  LMTP ${join(varDir, 'run', 'lmtp')}; auth ${join(varDir, 'run', 'auth-client')}; mail as uid ${uid}\n`,
);

const built = daemons.filter((d) => d.built);
for (const d of daemons.filter((x) => !x.built)) {
  process.stdout.write(`  ${d.name}: not built yet in this version of Postern; not started\n`);
}
if (built.length === 0) {
  process.stdout.write('\nNo daemon to run yet. The demo configuration parses with the tools that exist:\n');
  showConfig('postconf', ['-c', postfixDir, '-n']);
  showConfig('doveconf', ['-c', dovecotConf, '-n']);
  process.exit(0);
}

const children: ChildProcess[] = built.map((d) =>
  spawn(join(top, 'bin', d.name), d.args, { stdio: 'inherit' }).on('exit', (code, signal) => {
    process.stdout.write(`${d.name} exited (${signal ?? code})\n`);
    stop();
  }),
);
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
