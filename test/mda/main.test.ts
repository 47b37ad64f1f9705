/*
 * The MDA as one daemon: `bin/postern-mda -c <generated dovecot.conf>` started as a child process in a
 * temporary directory with LMTP on a Unix socket and IMAP/POP3 on free loopback ports. A message delivered
 * over LMTP is read over IMAP and POP3, a client authenticates over the auth-client socket, SIGTERM stops
 * the daemon cleanly, and a second start on the same configuration (stale sockets and pid file) is stopped
 * by `dovecot stop`, as an administrator would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.js';
import { LineClient as Lines } from '../helpers/line-client.js';
import { DAEMON, startMdaDaemon, type MdaDaemon } from './lmtp/mda-daemon.js';
import { TestClient, untimed } from './imap/server/harness.js';

const DOVECOT_CLI = fileURLToPath(new URL('../../mda/cli/dovecot.js', import.meta.url));

const MESSAGE = 'From: alice@example.org\r\nTo: u1@test.example\r\nSubject: daemon test\r\nMessage-ID: <daemon@test>\r\n\r\nHello over LMTP.\r\n';

async function start(t: Parameters<typeof startMdaDaemon>[0], imap: number, pop3: number): Promise<MdaDaemon> {
  return startMdaDaemon(t, {
    users: [{ name: 'u1@test.example', password: 'secret' }],
    protocols: 'lmtp imap pop3',
    extraConf: `service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imap}
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3}
  }
}
`,
  });
}

test('postern-mda serves LMTP, IMAP, POP3 and auth from one dovecot.conf; SIGTERM and dovecot stop end it', async (t) => {
  const imapPort = await freePort();
  const pop3Port = await freePort();
  const mda = await start(t, imapPort, pop3Port);
  assert.match(mda.log(), /master: Info: Dovecot v2\.3\.19\.1 \(Postern\) starting up for lmtp, imap, pop3/);

  const lmtp = await Lines.open(mda.lmtpSocket);
  t.after(() => lmtp.close());
  assert.match(await lmtp.line(), /^220 mail\.test\.example Dovecot ready\.$/);
  lmtp.send('LHLO client.test\r\n');
  while (!(await lmtp.line()).startsWith('250 ')) { /* capabilities */ }
  assert.match(await lmtp.cmd('MAIL FROM:<alice@example.org>'), /^250 /);
  assert.match(await lmtp.cmd('RCPT TO:<u1@test.example>'), /^250 /);
  assert.match(await lmtp.cmd('RCPT TO:<nobody@test.example>'), /^550 5\.1\.1 <nobody@test\.example> User doesn't exist: nobody@test\.example$/);
  assert.match(await lmtp.cmd('DATA'), /^354 /);
  assert.match(await lmtp.cmd(`${MESSAGE}.`), /^250 2\.0\.0 <u1@test\.example> \S+ Saved$/);
  assert.match(await lmtp.cmd('QUIT'), /^221 /);

  const imap = await TestClient.connect(imapPort);
  t.after(() => imap.close());
  assert.match(imap.greeting, /^\* OK \[CAPABILITY IMAP4rev1 .*\] Dovecot ready\.$/);
  await imap.login('u1@test.example');
  const sel = (await imap.cmd('s', 'SELECT INBOX')).map(untimed);
  assert.ok(sel.includes('* 1 EXISTS') && sel.includes('* 1 RECENT'), sel.join('\n'));
  const f = await imap.cmd('f', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])');
  assert.ok(f[0]!.includes('Subject: daemon test') && f[0]!.includes('Hello over LMTP.'), f.join('\n'));
  assert.deepEqual((await imap.cmd('l', 'LOGOUT')).map(untimed), ['* BYE Logging out', 'l OK Logout completed.']);

  const pop = await Lines.open(pop3Port);
  t.after(() => pop.close());
  assert.equal(await pop.line(), '+OK Dovecot ready.');
  assert.match(await pop.cmd('USER u1@test.example'), /^\+OK/);
  assert.equal(await pop.cmd('PASS secret'), '+OK Logged in.');
  assert.match(await pop.cmd('STAT'), /^\+OK 1 [0-9]+$/);
  assert.match(await pop.cmd('RETR 1'), /^\+OK [0-9]+ octets$/);
  const body: string[] = [];
  for (let l = await pop.line(); l !== '.'; l = await pop.line()) body.push(l);
  assert.ok(body.includes('Subject: daemon test') && body.includes('Hello over LMTP.'), body.join('\n'));
  assert.match(await pop.cmd('QUIT'), /^\+OK Logging out\.$/);

  const auth = await Lines.open(mda.authSocket);
  t.after(() => auth.close());
  auth.send('VERSION\t1\t2\nCPID\t4242\n');
  const hello: string[] = [];
  for (let l = await auth.line(); l !== 'DONE'; l = await auth.line()) hello.push(l);
  assert.ok(hello.includes('MECH\tPLAIN\tplaintext'), hello.join('\n'));
  const resp = Buffer.from('\0u1@test.example\0secret').toString('base64');
  auth.send(`AUTH\t1\tPLAIN\tservice=smtp\tsecured\tresp=${resp}\n`);
  assert.equal(await auth.line(), 'OK\t1\tuser=u1@test.example');
  auth.send(`AUTH\t2\tPLAIN\tservice=smtp\tsecured\tresp=${Buffer.from('\0u1@test.example\0wrong').toString('base64')}\n`);
  assert.match(await auth.line(), /^FAIL\t2\tuser=u1@test\.example/);

  await mda.stop();
  assert.equal(await mda.exited, 0);
  assert.match(mda.log(), /master: Warning: Killed with signal 15/);

  // Same configuration again: stale sockets and pid file are replaced; `dovecot stop` ends it.
  const child = spawn(process.execPath, [DAEMON, '-c', mda.conf], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', (code, sig) => r(code ?? sig)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const deadline = Date.now() + 20_000;
  while (mda.log().split('starting up').length < 3) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `second start failed:\n${mda.log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // Asynchronous: the daemon is our child, and only a running event loop reaps it for `stop` to see it gone.
  const stopper = spawn(process.execPath, [DOVECOT_CLI, '-c', mda.conf, 'stop'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  stopper.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const status = await new Promise((r) => stopper.once('exit', (code) => r(code)));
  assert.equal(status, 0, stderr);
  assert.equal(await exited, 0);
});
