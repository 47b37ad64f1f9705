/*
 * The POP3 state machine without sockets: RFC 1939 §10's example session shape, the Dovecot 2.3.19 transcripts
 * (reference/transcripts.md §3), wrong-state and bad input, UPDATE-only deletion, dropped connections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEnv, memSession, type Env } from './helpers.js';

const M1 = 'From: a@example.org\nSubject: one\n\nline 1\nline 2\n';
const M2 = 'From: b@example.org\r\nSubject: two\r\n\r\n.dot line\r\n';

async function seed(env: Env, msgs = [M1, M2]): Promise<number> {
  const store = await env.store();
  for (const m of msgs) await store.deliver('INBOX', Buffer.from(m, 'latin1'));
  return (await store.status('INBOX')).uidValidity;
}

const CAPA_PRE = '+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n';

test('greeting and CAPA before login: secured loopback, with and without TLS, insecure peer', async (t) => {
  const env = makeEnv(t, { tlsAvailable: true });
  const a = memSession(env);
  await a.s.greet();
  assert.equal(a.io.take(), '+OK Dovecot (Debian) ready.\r\n');
  assert.equal(await a.send('CAPA'), `${CAPA_PRE}STLS\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n`);
  const tls = memSession(env, { tls: true });
  assert.equal(await tls.send('capa'), `${CAPA_PRE}USER\r\nSASL PLAIN LOGIN\r\n.\r\n`);
  const insecure = memSession(env, { rip: '127.0.0.2' });
  assert.equal(await insecure.send('CAPA'), `${CAPA_PRE}STLS\r\nSASL\r\n.\r\n`);
  assert.equal(await insecure.send('USER u1'), '-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n');
  assert.equal(await insecure.send('AUTH'), '+OK\r\n.\r\n');
  assert.equal(await insecure.send('AUTH PLAIN AGFsaWNlAHNlY3JldA=='), '-ERR [AUTH] Plaintext authentication disabled.\r\n');
  assert.equal(await insecure.send('STLS'), '+OK Begin TLS negotiation now.\r\n');
  assert.equal(insecure.io.tlsStarted, 1);
  assert.equal(await insecure.send('CAPA'), `${CAPA_PRE}USER\r\nSASL PLAIN LOGIN\r\n.\r\n`);
  assert.equal(await insecure.send('STLS'), '-ERR TLS is already active.\r\n');
  const noTls = memSession(makeEnv(t));
  assert.equal(await noTls.send('CAPA'), `${CAPA_PRE}USER\r\nSASL PLAIN LOGIN\r\n.\r\n`);
  assert.equal(await noTls.send('STLS'), '-ERR TLS support isn\'t enabled.\r\n');
  const open = memSession(makeEnv(t, { settings: { disable_plaintext_auth: 'no' } }), { rip: '192.0.2.1' });
  assert.equal(await open.send('CAPA'), `${CAPA_PRE}USER\r\nSASL PLAIN LOGIN\r\n.\r\n`);
});

test('transcript 3.2: USER/PASS, CAPA after login, STAT, LIST, UIDL, errors, QUIT', async (t) => {
  const env = makeEnv(t);
  const uv = await seed(env);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const { s, io, send } = memSession(env);
  assert.equal(await send('NOOP'), '-ERR Unknown command.\r\n');
  assert.equal(await send('PASS secret'), '-ERR No username given.\r\n');
  assert.equal(await send('USER alice'), '+OK\r\n');
  assert.equal(await send('PASS secret'), '+OK Logged in.\r\n');
  assert.equal(s.state, 'TRANSACTION');
  assert.equal(await send('CAPA'), '+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n.\r\n');
  const size1 = Buffer.byteLength(M1) + 5;
  const size2 = Buffer.byteLength(M2);
  assert.equal(await send('STAT'), `+OK 2 ${size1 + size2}\r\n`);
  assert.equal(await send('LIST'), `+OK 2 messages:\r\n1 ${size1}\r\n2 ${size2}\r\n.\r\n`);
  assert.equal(await send('LIST 2'), `+OK 2 ${size2}\r\n`);
  assert.equal(await send('UIDL'), `+OK\r\n1 ${hex(1)}${hex(uv)}\r\n2 ${hex(2)}${hex(uv)}\r\n.\r\n`);
  assert.equal(await send('UIDL 1'), `+OK 1 ${hex(1)}${hex(uv)}\r\n`);
  assert.equal(await send('FOO'), '-ERR Unknown command: FOO\r\n');
  assert.equal(await send('USER alice'), '-ERR Unknown command: USER\r\n');
  assert.equal(await send(''), '-ERR Unknown command.\r\n');
  assert.equal(await send('RETR 99'), '-ERR There\'s no message 99.\r\n');
  assert.equal(await send('DELE 99'), '-ERR There\'s no message 99.\r\n');
  assert.equal(await send('LIST 0'), '-ERR There\'s no message 0.\r\n');
  assert.equal(await send('RETR 1'), `+OK ${size1} octets\r\n${M1.replace(/\n/g, '\r\n')}.\r\n`);
  assert.equal(await send('TOP 2 0'), '+OK\r\nFrom: b@example.org\r\nSubject: two\r\n\r\n.\r\n');
  assert.equal(await send('TOP 2 1'), '+OK\r\nFrom: b@example.org\r\nSubject: two\r\n\r\n..dot line\r\n.\r\n');
  assert.equal(await send('NOOP'), '+OK\r\n');
  assert.equal(await send('QUIT'), '+OK Logging out.\r\n');
  assert.equal(io.closed, true);
  const logs = env.log.lines;
  assert.match(logs.find((l) => l.startsWith('pop3-login'))!, /^pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=4242, secured, session=<[A-Za-z0-9+/]{16}>$/);
  const retrBytes = `+OK ${size1} octets\r\n`.length + size1;
  const topBytes = '+OK\r\nFrom: b@example.org\r\nSubject: two\r\n\r\n'.length + '+OK\r\nFrom: b@example.org\r\nSubject: two\r\n\r\n..dot line\r\n'.length;
  assert.match(logs.at(-1)!, new RegExp(`^pop3\\(alice\\)<4242><[^>]+>: Info: Disconnected: Logged out top=2/${topBytes}, retr=1/${retrBytes}, del=0/2, size=${size1 + size2}$`));
  const flags = (await (await env.store()).openMailbox('INBOX', { readOnly: true })).messages().map((m) => m.flags);
  assert.deepEqual(flags, [['\\Seen'], []]);
});

test('DELE marks only; RSET forgets; QUIT deletes atomically with "messages deleted"', async (t) => {
  const env = makeEnv(t);
  await seed(env, [M1, M2, M1]);
  const { send } = memSession(env);
  await send('USER alice');
  await send('PASS secret');
  assert.equal(await send('DELE 1'), '+OK Marked to be deleted.\r\n');
  assert.equal(await send('DELE 1'), '-ERR Message is deleted.\r\n');
  for (const c of ['RETR 1', 'TOP 1 0', 'LIST 1', 'UIDL 1']) assert.equal(await send(c), '-ERR Message is deleted.\r\n', c);
  assert.match(await send('STAT'), /^\+OK 2 /);
  assert.match(await send('LIST'), /^\+OK 2 messages:\r\n2 \d+\r\n3 \d+\r\n\.\r\n$/);
  assert.match(await send('UIDL'), /^\+OK\r\n2 \w+\r\n3 \w+\r\n\.\r\n$/);
  assert.equal((await (await env.store()).status('INBOX')).messages, 3, 'nothing deleted before QUIT');
  assert.equal(await send('RSET'), '+OK\r\n');
  assert.match(await send('STAT'), /^\+OK 3 /);
  await send('DELE 2');
  await send('DELE 3');
  assert.equal(await send('QUIT'), '+OK Logging out, messages deleted.\r\n');
  const left = (await (await env.store()).openMailbox('INBOX', { readOnly: true })).messages();
  assert.deepEqual(left.map((m) => m.uid), [1]);
  assert.match(env.log.lines.at(-1)!, /Disconnected: Logged out top=0\/0, retr=0\/0, del=2\/3, size=\d+$/);
});

test('a dropped connection deletes nothing but keeps \\Seen from RETR (as Dovecot)', async (t) => {
  const env = makeEnv(t);
  await seed(env);
  const { s, send } = memSession(env);
  await send('USER alice');
  await send('PASS secret');
  await send('RETR 1');
  await send('DELE 1');
  await send('DELE 2');
  await s.onEof();
  const msgs = (await (await env.store()).openMailbox('INBOX', { readOnly: true })).messages();
  assert.equal(msgs.length, 2);
  assert.deepEqual(msgs.map((m) => m.flags), [[], []], 'a message marked deleted gets no \\Seen');
  assert.match(env.log.lines.at(-1)!, /Disconnected: Connection closed top=0\/0, retr=1\/\d+, del=0\/2, size=\d+$/);
  const b = memSession(env);
  await b.send('USER alice');
  await b.send('PASS secret');
  await b.send('RETR 2');
  await b.s.onEof();
  const after = (await (await env.store()).openMailbox('INBOX', { readOnly: true })).messages();
  assert.deepEqual(after.map((m) => m.flags), [[], ['\\Seen']]);
});

test('pop3_no_flag_updates: RETR leaves flags alone', async (t) => {
  const env = makeEnv(t, { settings: { pop3_no_flag_updates: 'yes' } });
  await seed(env);
  const { send } = memSession(env);
  await send('USER alice');
  await send('PASS secret');
  await send('RETR 1');
  await send('QUIT');
  const msgs = (await (await env.store()).openMailbox('INBOX', { readOnly: true })).messages();
  assert.deepEqual(msgs.map((m) => m.flags), [[], []]);
});

test('pop3_deleted_flag: DELE sets the keyword, flagged messages are hidden', async (t) => {
  const env = makeEnv(t, { settings: { pop3_deleted_flag: '$POP3Deleted' } });
  await seed(env);
  const a = memSession(env);
  await a.send('USER alice');
  await a.send('PASS secret');
  await a.send('DELE 1');
  assert.equal(await a.send('QUIT'), '+OK Logging out, messages deleted.\r\n');
  const msgs = (await (await env.store()).openMailbox('INBOX', { readOnly: true })).messages();
  assert.equal(msgs.length, 2, 'not expunged');
  assert.ok(msgs[0]!.flags.includes('$POP3Deleted'));
  const b = memSession(env);
  await b.send('USER alice');
  await b.send('PASS secret');
  assert.match(await b.send('STAT'), /^\+OK 1 /);
  assert.equal(await b.send('RETR 2'), '-ERR There\'s no message 2.\r\n');
});

test('AUTH: mechanism list, PLAIN with initial response, = and continuation, LOGIN, abort, bad base64, failure', async (t) => {
  const env = makeEnv(t);
  const a = memSession(env);
  assert.equal(await a.send('AUTH'), '+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n');
  assert.equal(await a.send('AUTH FOO'), '-ERR [AUTH] Unsupported authentication mechanism.\r\n');
  assert.equal(await a.send('AUTH PLAIN !!!'), '-ERR [AUTH] Invalid base64 data in initial response\r\n');
  assert.equal(await a.send('AUTH PLAIN'), '+ \r\n');
  assert.equal(await a.send('*'), '-ERR Authentication aborted by client.\r\n');
  assert.equal(await a.send('AUTH PLAIN'), '+ \r\n');
  assert.equal(await a.send('!!!'), '-ERR [AUTH] Invalid base64 in response\r\n');
  assert.equal(await a.send('AUTH PLAIN ='), '-ERR [AUTH] Authentication failed.\r\n');
  assert.equal(await a.send(`AUTH PLAIN ${Buffer.from('\0alice\0wrong').toString('base64')}`), '-ERR [AUTH] Authentication failed.\r\n');
  assert.equal(await a.send('AUTH LOGIN'), '+ VXNlcm5hbWU6\r\n');
  assert.equal(await a.send(Buffer.from('alice').toString('base64')), '+ UGFzc3dvcmQ6\r\n');
  assert.equal(await a.send(Buffer.from('secret').toString('base64')), '+OK Logged in.\r\n');
  assert.match(env.log.lines[0]!, /Login: user=<alice>, method=LOGIN,/);
  const b = memSession(env);
  assert.equal(await b.send(`auth plain ${Buffer.from('\0alice\0secret').toString('base64')}`), '+OK Logged in.\r\n');
  const c = memSession(env);
  assert.equal(await c.send('AUTH PLAIN'), '+ \r\n');
  assert.equal(await c.send(Buffer.from('\0bob\0hunter2').toString('base64')), '+OK Logged in.\r\n');
});

test('pre-login: 3 bad commands disconnect; QUIT; failed login log line', async (t) => {
  const env = makeEnv(t);
  const a = memSession(env);
  assert.equal(await a.send('FOO'), '-ERR Unknown command.\r\n');
  assert.equal(await a.send('STAT'), '-ERR Unknown command.\r\n');
  assert.equal(await a.send('RETR 1'), '-ERR Unknown command.\r\n-ERR Too many invalid bad commands.\r\n');
  assert.equal(a.io.closed, true);
  const b = memSession(env);
  await b.send('USER alice');
  assert.equal(await b.send('PASS wrong'), '-ERR [AUTH] Authentication failed.\r\n');
  assert.equal(await b.send('PASS secret'), '-ERR No username given.\r\n');
  assert.equal(await b.send('QUIT'), '+OK Logging out\r\n');
  assert.match(env.log.lines.at(-1)!, /^pop3-login: Info: Disconnected: Aborted login by logging out \(auth failed, 1 attempts in \d+ secs\): user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, secured, session=<[^>]+>$/);
  const c = memSession(env);
  await c.s.onEof();
  assert.match(env.log.lines.at(-1)!, /Disconnected: Connection closed \(no auth attempts in 0 secs\): user=<>, rip=127\.0\.0\.1, lip=127\.0\.0\.1, secured, session=/);
});

test('post-login: more than 20 bad commands in a row disconnect; a good one resets the count', async (t) => {
  const env = makeEnv(t);
  await seed(env);
  const { io, send } = memSession(env);
  await send('USER alice');
  await send('PASS secret');
  for (let i = 0; i < 19; i++) await send('X');
  await send('NOOP');
  for (let i = 0; i < 20; i++) assert.equal(await send('LIST 9'), '-ERR There\'s no message 9.\r\n');
  assert.equal(io.closed, false);
  assert.equal(await send('XX'), '-ERR Unknown command: XX\r\n-ERR Too many bad commands.\r\n');
  assert.equal(io.closed, true);
  assert.match(env.log.lines.at(-1)!, /Disconnected: Too many bad commands\. top=/);
});

test('over-long lines: pop3-login and pop3 replies', async (t) => {
  const env = makeEnv(t);
  const a = memSession(env);
  await a.s.onOverflow();
  assert.equal(a.io.take(), '-ERR Input buffer full, aborting\r\n');
  assert.match(env.log.lines.at(-1)!, /Disconnected: Input buffer full \(no auth attempts/);
  const b = memSession(env);
  await b.send('USER alice');
  await b.send('PASS secret');
  await b.s.onOverflow();
  assert.equal(b.io.take(), '-ERR Input line too long.\r\n');
  assert.match(env.log.lines.at(-1)!, /Disconnected: Input line too long top=/);
  assert.equal(b.s.maxLineLength, 2048);
  assert.equal(a.s.maxLineLength, 1031);
});

test('pop3_lock_session: a second session waits, then gets [IN-USE]', async (t) => {
  const env = makeEnv(t, { settings: { pop3_lock_session: 'yes', postern_pop3_lock_timeout: '100 ms' } });
  await seed(env);
  const a = memSession(env);
  await a.send('USER alice');
  assert.equal(await a.send('PASS secret'), '+OK Logged in.\r\n');
  const b = memSession(env);
  await b.send('USER alice');
  assert.equal(await b.send('PASS secret'), '-ERR [IN-USE] Mailbox is locked by another POP3 session.\r\n');
  assert.equal(b.io.closed, true);
  await a.send('QUIT');
  const c = memSession(env);
  await c.send('USER alice');
  assert.equal(await c.send('PASS secret'), '+OK Logged in.\r\n');
});

test('storage failure at login answers -ERR [SYS/TEMP] with the generic text', async (t) => {
  const env = makeEnv(t);
  const { send, io } = memSession({ ...env, deps: { ...env.deps, openStore: async () => { throw new Error('EIO: disk on fire'); } } });
  await send('USER alice');
  assert.equal(await send('PASS secret'), '-ERR [SYS/TEMP] Internal error occurred. Refer to server log for more information.\r\n');
  assert.equal(io.closed, true);
  assert.ok(env.log.lines.some((l) => /Error: Couldn't open INBOX: EIO: disk on fire/.test(l)));
});

test('APOP: off by default; with auth_mechanisms apop and a plaintext password it works', async (t) => {
  const off = memSession(makeEnv(t));
  assert.equal(await off.send('APOP alice 0123456789abcdef0123456789abcdef'), '-ERR APOP not enabled.\r\n');
  const env = makeEnv(t, { authMechanisms: 'plain login apop' });
  await seed(env);
  const { s, io, send } = memSession(env);
  await s.greet();
  const greeting = io.take();
  const m = /^\+OK Dovecot \(Debian\) ready\. (<[^>]+@mail\.example>)\r\n$/.exec(greeting);
  assert.ok(m, greeting);
  const { createHash } = await import('node:crypto');
  const digest = (pw: string) => createHash('md5').update(m[1]! + pw).digest('hex');
  assert.equal(await send('APOP alice short'), '-ERR Invalid parameters.\r\n');
  assert.equal(await send(`APOP alice ${'z'.repeat(32)}`), '-ERR Invalid characters in MD5 response.\r\n');
  assert.equal(await send(`APOP alice ${digest('wrong')}`), '-ERR [AUTH] Authentication failed.\r\n');
  assert.equal(await send(`APOP carol ${digest('secret')}`), '-ERR [AUTH] Authentication failed.\r\n', 'no plaintext password for carol');
  assert.equal(await send(`APOP alice ${digest('secret')}`), '+OK Logged in.\r\n');
});

test('LAST only with pop3_enable_last', async (t) => {
  const off = makeEnv(t);
  await seed(off);
  const a = memSession(off);
  await a.send('USER alice');
  await a.send('PASS secret');
  assert.equal(await a.send('LAST'), '-ERR Unknown command: LAST\r\n');
  const on = makeEnv(t, { settings: { pop3_enable_last: 'yes' } });
  await seed(on);
  const b = memSession(on);
  await b.send('USER alice');
  await b.send('PASS secret');
  assert.equal(await b.send('LAST'), '+OK 0\r\n');
  await b.send('RETR 2');
  assert.equal(await b.send('LAST'), '+OK 2\r\n');
});
