/*
 * Diagnostic: what a login costs when its mail worker must be started, is a spare, or is running.
 * One `postern-mda` with a 2 s postern_mail_worker_idle_timeout, three users, IMAP LOGIN + SELECT +
 * LOGOUT in this order: the first login after the start; the same user again; another user; the
 * first user again after 5 s without work (a per-uid worker has been retired by then; a session shard
 * is kept); another user after the same quiet spell. Prints LOGIN and SELECT latency of each.
 *   per-uid: root without mail_uid, users with their own uids (5101-5103): one worker per uid, with
 *            `spares` spare workers (postern_mail_worker_spares); needs root.
 *   shards:  mail_uid (65534 as root, else the caller's uid) and postern_mail_processes = 2.
 * Not part of `make bench`; single runs vary, so run it more than once.
 *
 *   node dist/bench/diag/worker-start.js [per-uid|shards] [spares=1]
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../shared/daemon-flags.js';
import { ImapClient } from '../imap-client.js';
import { benchDir } from '../mda-peers.js';
import { removeLater, removeScratch } from '../scratch.js';
import { freePort } from '../../test/helpers/free-port.js';

const mode = process.argv[2] === 'shards' ? 'shards' : 'per-uid';
const spares = Number(process.argv[3] ?? 1);
const ROOT = process.getuid?.() === 0;
if (mode === 'per-uid' && !ROOT) {
  console.error('worker-start: per-uid workers need root (setuid)');
  process.exit(2);
}
const DAEMON = fileURLToPath(new URL('../../mda/cli/postern-mda.js', import.meta.url));
const USERS: [string, number][] = [['alice', 5101], ['bob', 5102], ['carol', 5103]];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const dir = benchDir('postern-worker-start-');
removeLater(dir);
chmodSync(dir, 0o755);
const mailUid = ROOT ? 65534 : (process.getuid?.() ?? 1000);
for (const [name, uid] of USERS) {
  const home = join(dir, 'home', name);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (ROOT) chownSync(home, mode === 'per-uid' ? uid : mailUid, mode === 'per-uid' ? uid : mailUid);
}
if (ROOT) chmodSync(join(dir, 'home'), 0o755);
const usersFile = join(dir, 'users');
writeFileSync(usersFile, USERS.map(([n, uid]) => `${n}:{PLAIN}pw:${mode === 'per-uid' ? `${uid}:${uid}` : ':'}::${dir}/home/${n}::`).join('\n') + '\n', { mode: 0o644 });
const port = await freePort();
const conf = join(dir, 'dovecot.conf');
writeFileSync(conf, `base_dir = ${dir}/run
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
mail_location = maildir:~/Maildir
first_valid_uid = 500
disable_plaintext_auth = no
${mode === 'shards' ? `mail_uid = ${mailUid}\nmail_gid = ${mailUid}\n` : ''}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n ${usersFile}
}
userdb {
  driver = passwd-file
  args = username_format=%n ${usersFile}
}
service imap-login {
  inet_listener imap {
    port = ${port}
  }
}
plugin {
  postern_mail_worker_idle_timeout = 2 secs
  postern_mail_worker_spares = ${spares}
  postern_mail_processes = ${mode === 'shards' ? 2 : 1}
}
`);
const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, DAEMON, '-c', conf], { stdio: 'inherit' });

async function login(label: string, user: string): Promise<void> {
  const c = await ImapClient.open(port);
  const a = await c.run(`LOGIN ${user} pw`);
  if (!a.ok) throw new Error(`LOGIN ${user}: ${a.status}`);
  const b = await c.run('SELECT INBOX');
  await c.run('LOGOUT');
  console.log(`${mode} spares=${spares} ${label.padEnd(28)} ${user.padEnd(6)} LOGIN ${a.ms.toFixed(1).padStart(6)} ms  SELECT ${b.ms.toFixed(1).padStart(5)} ms`);
}

try {
  for (let i = 0; ; i++) {
    try {
      (await ImapClient.open(port)).close();
      break;
    } catch (err) {
      if (i > 100) throw err;
      await sleep(100);
    }
  }
  await login('first after the start', 'alice');
  await login('same user again', 'alice');
  await sleep(1000);
  await login('another user', 'bob');
  await sleep(5000);
  await login('after 5 s without work', 'alice');
  await sleep(5000);
  await login('another, after 5 s', 'carol');
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  removeScratch();
}
