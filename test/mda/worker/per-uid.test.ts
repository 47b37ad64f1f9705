/*
 * System users with their own uids (issue 3 item 6): the MDA daemon started as root WITHOUT
 * mail_uid keeps root in the master and serves each uid's mail from a worker process running as
 * that uid (mda/worker/). Checked over real sockets against `postern-mda -c CONF` as a child:
 *  - one LMTP transaction for two users with different uids: both 250, each message file owned by
 *    its user's uid and written by a process that is not root; nothing under the homes is root's;
 *  - IMAP over plaintext (the socket is passed to the worker) with commands pipelined behind
 *    LOGIN, IMAP over implicit TLS (the master pipes the plaintext), POP3: each reads its user's mail;
 *  - the login line names the worker as mpid, `doveadm who` lists the session with that pid, and
 *    `doveadm kick` ends it;
 *  - a uid below first_valid_uid is refused at RCPT (451) and at IMAP login, with Dovecot's text;
 *  - a worker killed with SIGKILL loses nothing acknowledged: the next delivery starts a new one.
 * Needs root (setuid); outside root it is skipped, saying so. CI runs as root.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSelfSigned } from '../../../shared/tls/selfsigned.js';
import { freePort, retryOnAddrInUse } from '../../helpers/free-port.js';
import { LineClient } from '../../helpers/line-client.js';
import { makeTraversable } from '../../helpers/postfix-instance.js';
import { tempDir } from '../../helpers/tmp.js';
import { runMdaConfig } from '../lmtp/mda-daemon.js';

const DOVEADM = fileURLToPath(new URL('../../../mda/cli/doveadm.js', import.meta.url));
const ROOT = process.getuid?.() === 0;
const SKIP = ROOT ? false : 'per-uid mail workers need root (setuid); CI runs the suite as root';

interface Setup {
  dir: string;
  lmtp: string;
  imap: number;
  imaps: number;
  pop3: number;
  child: ChildProcess;
  log(): string;
}

const USERS = [
  { name: 'alice', uid: 5101, gid: 5101 },
  { name: 'bob', uid: 5102, gid: 5102 },
  // Below first_valid_uid (500): refused.
  { name: 'daemonish', uid: 2, gid: 2 },
];

async function startOnce(t: TestContext): Promise<Setup> {
  const dir = tempDir(t, 'postern-peruid-');
  makeTraversable(dir);
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o755 });
  for (const u of USERS) {
    mkdirSync(join(home, u.name), { mode: 0o700 });
    chownSync(join(home, u.name), u.uid, u.gid);
  }
  const users = join(dir, 'users');
  writeFileSync(users, USERS.map((u) => `${u.name}:{PLAIN}pw-${u.name}:${u.uid}:${u.gid}::${home}/${u.name}::`).join('\n') + '\n', { mode: 0o600 });
  const cert = makeSelfSigned({ commonName: 'mail.test.example', bits: 1024 });
  writeFileSync(join(dir, 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  const [imap, imaps, pop3] = [await freePort(), await freePort(), await freePort()];
  const lmtp = join(dir, 'run', 'lmtp');
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, `base_dir = ${dir}/run
log_path = ${dir}/dovecot.log
protocols = lmtp imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
hostname = mail.test.example
mail_location = maildir:~/Maildir
first_valid_uid = 500
auth_mechanisms = plain login
disable_plaintext_auth = no
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n ${users}
}
userdb {
  driver = passwd-file
  args = username_format=%n ${users}
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
  inet_listener imaps {
    port = ${imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${pop3}
  }
  # ssl = yes would also listen on Dovecot's default pop3s port, 995, which tests running at the same time share.
  inet_listener pop3s {
    port = 0
  }
}
`);
  const { child, log } = await runMdaConfig(t, conf, join(dir, 'dovecot.log'));
  return { dir, lmtp, imap, imaps, pop3, child, log };
}

const start = (t: TestContext): Promise<Setup> => retryOnAddrInUse(() => startOnce(t));

async function lmtpDeliver(s: Setup, rcpts: string[], body: string): Promise<string[]> {
  const c = await LineClient.open(s.lmtp);
  await c.line();
  c.send('LHLO test\r\n');
  await c.until('250 ');
  c.send('MAIL FROM:<sender@example.org>\r\n');
  assert.match(await c.line(), /^250 /);
  const rcptReplies: string[] = [];
  for (const r of rcpts) {
    c.send(`RCPT TO:<${r}>\r\n`);
    rcptReplies.push(await c.line());
  }
  const accepted = rcptReplies.filter((l) => l.startsWith('250')).length;
  const out = [...rcptReplies];
  if (accepted > 0) {
    c.send('DATA\r\n');
    assert.match(await c.line(), /^354 /);
    c.send(`${body.replace(/\n/g, '\r\n')}\r\n.\r\n`);
    for (let i = 0; i < accepted; i++) out.push(await c.line());
  }
  c.send('QUIT\r\n');
  c.close();
  return out;
}

/** Every file under `dir`, with its owner. */
function owners(dir: string): { path: string; uid: number }[] {
  const out: { path: string; uid: number }[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push({ path: p, uid: statSync(p).uid });
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function newFiles(s: Setup, user: string): string[] {
  const d = join(s.dir, 'home', user, 'Maildir', 'new');
  return existsSync(d) ? readdirSync(d) : [];
}

test('per-uid workers: LMTP, IMAP (plain and TLS), POP3 and doveadm who as each user\'s uid', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const s = await start(t);

  // One transaction, two uids, plus one refused uid.
  const replies = await lmtpDeliver(s, ['alice@test.example', 'bob@test.example', 'daemonish@test.example'],
    'From: sender@example.org\nSubject: per-uid\nMessage-ID: <peruid-1@test>\n\nfor alice and bob\n');
  assert.match(replies[0]!, /^250 2\.1\.5 /);
  assert.match(replies[1]!, /^250 2\.1\.5 /);
  assert.equal(replies[2], '451 4.3.0 <daemonish@test.example> Temporary internal error');
  assert.match(replies[3]!, /^250 2\.0\.0 <alice@test\.example> .* Saved$/);
  assert.match(replies[4]!, /^250 2\.0\.0 <bob@test\.example> .* Saved$/);
  assert.match(s.log(), /Mail access for users with UID 2 not permitted \(see first_valid_uid in config file, uid from userdb lookup\)\./);

  for (const u of USERS.slice(0, 2)) {
    assert.equal(newFiles(s, u.name).length, 1, `${u.name} has the message`);
    const files = owners(join(s.dir, 'home', u.name));
    assert.ok(files.length > 3);
    for (const f of files) assert.equal(f.uid, u.uid, `${f.path} belongs to ${u.name}`);
  }

  // IMAP, plaintext: LOGIN with SELECT and FETCH pipelined behind it in one write.
  const imap = await LineClient.open(s.imap);
  await imap.line();
  imap.send('a LOGIN alice pw-alice\r\nb SELECT INBOX\r\nc FETCH 1 (BODY[TEXT])\r\n');
  const login = await imap.until('a ');
  assert.match(login.at(-1)!, /^a OK \[CAPABILITY IMAP4rev1 .*\] Logged in$/);
  const sel = await imap.until('b ');
  assert.ok(sel.includes('* 1 EXISTS'), sel.join('\n'));
  const fetch = await imap.until('c ');
  assert.ok(fetch.join('\n').includes('for alice and bob'), fetch.join('\n'));
  assert.match(fetch.at(-1)!, /^c OK Fetch completed/);

  // The login line names the worker's pid as mpid; doveadm who lists the session with it.
  const m = /imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=([0-9]+)/.exec(s.log());
  assert.ok(m, s.log());
  const mpid = Number(m[1]);
  assert.notEqual(mpid, s.child.pid);
  const workerUid = Number(/^Uid:\s+([0-9]+)/m.exec(readFileSync(`/proc/${mpid}/status`, 'utf8'))![1]);
  assert.equal(workerUid, 5101, 'the worker runs as alice\'s uid');
  const who = execFileSync(process.execPath, [DOVEADM, '-c', join(s.dir, 'dovecot.conf'), 'who', '-1'], { encoding: 'utf8' });
  assert.match(who, new RegExp(`^alice\\s+imap\\s+${mpid}\\s+127\.0\.0\.1`, "m"));

  // IMAP over implicit TLS: the master keeps TLS and pipes the plaintext to bob's worker.
  const imaps = await LineClient.open(s.imaps, { tls: true });
  await imaps.line();
  imaps.send('a LOGIN bob pw-bob\r\n');
  assert.match((await imaps.until('a ')).at(-1)!, /^a OK \[CAPABILITY .*\] Logged in$/);
  imaps.send('b SELECT INBOX\r\n');
  assert.ok((await imaps.until('b ')).includes('* 1 EXISTS'));
  imaps.send('c STORE 1 +FLAGS (\\Flagged)\r\n');
  assert.match((await imaps.until('c ')).at(-1)!, /^c OK Store completed/);
  imaps.send('d LOGOUT\r\n');
  assert.match((await imaps.until('d ')).at(-1)!, /^d OK Logout completed/);
  imaps.close();

  // Several TLS logins at once to the same worker: each connection's pair end is handed over
  // (Node queues a handle sent before the worker acknowledged the previous one).
  const many = await Promise.all([0, 1, 2, 3].map(() => LineClient.open(s.imaps, { tls: true })));
  await Promise.all(many.map((c) => c.line()));
  for (const [i, c] of many.entries()) c.send(`m${i} LOGIN bob pw-bob\r\nn${i} SELECT INBOX\r\n`);
  for (const [i, c] of many.entries()) {
    assert.match((await c.until(`m${i} `)).at(-1)!, /Logged in$/);
    assert.ok((await c.until(`n${i} `)).includes('* 1 EXISTS'));
    c.close();
  }

  // POP3 for alice (her worker already serves the IMAP session above).
  const pop = await LineClient.open(s.pop3);
  assert.match(await pop.line(), /^\+OK /);
  pop.send('USER alice\r\n');
  assert.match(await pop.line(), /^\+OK/);
  pop.send('PASS pw-alice\r\nSTAT\r\n');
  assert.equal(await pop.line(), '+OK Logged in.');
  assert.match(await pop.line(), /^\+OK 1 [0-9]+$/);
  pop.send('QUIT\r\n');
  assert.match(await pop.line(), /^\+OK Logging out/);
  pop.close();

  // A uid the daemon may not use: refused at login, the session stays with the login side.
  const bad = await LineClient.open(s.imap);
  await bad.line();
  bad.send('a LOGIN daemonish pw-daemonish\r\n');
  assert.match((await bad.until('a ')).at(-1)!, /^a NO /);
  bad.close();

  // doveadm kick reaches the session in alice's worker through the master.
  execFileSync(process.execPath, [DOVEADM, '-c', join(s.dir, 'dovecot.conf'), 'kick', 'alice'], { encoding: 'utf8' });
  assert.equal(await imap.line(), '* BYE Server shutting down.');
  imap.close();

  // The flag bob set through his worker is on disk as bob's file name.
  const bobCur = readdirSync(join(s.dir, 'home', 'bob', 'Maildir', 'cur'));
  assert.equal(bobCur.length, 1);
  assert.match(bobCur[0]!, /:2,F$/);
  for (const f of owners(join(s.dir, 'home'))) assert.notEqual(f.uid, 0, `${f.path} is not root's`);
});

test('per-uid workers: a worker killed mid-life loses nothing; the next delivery starts another', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const s = await start(t);
  const first = await lmtpDeliver(s, ['alice@test.example'], 'Subject: one\n\nfirst\n');
  assert.match(first.at(-1)!, /^250 2\.0\.0 .* Saved$/);
  const pids = execFileSync('pgrep', ['-P', String(s.child.pid), '-u', '5101'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  assert.equal(pids.length, 1);
  process.kill(pids[0]!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  const second = await lmtpDeliver(s, ['alice@test.example'], 'Subject: two\n\nsecond\n');
  assert.match(second.at(-1)!, /^250 2\.0\.0 .* Saved$/);
  assert.equal(newFiles(s, 'alice').length, 2);
  assert.match(s.log(), /service\(mail-worker\): child [0-9]+ \(uid 5101\) killed with signal SIGKILL/);
  const uidlist = readFileSync(join(s.dir, 'home', 'alice', 'Maildir', 'dovecot-uidlist'), 'utf8');
  assert.equal(uidlist.trim().split("\n").length, 3, uidlist);
});
