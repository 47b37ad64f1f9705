/*
 * Stopping the MDA with clients connected, as `dovecot stop` does with `shutdown_clients = yes`
 * (observed from Dovecot 2.3.19 on loopback: a logged-in IMAP session, selected or in IDLE, gets
 * `* BYE Server shutting down.` and logs `Disconnected: Server shutting down.`; the master exits
 * while the clients are still connected). Dovecot's login processes and its pop3 outlive the
 * master; we have one daemon, so those connections end with what each process says on SIGTERM
 * (observed: `* BYE Shutting down`, `-ERR Shutting down`, `-ERR [SYS/TEMP] Server shutting down.`).
 * Run with the sessions in the master
 * (postern_mail_processes = 1, the default) and in two session workers (= 2).
 *
 * Each client stays connected until the daemon has exited, so a stop that waits for its clients
 * to leave is caught: the helper's stop() sends SIGKILL after 5 s and the exit is then not 0.
 *
 * With per-uid mail workers (root, no mail_uid) deliveries are saved by the workers too: an LMTP
 * transaction still in DATA when the signal comes is given its few seconds and saved, so the
 * workers stop only after LMTP has closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.js';
import { LineClient } from '../helpers/line-client.js';
import { makeTraversable } from '../helpers/postfix-instance.js';
import { tempDir } from '../helpers/tmp.js';
import { runMdaConfig, startMdaDaemon } from './lmtp/mda-daemon.js';

/** Everything the peer sends from now until it closes the connection. */
function restOf(c: LineClient): Promise<string> {
  let text = '';
  c.sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
  return new Promise((resolve) => c.sock.once('close', () => resolve(text)));
}

for (const processes of [1, 2]) {
  test(`SIGTERM ends connected sessions and the daemon exits (postern_mail_processes = ${processes})`, async (t) => {
    const imapPort = await freePort();
    const pop3Port = await freePort();
    const mda = await startMdaDaemon(t, {
      users: [{ name: 'u1@test.example', password: 'secret' }],
      protocols: 'imap pop3',
      extraConf: `service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
}
plugin {
  postern_mail_processes = ${processes}
}
`,
    });
    const clients: LineClient[] = [];
    t.after(() => clients.forEach((c) => c.close()));
    const open = async (port: number): Promise<LineClient> => {
      const c = await LineClient.open(port);
      clients.push(c);
      await c.line();
      return c;
    };

    const selected = await open(imapPort);
    assert.match(await selected.cmd('a LOGIN u1@test.example secret'), /^a OK /);
    selected.send('b SELECT INBOX\r\n');
    assert.match((await selected.until('b ')).at(-1)!, /^b OK \[READ-WRITE\]/);
    const idling = await open(imapPort);
    assert.match(await idling.cmd('a LOGIN u1@test.example secret'), /^a OK /);
    idling.send('b SELECT INBOX\r\n');
    assert.match((await idling.until('b ')).at(-1)!, /^b OK \[READ-WRITE\]/);
    assert.equal(await idling.cmd('c IDLE'), '+ idling');
    const pop = await open(pop3Port);
    assert.match(await pop.cmd('USER u1@test.example'), /^\+OK/);
    assert.equal(await pop.cmd('PASS secret'), '+OK Logged in.');
    const preLogin = await open(imapPort);
    const popPreLogin = await open(pop3Port);

    const after = [selected, idling, pop, preLogin, popPreLogin].map(restOf);
    await mda.stop();
    assert.equal(await mda.exited, 0, `the daemon did not exit by itself:\n${mda.log()}`);
    const [selectedRest, idlingRest, popRest, preLoginRest, popPreLoginRest] = await Promise.all(after);
    assert.equal(selectedRest, '* BYE Server shutting down.\r\n');
    assert.equal(idlingRest, '* BYE Server shutting down.\r\n');
    assert.equal(popRest, '-ERR [SYS/TEMP] Server shutting down.\r\n');
    assert.equal(preLoginRest, '* BYE Shutting down\r\n');
    assert.equal(popPreLoginRest, '-ERR Shutting down\r\n');
    const log = mda.log();
    assert.equal(log.match(/imap\(u1@test\.example\)<[0-9]+><[^>]+>: Info: Disconnected: Server shutting down\. in=/g)?.length, 2, log);
    assert.match(log, /pop3\(u1@test\.example\)<[0-9]+><[^>]+>: Info: Disconnected: Server shutting down\. top=/);
    for (const service of ['imap', 'pop3']) {
      assert.match(log, new RegExp(`${service}-login: Info: Disconnected: Shutting down \\(no auth attempts in [0-9]+ secs\\): user=<>, rip=127\\.0\\.0\\.1, lip=127\\.0\\.0\\.1, secured, session=<[^>]+>\n`), log);
    }
    assert.match(log, /master: Warning: Killed with signal 15/);
  });
}

