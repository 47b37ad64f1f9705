/*
 * Debian's stock layout with system users (passdb shadow, userdb passwd, mail in ~/Maildir), as
 * an administrator who replaces Dovecot would run it: `postern-mda` as root without mail_uid.
 * A real system user is created with useradd and a password set with chpasswd (yescrypt, the
 * Debian default), then: LMTP delivery lands in ~/Maildir owned by the user; IMAP and POP3 log in
 * with the shadow password and read it, served by a worker running as the user; once a worker is
 * in use, one spare (postern_mail_worker_spares, default 1) waits as root with no uid; after
 * postern_mail_worker_idle_timeout without work the worker is retired, and the next login is served
 * by the former spare, now the user's, while a new spare starts. Needs root (useradd, /etc/shadow,
 * setuid); outside root it is skipped, saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../helpers/free-port.js';
import { LineClient } from '../../helpers/line-client.js';
import { makeTraversable } from '../../helpers/postfix-instance.js';
import { tempDir } from '../../helpers/tmp.js';
import { runMdaConfig } from '../lmtp/mda-daemon.js';
const ROOT = process.getuid?.() === 0;
const HAVE_USERADD = ['/usr/sbin/useradd', '/sbin/useradd'].some((p) => existsSync(p));
const SKIP = !ROOT ? 'system users need root (useradd, /etc/shadow, setuid); CI runs the suite as root'
  : !HAVE_USERADD ? 'useradd is missing (package passwd)' : false;

/** The master's children running as root: the spare workers. */
function sparesOf(masterPid: number): number[] {
  return workersOf(masterPid, 0);
}

/** The master's children running as `uid` (the user's mail worker). */
function workersOf(masterPid: number, uid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(masterPid), '-u', String(uid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

test('system users: shadow passdb + passwd userdb + ~/Maildir, served by the user\'s own uid', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, 'postern-sysusers-');
  makeTraversable(dir);
  const user = `pstn${process.pid % 100000}`;
  const home = join(dir, 'home', user);
  execFileSync('useradd', ['-m', '-d', home, '-s', '/usr/sbin/nologin', user]);
  t.after(() => {
    try {
      execFileSync('userdel', ['-r', '-f', user], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  });
  execFileSync('chpasswd', [], { input: `${user}:sys-secret\n` });
  assert.match(readFileSync('/etc/shadow', 'utf8'), new RegExp(`^${user}:\\$y\\$`, 'm'), 'Debian hashes with yescrypt');
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const [imap, pop3] = [await freePort(), await freePort()];
  const lmtp = join(dir, 'run', 'lmtp');
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, `base_dir = ${dir}/run
log_path = ${dir}/dovecot.log
protocols = lmtp imap pop3
listen = 127.0.0.1
ssl = no
mail_location = maildir:~/Maildir
auth_username_format = %Ln
disable_plaintext_auth = no
passdb {
  driver = shadow
}
userdb {
  driver = passwd
}
service lmtp {
  unix_listener ${lmtp} {
    mode = 0666
  }
}
service imap-login {
  inet_listener imap {
    port = ${imap}
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${pop3}
  }
}
plugin {
  postern_mail_worker_idle_timeout = 1 sec
}
`);
  const { child } = await runMdaConfig(t, conf, join(dir, 'dovecot.log'));
  const master = child.pid!;

  // LMTP, as Postfix delivers to a local domain.
  const l = await LineClient.open(lmtp);
  await l.line();
  l.send('LHLO mx.test\r\n');
  await l.until('250 ');
  l.send('MAIL FROM:<someone@example.org>\r\n');
  assert.match(await l.line(), /^250 /);
  l.send(`RCPT TO:<${user}@localhost>\r\n`);
  assert.match(await l.line(), /^250 2\.1\.5 /);
  l.send('DATA\r\n');
  assert.match(await l.line(), /^354 /);
  l.send('Subject: to a system user\r\n\r\nhello system user\r\n.\r\n');
  assert.match(await l.line(), new RegExp(`^250 2\\.0\\.0 <${user}@localhost> .* Saved$`));
  l.close();
  const newDir = join(home, 'Maildir', 'new');
  const files = readdirSync(newDir);
  assert.equal(files.length, 1);
  assert.equal(statSync(join(newDir, files[0]!)).uid, uid, 'the message belongs to the user');
  assert.equal(statSync(join(home, 'Maildir', 'dovecot-uidlist')).uid, uid);

  // IMAP with the shadow password; the worker runs as the user.
  const i = await LineClient.open(imap);
  await i.line();
  i.send(`a LOGIN ${user} sys-secret\r\nb SELECT INBOX\r\nc FETCH 1 BODY[TEXT]\r\n`);
  assert.match((await i.until('a ')).at(-1)!, /^a OK \[CAPABILITY .*\] Logged in$/);
  assert.ok((await i.until('b ')).includes('* 1 EXISTS'));
  assert.ok((await i.until('c ')).join('\n').includes('hello system user'));
  const workers = workersOf(master, uid);
  assert.equal(workers.length, 1, 'one worker for the uid');
  // The spare is forked after the first assignment; give it a moment to appear.
  const spareBy = Date.now() + 10_000;
  while (sparesOf(master).length === 0 && Date.now() < spareBy) await new Promise((r) => setTimeout(r, 100));
  const spares = sparesOf(master);
  assert.equal(spares.length, 1, 'one spare worker, still root and unassigned');
  i.send('d LOGOUT\r\n');
  await i.until('d ');
  i.close();

  // A wrong password is refused by the login side.
  const bad = await LineClient.open(imap);
  await bad.line();
  bad.send(`a LOGIN ${user} wrong\r\n`);
  assert.equal((await bad.until('a ')).at(-1), 'a NO [AUTHENTICATIONFAILED] Authentication failed.');
  bad.close();

  // Idle for longer than postern_mail_worker_idle_timeout: the worker is retired.
  const retiredBy = Date.now() + 15_000;
  while (workersOf(master, uid).length > 0 && Date.now() < retiredBy) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(workersOf(master, uid), [], 'the idle worker was retired');

  // POP3 gets a worker at once: the spare, assigned to the uid.
  const p = await LineClient.open(pop3);
  assert.match(await p.line(), /^\+OK /);
  p.send(`USER ${user}\r\nPASS sys-secret\r\nLIST\r\n`);
  assert.match(await p.line(), /^\+OK/);
  assert.equal(await p.line(), '+OK Logged in.');
  assert.match(await p.line(), /^\+OK 1 messages:/);
  const fresh = workersOf(master, uid);
  assert.deepEqual(fresh, spares, 'the spare took the uid');
  assert.notEqual(fresh[0], workers[0]);
  const nextBy = Date.now() + 10_000;
  while (sparesOf(master).length === 0 && Date.now() < nextBy) await new Promise((r) => setTimeout(r, 100));
  assert.equal(sparesOf(master).length, 1, 'a new spare replaced it');
  assert.notEqual(sparesOf(master)[0], spares[0]);
  p.send('QUIT\r\n');
  p.close();
});
