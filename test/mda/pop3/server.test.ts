/*
 * POP3 over real sockets: listeners, pipelining, byte-exact LIST/UIDL/RETR/TOP on corpus messages (LF-only files,
 * lines starting with '.', no final newline), DELE + QUIT vs a dropped connection, over-long lines, STLS from an
 * insecure peer, implicit TLS (pop3s), half-close, idle timeout, and Python's poplib as a stock client.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { startPop3Server, type Pop3Server } from '../../../mda/pop3/server.js';
import { loadDovecotCredentials } from '../../../shared/tls/credentials.js';
import { makeSelfSigned } from '../../../shared/tls/selfsigned.js';
import { corpusBytes, expectedRetr, makeEnv, Pop3Client, type Env, type EnvOptions } from './helpers.js';

const CORPUS_SET = [
  '001-plain-us-ascii', '086-header-only-no-final-newline', '087-body-no-final-newline', '096-dot-lines', '097-dot-only-body',
  '098-dot-last-line-no-newline', '099-dot-lines-in-parts', '107-lf-only-plain', '108-lf-only-multipart', '109-lf-only-dots',
  '110-mixed-eol-body-lf', '111-mixed-eol-per-line',
];

let cert: { keyPem: string; certPem: string } | undefined;
function tlsCreds() {
  cert ??= makeSelfSigned({ commonName: 'localhost', altNames: ['127.0.0.1'], bits: 1024 });
  return loadDovecotCredentials(cert.certPem, cert.keyPem)!;
}

async function start(t: TestContext, opts: EnvOptions = {}, seed = CORPUS_SET): Promise<{ env: Env; server: Pop3Server; port: number; tlsPort: number; raws: Buffer[] }> {
  const env = makeEnv(t, opts);
  const store = await env.store();
  const raws = seed.map((n) => corpusBytes(n));
  for (const r of raws) await store.deliver('INBOX', r);
  const server = await startPop3Server({
    settings: env.deps.settings,
    listeners: [{ name: 'pop3', address: '127.0.0.1', port: 0, ssl: false }, { name: 'pop3s', address: '127.0.0.1', port: 0, ssl: true }],
    auth: env.deps.auth,
    openStore: env.deps.openStore,
    log: env.log.factory,
    tls: tlsCreds(),
    hostname: 'mail.example',
    pid: 4242,
  });
  t.after(() => server.close());
  return { env, server, port: server.listeners[0]!.boundPort, tlsPort: server.listeners[1]!.boundPort, raws };
}

async function login(port: number): Promise<Pop3Client> {
  const c = await Pop3Client.connect(port);
  assert.equal(await c.line(), '+OK Dovecot (Debian) ready.');
  assert.equal(await c.cmd('USER alice'), '+OK');
  assert.equal(await c.cmd('PASS secret'), '+OK Logged in.');
  return c;
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('USER/PASS then LIST, UIDL, RETR and TOP are byte-exact on corpus messages', async (t) => {
  const { env, port, raws } = await start(t);
  const c = await login(port);
  const status = await (await env.store()).status('INBOX');
  const stat = await c.cmd('STAT');
  assert.equal(stat, `+OK ${raws.length} ${status.size}`);
  const list = (await c.cmdMulti('LIST')).toString('latin1');
  const crlfSizes = raws.map((r) => Buffer.from(r.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1').length);
  assert.equal(list, `+OK ${raws.length} messages:\r\n${crlfSizes.map((s, i) => `${i + 1} ${s}\r\n`).join('')}.\r\n`);
  const uidl = (await c.cmdMulti('UIDL')).toString('latin1');
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  assert.equal(uidl, `+OK\r\n${raws.map((_, i) => `${i + 1} ${hex(i + 1)}${hex(status.uidValidity)}\r\n`).join('')}.\r\n`);
  for (let i = 0; i < raws.length; i++) {
    const retr = await c.cmdMulti(`RETR ${i + 1}`);
    const want = Buffer.concat([Buffer.from(`+OK ${crlfSizes[i]} octets\r\n`), expectedRetr(raws[i]!), Buffer.from('.\r\n')]);
    assert.ok(retr.equals(want), `RETR ${CORPUS_SET[i]}`);
    const top = await c.cmdMulti(`TOP ${i + 1} 0`);
    const text = expectedRetr(raws[i]!).toString('latin1');
    const eoh = text.indexOf('\r\n\r\n');
    const head = eoh < 0 ? text : text.slice(0, eoh + 4);
    assert.equal(top.toString('latin1'), `+OK\r\n${head}.\r\n`, `TOP ${CORPUS_SET[i]} 0`);
  }
  assert.equal(await c.cmd('QUIT'), '+OK Logging out.');
  assert.equal(await c.rest(), '');
  await waitFor(() => env.log.lines.some((l) => l.includes('Disconnected: Logged out')));
});

test('AUTH PLAIN with an initial response, and pipelined commands in one packet', async (t) => {
  const { port } = await start(t, {}, ['107-lf-only-plain']);
  const c = await Pop3Client.connect(port);
  await c.line();
  c.write(`AUTH PLAIN ${Buffer.from('\0alice\0secret').toString('base64')}\r\nSTAT\r\nLIST 1\r\nNOOP\r\nQUIT\r\n`);
  assert.equal(await c.line(), '+OK Logged in.');
  assert.match(await c.line(), /^\+OK 1 \d+$/);
  assert.match(await c.line(), /^\+OK 1 \d+$/);
  assert.equal(await c.line(), '+OK');
  assert.equal(await c.line(), '+OK Logging out.');
});

test('DELE + QUIT deletes; DELE + dropped connection deletes nothing', async (t) => {
  const { env, port } = await start(t, {}, ['107-lf-only-plain', '109-lf-only-dots', '096-dot-lines']);
  const a = await login(port);
  assert.equal(await a.cmd('DELE 1'), '+OK Marked to be deleted.');
  assert.equal(await a.cmd('DELE 2'), '+OK Marked to be deleted.');
  a.close();
  await waitFor(() => env.log.lines.some((l) => l.includes('Disconnected: Connection closed top=')));
  assert.equal((await (await env.store()).status('INBOX')).messages, 3);
  const b = await login(port);
  assert.equal(await b.cmd('DELE 1'), '+OK Marked to be deleted.');
  assert.equal(await b.cmd('QUIT'), '+OK Logging out, messages deleted.');
  await waitFor(async () => (await (await env.store()).status('INBOX')).messages === 2);
});

test('half-closed client: QUIT then FIN still gets its reply and the deletion', async (t) => {
  const { env, port } = await start(t, {}, ['107-lf-only-plain']);
  const c = await login(port);
  c.write('DELE 1\r\nQUIT\r\n');
  c.socket.end();
  assert.equal(await c.line(), '+OK Marked to be deleted.');
  assert.equal(await c.line(), '+OK Logging out, messages deleted.');
  await waitFor(async () => (await (await env.store()).status('INBOX')).messages === 0);
});

test('over-long lines: 1032 octets before login, 2049 after; exact limits accepted', async (t) => {
  const { port } = await start(t, {}, []);
  const ok = await Pop3Client.connect(port);
  await ok.line();
  assert.equal(await ok.cmd(`X${'a'.repeat(1031 - 3)}`), '-ERR Unknown command.');
  ok.close();
  const a = await Pop3Client.connect(port);
  await a.line();
  a.write(`X${'a'.repeat(1032 - 3)}\r\n`);
  assert.equal(await a.rest(), '-ERR Input buffer full, aborting\r\n');
  const b = await login(port);
  assert.equal(await b.cmd(`NOOP ${'a'.repeat(2048 - 7)}`), '+OK');
  b.write(`NOOP ${'a'.repeat(2049 - 7)}\r\n`);
  assert.equal(await b.rest(), '-ERR Input line too long.\r\n');
  const c = await Pop3Client.connect(port);
  await c.line();
  c.write('a'.repeat(100_000));
  assert.equal(await c.rest(), '-ERR Input buffer full, aborting\r\n');
});

test('STLS from an insecure peer: CAPA before/after, login over TLS, log says TLS', async (t) => {
  const { env, port } = await start(t, {}, ['107-lf-only-plain']);
  const c = await Pop3Client.connect(port, { localAddress: '127.0.0.2' });
  await c.line();
  assert.equal((await c.cmdMulti('CAPA')).toString(), '+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nSASL\r\n.\r\n');
  assert.equal(await c.cmd('USER alice'), '-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.');
  c.write('STLS\r\nCAPA\r\n');
  assert.equal(await c.line(), '+OK Begin TLS negotiation now.');
  await c.startTls();
  assert.equal((await c.cmdMulti('CAPA')).toString(), '+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n', 'the pipelined CAPA was discarded');
  assert.equal(await c.cmd('USER alice'), '+OK');
  assert.equal(await c.cmd('PASS secret'), '+OK Logged in.');
  assert.equal(await c.cmd('QUIT'), '+OK Logging out.');
  await waitFor(() => env.log.lines.some((l) => /Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.2, lip=127\.0\.0\.1, mpid=4242, TLS, session=/.test(l)));
});

test('pop3s: implicit TLS greeting, no STLS in CAPA, STLS refused', async (t) => {
  const { tlsPort } = await start(t, {}, []);
  const c = await Pop3Client.connect(tlsPort, { tls: true });
  assert.equal(await c.line(), '+OK Dovecot (Debian) ready.');
  assert.equal((await c.cmdMulti('CAPA')).toString(), '+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n');
  assert.equal(await c.cmd('STLS'), '-ERR TLS is already active.');
  assert.equal(await c.cmd('QUIT'), '+OK Logging out');
});

test('idle timeout before and after login', async (t) => {
  const { env, port } = await start(t, { settings: { postern_pop3_login_idle_timeout: '150 ms', postern_pop3_idle_timeout: '150 ms' } }, []);
  const a = await Pop3Client.connect(port);
  await a.line();
  assert.equal(await a.rest(), '-ERR Disconnected for inactivity.\r\n');
  const b = await login(port);
  assert.equal(await b.rest(), '-ERR Disconnected for inactivity.\r\n');
  await waitFor(() => env.log.lines.some((l) => l.includes('Disconnected: Inactivity (no auth attempts')));
});

test('server.close() ends sessions without deleting', async (t) => {
  const { env, server, port } = await start(t, {}, ['107-lf-only-plain']);
  const c = await login(port);
  assert.equal(await c.cmd('DELE 1'), '+OK Marked to be deleted.');
  await server.close();
  assert.equal(await c.rest(), '-ERR [SYS/TEMP] Server shutting down.\r\n');
  assert.equal((await (await env.store()).status('INBOX')).messages, 1);
});

const PYTHON = spawnSync('python3', ['-c', 'import poplib'], { encoding: 'utf8' }).status === 0;

test('Python poplib: stat, list, uidl, retr, top, dele, quit (and STLS)', { skip: PYTHON ? false : 'python3 with poplib not available' }, async (t) => {
  const { env, port, raws } = await start(t, {}, ['107-lf-only-plain', '109-lf-only-dots', '098-dot-last-line-no-newline']);
  const script = `
import poplib, sys, json, ssl
p = poplib.POP3('127.0.0.1', ${port}, timeout=10)
out = {'welcome': p.getwelcome().decode()}
out['capa'] = sorted(p.capa().keys())
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p.stls(context=ctx)
p.user('alice'); p.pass_('secret')
out['stat'] = list(p.stat())
out['list'] = [x.decode() for x in p.list()[1]]
out['uidl'] = [x.decode() for x in p.uidl()[1]]
out['retr'] = [b'\\n'.join(p.retr(i)[1]).decode('latin1') for i in (1, 2, 3)]
out['top'] = b'\\n'.join(p.top(2, 1)[1]).decode('latin1')
p.dele(1)
out['quit'] = p.quit().decode()
print(json.dumps(out))
`;
  const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn('python3', ['-c', script]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code: number | null) => resolve({ code, out, err }));
  });
  assert.equal(r.code, 0, r.err);
  const got = JSON.parse(r.out) as Record<string, unknown>;
  assert.equal(got['welcome'], '+OK Dovecot (Debian) ready.');
  assert.deepEqual(got['capa'], ['AUTH-RESP-CODE', 'CAPA', 'PIPELINING', 'RESP-CODES', 'SASL', 'STLS', 'TOP', 'UIDL', 'USER']);
  // poplib strips line ends and undoes dot-stuffing; what it gives back is the message with LF-joined lines.
  const asLines = (b: Buffer) => b.toString('latin1').replace(/\r\n/g, '\n').replace(/\n$/, '');
  assert.deepEqual(got['retr'], raws.map(asLines));
  assert.equal(got['quit'], '+OK Logging out, messages deleted.');
  await waitFor(async () => (await (await env.store()).status('INBOX')).messages === 2);
});