const ROOT = process.getuid?.() === 0;

test('SIGTERM with per-uid mail workers: a delivery in DATA is still saved, the IMAP session gets BYE, the daemon exits', { skip: ROOT ? false : 'per-uid mail workers need root (setuid); CI runs the suite as root' }, async (t) => {
  const dir = tempDir(t, 'postern-stop-peruid-');
  makeTraversable(dir);
  mkdirSync(join(dir, 'home'), { mode: 0o755 });
  const home = join(dir, 'home', 'carol');
  mkdirSync(home, { mode: 0o700 });
  chownSync(home, 5301, 5301);
  const users = join(dir, 'users');
  writeFileSync(users, `carol:{PLAIN}pw:5301:5301::${home}::\n`, { mode: 0o600 });
  const imapPort = await freePort();
  const lmtpSocket = join(dir, 'run', 'lmtp');
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, `base_dir = ${dir}/run
log_path = ${dir}/dovecot.log
protocols = lmtp imap
listen = 127.0.0.1
ssl = no
hostname = mail.test.example
mail_location = maildir:~/Maildir
first_valid_uid = 500
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n ${users}
}
userdb {
  driver = passwd-file
  args = username_format=%n ${users}
}
service lmtp {
  unix_listener ${lmtpSocket} {
    mode = 0666
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
}
`);
  const mda = await runMdaConfig(t, conf, join(dir, 'dovecot.log'));
  const clients: LineClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));

  const imap = await LineClient.open(imapPort);
  clients.push(imap);
  await imap.line();
  assert.match(await imap.cmd('a LOGIN carol pw'), /^a OK /);
  imap.send('b SELECT INBOX\r\n');
  assert.match((await imap.until('b ')).at(-1)!, /^b OK \[READ-WRITE\]/);

  const lmtp = await LineClient.open(lmtpSocket);
  clients.push(lmtp);
  await lmtp.line();
  lmtp.send('LHLO test\r\n');
  await lmtp.until('250 ');
  assert.match(await lmtp.cmd('MAIL FROM:<sender@example.org>'), /^250 /);
  assert.match(await lmtp.cmd('RCPT TO:<carol>'), /^250 /);
  assert.match(await lmtp.cmd('DATA'), /^354 /);
  lmtp.send('From: sender@example.org\r\nSubject: in flight\r\n');

  const imapRest = restOf(imap);
  mda.child.kill('SIGTERM');
  // The rest of the message only once the daemon is stopping.
  for (let i = 0; i < 500 && !/master: Warning: Killed with signal 15/.test(mda.log()); i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(mda.log(), /master: Warning: Killed with signal 15/);
  lmtp.send('\r\nSent while the daemon stops.\r\n.\r\n');
  assert.match(await lmtp.line(), /^250 2\.0\.0 <carol> \S+ Saved$/);
  // The idle connection that is left does not hold the stop up: it is told, and closed.
  assert.match(await lmtp.line(), /^421 4\.3\.2 mail\.test\.example Shutting down$/);
  assert.equal(await mda.exited, 0, `the daemon did not exit by itself:\n${mda.log()}`);
  assert.equal(await imapRest, '* BYE Server shutting down.\r\n');
  assert.equal(readdirSync(join(home, 'Maildir', 'new')).length, 1, 'the message acknowledged during the stop is not in new/');
});
