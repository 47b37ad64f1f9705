/*
 * Pre-login protocol over real sockets: greeting and CAPABILITY per connection security (reference
 * dovecot.md §3.1), LOGIN/AUTHENTICATE replies and privacy texts (§3.2, transcripts §2.1-2.6),
 * STARTTLS, ID, NOOP, LOGOUT, bad-command limit, login log lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TestClient, untimed } from './harness.js';
import { postLoginCapability } from '../../../../mda/imap/capabilities.js';

const BASE = 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+';
/**
 * The transcripts' list, less SPECIAL-USE: the harness configures no special_use mailbox and Dovecot advertises
 * SPECIAL-USE only when some mailbox has one (capability-setting.test.ts checks both cases).
 */
const POST = postLoginCapability();

test('greeting and CAPABILITY without TLS, secured loopback peer (transcripts §2.5)', async (t) => {
  const s = await startTestServer(t, { settings: { login_greeting: 'Dovecot ready.' } });
  const c = await TestClient.connect(s.port);
  t.after(() => c.close());
  assert.equal(c.greeting, `* OK [CAPABILITY ${BASE} AUTH=PLAIN AUTH=LOGIN] Dovecot ready.`);
  assert.deepEqual(await c.cmd('a1', 'CAPABILITY'), [
    `* CAPABILITY ${BASE} AUTH=PLAIN AUTH=LOGIN`,
    'a1 OK Pre-login capabilities listed, post-login capabilities have more.',
  ]);
  assert.deepEqual(await c.cmd('a2', 'NOOP'), ['a2 OK NOOP completed.']);
  assert.deepEqual(await c.cmd('a3', 'ID ("name" "probe")'), ['* ID ("name" "Dovecot")', 'a3 OK ID completed.']);
  assert.deepEqual(await c.cmd('b2', 'FOO'), ['b2 BAD Error in IMAP command received by server.']);
  assert.deepEqual(await c.cmd('b3', 'SELECT INBOX'), ['b3 BAD Error in IMAP command received by server.']);
  assert.deepEqual(await c.cmd('a4', 'LOGOUT'), ['* BYE Logging out', 'a4 OK Logout completed.']);
  await c.waitClosed();
});

test('LOGIN: wrong password, success with capabilities, timing suffix after login (transcripts §2.6)', async (t) => {
  const s = await startTestServer(t);
  const c = await TestClient.connect(s.port);
  t.after(() => c.close());
  assert.deepEqual(await c.cmd('b1', 'LOGIN u1 wrong'), ['b1 NO [AUTHENTICATIONFAILED] Authentication failed.']);
  assert.deepEqual(await c.cmd('a2', 'LOGIN "u1" "secret"'), [`a2 OK [CAPABILITY ${POST}] Logged in`]);
  const r = await c.cmd('a3', 'CAPABILITY');
  assert.equal(r[0], `* CAPABILITY ${POST}`);
  assert.match(r[1]!, /^a3 OK Capability completed \([0-9]\.[0-9]{3} \+ 0\.000 secs\)\.$/);
  assert.deepEqual((await c.cmd('a4', 'NAMESPACE')).map(untimed), ['* NAMESPACE (("" ".")) NIL NIL', 'a4 OK Namespace completed.']);
  assert.deepEqual((await c.cmd('b6', 'FETCH 99 FLAGS')).map(untimed), ['b6 BAD No mailbox selected.']);
  assert.deepEqual((await c.cmd('b7', 'GETQUOTAROOT INBOX')).map(untimed), ['b7 BAD Error in IMAP command GETQUOTAROOT: Unknown command.']);
  assert.deepEqual((await c.cmd('b8', 'LOGIN a b')).map(untimed), ['b8 BAD Error in IMAP command LOGIN: Unknown command.']);
  assert.deepEqual((await c.cmd('a5', 'LOGOUT')).map(untimed), ['* BYE Logging out', 'a5 OK Logout completed.']);
  await c.waitClosed();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(s.logs.some((l) => /^imap-login: Info: Login: user=<u1>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=[0-9]+, secured, session=<[A-Za-z0-9+/]+>$/.test(l)), s.logs.join('\n'));
  assert.ok(s.logs.some((l) => /^imap\(u1\)<[0-9]+><[A-Za-z0-9+/]+>: Info: Disconnected: Logged out in=[0-9]+ out=[0-9]+ deleted=0 expunged=0/.test(l)), s.logs.join('\n'));
});

