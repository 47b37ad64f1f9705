/*
 * The auth socket server end to end over real Unix sockets, with our protocol state machines:
 * transcript §6 (auth-client) and §7 (auth-userdb) replayed, malformed input (FAIL or disconnect
 * as Dovecot does), bounded lines, failure delay without wall-clock assertions, CRAM-MD5; and
 * real `doveadm user -a` against our auth-userdb socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createHmac } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from '../../helpers/tmp.js';
import { oracleSkip, findOracle } from '../../helpers/oracle.js';
import { AuthService } from '../../../mda/auth/auth-service.js';
import { authSettingsFromText, type AuthSettings } from '../../../mda/auth/settings.js';
import { passwdFilePassdb, passwdFileUserdb, parsePasswdFileArgs } from '../../../mda/auth/passwd-file.js';
import { staticUserdb } from '../../../mda/auth/static-userdb.js';
import { startAuthServer } from '../../../mda/auth/server.js';

const T = '\t';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

class LineClient {
  private buf = '';
  private lines: string[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      const parts = this.buf.split('\n');
      this.buf = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  static async open(path: string): Promise<LineClient> {
    const s = connect(path);
    await new Promise<void>((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    return new LineClient(s);
  }
  send(...lines: string[]): void {
    this.sock.write(lines.map((l) => `${l}\n`).join(''));
  }
  async line(timeoutMs = 10_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('closed');
      const left = end - Date.now();
      if (left <= 0) throw new Error('timeout waiting for a line');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.lines.shift()!;
  }
  async untilClosed(timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > end) throw new Error('not closed');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  close(): void {
    this.sock.destroy();
  }
}

interface Setup {
  dir: string;
  client: string;
  userdb: string;
  logs: string[];
}

async function setup(t: TestContext, settings: Partial<Record<keyof AuthSettings, string>> = {}, useStatic = false): Promise<Setup> {
  const dir = tempDir(t, 'postern-authsock-');
  const users = join(dir, 'users');
  writeFileSync(users, [
    '# test users',
    'alice@example.org:{SHA256-CRYPT}$5$Z8YQKiyhVPWxb72K$3pA/csZKrTzcol6DgBjWVz2AJ2/YbOoQjcfacn39te1:8:8::/srv/mail/alice::',
    'bob@example.org:{PLAIN}secret:8:8::/srv/mail/bob::userdb_quota_rule=*:storage=1M',
    'carol@example.org:{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56:8:8::/srv/mail/carol::nodelay',
    'broken@example.org:{NOSUCH}x:8:8::/srv/mail/broken::',
    '',
  ].join('\n'));
  const logs: string[] = [];
  const log = { info: (s: string) => logs.push(`Info: ${s}`), error: (s: string) => logs.push(`Error: ${s}`) };
  const args = parsePasswdFileArgs(`scheme=CRYPT username_format=%u ${users}`);
  const passdb = passwdFilePassdb(args);
  const service = new AuthService({
    settings: authSettingsFromText({ auth_mechanisms: 'plain login cram-md5', auth_failure_delay: '0', auth_verbose: 'yes', hostname: 'mail.test', ...settings }),
    passdbs: [{ db: passdb }],
    userdbs: useStatic
      ? [{ db: staticUserdb('uid=8 gid=8 home=/var/vmail/%d/%n', [passdb]) }]
      : [{ db: passwdFileUserdb(args), default_fields: 'mail=maildir:~/Maildir' }],
    log,
  });
  const client = join(dir, 'auth-client');
  const userdb = join(dir, 'auth-userdb');
  const server = await startAuthServer({
    service,
    listeners: [{ kind: 'auth-client', path: client, mode: 0o666 }, { kind: 'auth-userdb', path: userdb, mode: 0o666 }],
    log,
  });
  t.after(() => server.close());
  return { dir, client, userdb, logs };
}

async function handshake(c: LineClient): Promise<string[]> {
  const got: string[] = [];
  for (;;) {
    const l = await c.line();
    got.push(l);
    if (l === 'DONE') return got;
  }
}

test('auth-client handshake and the transcript §6 exchange', async (t) => {
  const s = await setup(t);
  const c = await LineClient.open(s.client);
  t.after(() => c.close());
  c.send(`VERSION${T}1${T}2`, `CPID${T}14220`);
  const hs = await handshake(c);
  assert.deepEqual(hs.slice(0, 4), [`VERSION${T}1${T}2`, `MECH${T}PLAIN${T}plaintext`, `MECH${T}LOGIN${T}plaintext`, `MECH${T}CRAM-MD5${T}dictionary${T}active`]);
  assert.match(hs[4]!, /^SPID\t\d+$/);
  assert.match(hs[5]!, /^CUID\t\d+$/);
  assert.match(hs[6]!, /^COOKIE\t[0-9a-f]{32}$/);

  c.send(`AUTH${T}1${T}PLAIN${T}service=smtp${T}nologin${T}lip=127.0.0.1${T}rip=127.0.0.2${T}secured${T}resp=${b64('\0alice@example.org\0secret')}`);
  assert.equal(await c.line(), `OK${T}1${T}user=alice@example.org`);
  c.send(`AUTH${T}2${T}PLAIN${T}service=smtp${T}nologin${T}lip=127.0.0.1${T}rip=127.0.0.2${T}resp=${b64('\0alice@example.org\0wrong')}`);
  assert.equal(await c.line(), `FAIL${T}2${T}user=alice@example.org`);
  c.send(`AUTH${T}3${T}LOGIN${T}service=smtp${T}nologin${T}lip=127.0.0.1${T}rip=127.0.0.2`);
  assert.equal(await c.line(), `CONT${T}3${T}VXNlcm5hbWU6`);
  c.send(`CONT${T}3${T}${b64('bob@example.org')}`);
  assert.equal(await c.line(), `CONT${T}3${T}UGFzc3dvcmQ6`);
  c.send(`CONT${T}3${T}${b64('secret')}`);
  assert.equal(await c.line(), `OK${T}3${T}user=bob@example.org`);
  c.send(`AUTH${T}4${T}PLAIN${T}service=smtp`);
  assert.equal(await c.line(), `CONT${T}4${T}`);
  c.send(`CONT${T}4${T}${b64('\0alice@example.org\0secret')}`);
  assert.equal(await c.line(), `OK${T}4${T}user=alice@example.org`);

  // Errors that Dovecot answers with FAIL and keeps the connection.
  c.send(`AUTH${T}5${T}PLAIN${T}service=smtp${T}resp=***`);
  assert.equal(await c.line(), `FAIL${T}5${T}reason=Invalid base64 data in initial response`);
  c.send(`CONT${T}77${T}AAAA`);
  assert.equal(await c.line(), `FAIL${T}77${T}reason=Authentication request timed out`);
  c.send(`AUTH${T}6${T}PLAIN${T}service=smtp${T}resp=${b64('no nuls here')}`);
  assert.equal(await c.line(), `FAIL${T}6`);
  c.send(`AUTH${T}7${T}PLAIN${T}service=smtp${T}resp=${b64('\0bad user\0secret')}`);
  assert.equal(await c.line(), `FAIL${T}7`);
  c.send(`AUTH${T}8${T}PLAIN${T}service=smtp${T}resp=${b64('\0broken@example.org\0x')}`);
  assert.equal(await c.line(), `FAIL${T}8${T}user=broken@example.org${T}code=temp_fail${T}reason=Temporary authentication failure.${T}temp`);
  c.send(`AUTH${T}9${T}PLAIN${T}service=smtp${T}resp=${b64('admin\0bob@example.org\0secret')}`);
  assert.equal(await c.line(), `FAIL${T}9${T}user=bob@example.org`);

  // Unsupported mechanism: Dovecot logs a BUG line and drops the connection.
  c.send(`AUTH${T}10${T}DIGEST-MD5${T}service=smtp`);
  await c.untilClosed();
  assert.ok(s.logs.includes('Error: BUG: Authentication client 14220 requested unsupported authentication mechanism DIGEST-MD5'), s.logs.join('\n'));
  assert.ok(s.logs.includes('Info: passwd-file(alice@example.org,127.0.0.2): Password mismatch'), s.logs.join('\n'));
  assert.ok(s.logs.some((l) => l.startsWith('Error: passwd-file(broken@example.org,): Unknown scheme NOSUCH')), s.logs.join('\n'));
  assert.ok(!s.logs.some((l) => l.includes('secret')), 'no passwords in logs');
});

test('auth-client: CRAM-MD5 from plaintext and from the {CRAM-MD5} stored form', async (t) => {
  const s = await setup(t);
  const c = await LineClient.open(s.client);
  t.after(() => c.close());
  c.send(`VERSION${T}1${T}2`, `CPID${T}1`);
  await handshake(c);
  for (const [id, user] of [[1, 'bob@example.org'], [2, 'carol@example.org']] as const) {
    c.send(`AUTH${T}${id}${T}CRAM-MD5${T}service=imap`);
    const cont = (await c.line()).split(T);
    assert.equal(cont[0], 'CONT');
    const challenge = Buffer.from(cont[2]!, 'base64').toString();
    assert.match(challenge, /^<\d+\.\d+@mail\.test>$/);
    const digest = createHmac('md5', 'secret').update(challenge).digest('hex');
    c.send(`CONT${T}${id}${T}${b64(`${user} ${digest}`)}`);
    assert.equal(await c.line(), `OK${T}${id}${T}user=${user}`);
  }
  c.send(`AUTH${T}3${T}CRAM-MD5${T}service=imap`);
  await c.line();
  c.send(`CONT${T}3${T}${b64(`alice@example.org ${'0'.repeat(32)}`)}`);
  assert.equal(await c.line(), `FAIL${T}3${T}user=alice@example.org`);
});

const DISCONNECTS: [string, string[]][] = [
  ['wrong major version', [`VERSION${T}2${T}0`]],
  ['no VERSION first', [`CPID${T}1`]],
  ['no CPID after VERSION', [`VERSION${T}1${T}2`, `AUTH${T}1${T}PLAIN${T}service=smtp`]],
  ['unknown command', [`VERSION${T}1${T}2`, `CPID${T}1`, 'HELLO']],
  ['broken AUTH', [`VERSION${T}1${T}2`, `CPID${T}1`, `AUTH${T}x${T}PLAIN`]],
  ['missing service', [`VERSION${T}1${T}2`, `CPID${T}1`, `AUTH${T}1${T}PLAIN`]],
  ['duplicate id', [`VERSION${T}1${T}2`, `CPID${T}1`, `AUTH${T}1${T}PLAIN${T}service=smtp`, `AUTH${T}1${T}PLAIN${T}service=smtp`]],
  ['too long line', [`VERSION${T}1${T}2`, `CPID${T}1`, `AUTH${T}1${T}PLAIN${T}service=smtp${T}resp=${'A'.repeat(20000)}`]],
];

for (const [name, lines] of DISCONNECTS) {
  test(`auth-client disconnects on ${name}`, async (t) => {
    const s = await setup(t);
    const c = await LineClient.open(s.client);
    t.after(() => c.close());
    c.send(...lines);
    await c.untilClosed();
    // The service survives: a new connection still works.
    const c2 = await LineClient.open(s.client);
    t.after(() => c2.close());
    c2.send(`VERSION${T}1${T}2`, `CPID${T}2`, `AUTH${T}1${T}PLAIN${T}service=smtp${T}resp=${b64('\0bob@example.org\0secret')}`);
    await handshake(c2);
    assert.equal(await c2.line(), `OK${T}1${T}user=bob@example.org`);
  });
}

test('auth-client: a failure is delayed, nodelay and CONT during the delay', async (t) => {
  const s = await setup(t, { auth_failure_delay: '300 msecs' });
  const c = await LineClient.open(s.client);
  t.after(() => c.close());
  c.send(`VERSION${T}1${T}2`, `CPID${T}1`);
  await handshake(c);
  c.send(`AUTH${T}1${T}PLAIN${T}service=smtp${T}resp=${b64('\0bob@example.org\0wrong')}`);
  c.send(`AUTH${T}2${T}PLAIN${T}service=smtp${T}resp=${b64('\0carol@example.org\0wrong')}`);
  // carol has `nodelay`: her FAIL overtakes bob's delayed one (ordering, not timing, is asserted).
  assert.equal(await c.line(), `FAIL${T}2${T}user=carol@example.org`);
  c.send(`AUTH${T}3${T}PLAIN${T}service=smtp${T}resp=${b64('\0bob@example.org\0secret')}`);
  assert.equal(await c.line(), `OK${T}3${T}user=bob@example.org`);
  assert.equal(await c.line(), `FAIL${T}1${T}user=bob@example.org`);
  c.send(`AUTH${T}4${T}PLAIN${T}service=smtp${T}resp=${b64('\0bob@example.org\0wrong')}`);
  c.send(`CONT${T}4${T}AAAA`);
  assert.equal(await c.line(), `FAIL${T}4${T}reason=Unexpected continuation`);
});

test('auth-client: pending requests are bounded', async (t) => {
  const s = await setup(t, { auth_failure_delay: '10 secs', postern_auth_max_pending_requests: '2' });
  const c = await LineClient.open(s.client);
  t.after(() => c.close());
  c.send(`VERSION${T}1${T}2`, `CPID${T}1`);
  await handshake(c);
  c.send(`AUTH${T}1${T}LOGIN${T}service=smtp`, `AUTH${T}2${T}LOGIN${T}service=smtp`, `AUTH${T}3${T}LOGIN${T}service=smtp`);
  const got = [await c.line(), await c.line(), await c.line()].sort();
  assert.deepEqual(got, [`CONT${T}1${T}VXNlcm5hbWU6`, `CONT${T}2${T}VXNlcm5hbWU6`, `FAIL${T}3${T}reason=Too many pending authentication requests${T}temp`]);
});

test('auth-client: plaintext policy is enforced only when asked (Dovecot leaves it to login processes)', async (t) => {
  const s = await setup(t, { postern_auth_enforce_plaintext_policy: 'yes' });
  const c = await LineClient.open(s.client);
  t.after(() => c.close());
  c.send(`VERSION${T}1${T}2`, `CPID${T}1`);
  await handshake(c);
  c.send(`AUTH${T}1${T}PLAIN${T}service=smtp${T}resp=${b64('\0bob@example.org\0secret')}`);
  assert.equal(await c.line(), `FAIL${T}1${T}reason=Plaintext authentication disabled.`);
  c.send(`AUTH${T}2${T}PLAIN${T}service=smtp${T}secured${T}resp=${b64('\0bob@example.org\0secret')}`);
  assert.equal(await c.line(), `OK${T}2${T}user=bob@example.org`);
});

test('auth-userdb: transcript §7 exchange', async (t) => {
  const s = await setup(t);
  const c = await LineClient.open(s.userdb);
  t.after(() => c.close());
  c.send(`VERSION${T}1${T}0`);
  assert.equal(await c.line(), `VERSION${T}1${T}1`);
  assert.match(await c.line(), /^SPID\t\d+$/);
  c.send(`USER${T}1${T}alice@example.org${T}service=lmtp`);
  assert.equal(await c.line(), `USER${T}1${T}alice@example.org${T}mail=maildir:~/Maildir${T}uid=8${T}gid=8${T}home=/srv/mail/alice`);
  c.send(`USER${T}2${T}bob@example.org${T}service=imap`);
  assert.equal(await c.line(), `USER${T}2${T}bob@example.org${T}mail=maildir:~/Maildir${T}uid=8${T}gid=8${T}home=/srv/mail/bob${T}quota_rule=*:storage=1M`);
  c.send(`USER${T}3${T}nobody@example.org${T}service=lmtp`);
  assert.equal(await c.line(), `NOTFOUND${T}3`);
  c.send(`PASS${T}4${T}alice@example.org${T}service=doveadm`);
  assert.equal(await c.line(), `PASS${T}4${T}user=alice@example.org`);
  c.send(`LIST${T}5${T}user=*`);
  const list: string[] = [];
  for (let l = await c.line(); !l.startsWith('DONE'); l = await c.line()) list.push(l);
  assert.deepEqual(list, ['alice@example.org', 'bob@example.org', 'carol@example.org', 'broken@example.org'].map((u) => `LIST${T}5${T}${u}`));
  c.send(`LIST${T}6${T}user=b*`);
  assert.equal(await c.line(), `LIST${T}6${T}bob@example.org`);
  assert.equal(await c.line(), `LIST${T}6${T}broken@example.org`);
  assert.equal(await c.line(), `DONE${T}6${T}`);
  c.send('NONSENSE');
  await c.untilClosed();
});

test('auth-userdb: static userdb checks the passdb for existence', async (t) => {
  const s = await setup(t, {}, true);
  const c = await LineClient.open(s.userdb);
  t.after(() => c.close());
  c.send(`VERSION${T}1${T}0`, `USER${T}1${T}bob@example.org${T}service=lmtp`, `USER${T}2${T}nobody@example.org${T}service=lmtp`);
  await c.line();
  await c.line();
  const replies = [await c.line(), await c.line()].sort();
  assert.deepEqual(replies, [`NOTFOUND${T}2`, `USER${T}1${T}bob@example.org${T}uid=8${T}gid=8${T}home=/var/vmail/example.org/bob`]);
});

test('interop: real doveadm user -a looks users up on our auth-userdb socket', { skip: oracleSkip('doveadm') }, async (t) => {
  const s = await setup(t);
  const conf = join(s.dir, 'dovecot.conf');
  mkdirSync(join(s.dir, 'run'));
  writeFileSync(conf, `base_dir = ${join(s.dir, 'run')}\nssl = no\nlog_path = ${join(s.dir, 'dovecot.log')}\n`);
  const doveadm = findOracle('doveadm')!;
  // Asynchronous child: our server runs in this process and must keep serving while doveadm waits.
  const { execFile } = await import('node:child_process');
  const exec = (args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
    execFile(doveadm, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, out: stdout + stderr });
    });
  });
  // -u: userdb lookup only (without it doveadm goes on to initialise mail storage for the user).
  const r = await exec(['-c', conf, 'user', '-u', '-a', s.userdb, 'bob@example.org']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^userdb: bob@example\.org$/m);
  assert.match(r.out, /^\s+uid\s+: 8$/m);
  assert.match(r.out, /^\s+home\s+: \/srv\/mail\/bob$/m);
  assert.match(r.out, /^\s+quota_rule: \*:storage=1M$/m);
  assert.match(r.out, /^\s+mail\s+: maildir:~\/Maildir$/m);
  const nf = await exec(['-c', conf, 'user', '-u', '-a', s.userdb, 'nobody@example.org']);
  assert.notEqual(nf.code, 0);
  assert.match(nf.out, /doesn't exist/);
  const list = await exec(['-c', conf, 'user', '-u', '-a', s.userdb, '*']);
  assert.equal(list.code, 0, list.out);
  assert.deepEqual(list.out.trim().split('\n').sort(), ['alice@example.org', 'bob@example.org', 'broken@example.org', 'carol@example.org']);
});