test('AUTHENTICATE PLAIN with SASL-IR, without it, LOGIN mechanism, cancel', async (t) => {
  const s = await startTestServer(t);
  const c = await TestClient.connect(s.port);
  t.after(() => c.close());
  c.send('x1 AUTHENTICATE PLAIN\r\n');
  assert.equal(await c.line(), '+ ');
  c.send('*\r\n');
  assert.deepEqual(await c.until('x1'), ['x1 BAD Authentication aborted by client.']);
  c.send('x2 AUTHENTICATE LOGIN\r\n');
  assert.equal(await c.line(), `+ ${Buffer.from('Username:').toString('base64')}`);
  c.send(`${Buffer.from('u1').toString('base64')}\r\n`);
  assert.equal(await c.line(), `+ ${Buffer.from('Password:').toString('base64')}`);
  c.send(`${Buffer.from('nope').toString('base64')}\r\n`);
  assert.deepEqual(await c.until('x2'), ['x2 NO [AUTHENTICATIONFAILED] Authentication failed.']);
  assert.deepEqual(await c.cmd('x3', 'AUTHENTICATE CRAM-MD5'), ['x3 NO Unsupported authentication mechanism.']);
  const r = await c.cmd('b4', `AUTHENTICATE PLAIN ${Buffer.from('\0u1\0secret').toString('base64')}`);
  assert.deepEqual(r, [`b4 OK [CAPABILITY ${POST}] Logged in`]);
});

test('insecure peer: LOGINDISABLED, LOGIN refused with the ALERT (transcripts §2.3)', async (t) => {
  const s = await startTestServer(t, { tls: true, settings: { login_greeting: 'Dovecot (Debian) ready.' } });
  let c: TestClient;
  try {
    c = await TestClient.connect(s.port, { localAddress: '127.0.0.2' });
  } catch {
    t.skip('127.0.0.2 is not usable as a source address here');
    return;
  }
  t.after(() => c.close());
  assert.equal(c.greeting, `* OK [CAPABILITY ${BASE} STARTTLS LOGINDISABLED] Dovecot (Debian) ready.`);
  assert.deepEqual(await c.cmd('a', 'LOGIN alice@example.org secret'), [
    '* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.',
    'a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.',
  ]);
  assert.deepEqual(await c.cmd('b', 'AUTHENTICATE PLAIN'), ['b NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.']);
  assert.deepEqual(await c.cmd('c', 'STARTTLS'), ['c OK Begin TLS negotiation now.']);
  await c.startTls();
  assert.deepEqual(await c.cmd('d', 'CAPABILITY'), [`* CAPABILITY ${BASE} AUTH=PLAIN AUTH=LOGIN`, 'd OK Pre-login capabilities listed, post-login capabilities have more.']);
  assert.deepEqual(await c.cmd('e', 'LOGIN u1 secret'), [`e OK [CAPABILITY ${POST}] Logged in`]);
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(s.logs.some((l) => /Login: user=<u1>, method=PLAIN, rip=127\.0\.0\.2, lip=127\.0\.0\.1, mpid=[0-9]+, TLS, session=/.test(l)), s.logs.join('\n'));
});

test('implicit TLS listener (imaps) and STARTTLS on a secured peer', async (t) => {
  const s = await startTestServer(t, { tls: true });
  const c = await TestClient.connect(s.tlsPort!, { tls: true });
  t.after(() => c.close());
  assert.equal(c.greeting, `* OK [CAPABILITY ${BASE} AUTH=PLAIN AUTH=LOGIN] Dovecot ready.`);
  const p = await TestClient.connect(s.port);
  t.after(() => p.close());
  assert.equal(p.greeting, `* OK [CAPABILITY ${BASE} STARTTLS AUTH=PLAIN AUTH=LOGIN] Dovecot ready.`);
  assert.deepEqual(await p.cmd('t', 'STARTTLS'), ['t OK Begin TLS negotiation now.']);
  await p.startTls();
  await p.login();
  assert.deepEqual(await p.cmd('t2', 'STARTTLS').then((r) => r.map(untimed)), ['t2 BAD Error in IMAP command STARTTLS: Unknown command.']);
});

test('three bad commands before login disconnect, a good one between them counting for nothing; a literal over the limit is refused unread', async (t) => {
  const s = await startTestServer(t, { settings: { imap_max_line_length: '1k' } });
  const c = await TestClient.connect(s.port);
  t.after(() => c.close());
  assert.deepEqual(await c.cmd('1', 'X'), ['1 BAD Error in IMAP command received by server.']);
  assert.deepEqual(await c.cmd('g', 'NOOP'), ['g OK NOOP completed.']);
  assert.deepEqual(await c.cmd('2', 'Y'), ['2 BAD Error in IMAP command received by server.']);
  // Dovecot 2.3.19's imap-login answers the third with the BYE alone (bad-commands-interop.test.ts).
  c.send('3 Z\r\n');
  assert.equal(await c.line(), '* BYE Too many invalid IMAP commands.');
  await c.waitClosed();
  const d = await TestClient.connect(s.port);
  t.after(() => d.close());
  d.send('a LOGIN {999999}\r\n');
  assert.match(await d.line(), /^\* BYE /);
  await d.waitClosed();
});
