/*
 * "Honoured" stays true for the MDA, as test/mta/params-honoured.test.ts keeps it for the MTA: every
 * setting mda/settings.ts declares in MDA_SETTINGS or POSTERN_SETTINGS must be read by the MDA's code,
 * and every Dovecot setting the code reads must be declared there (not in MDA_ACCEPTED_SETTINGS).
 *
 * The reads are recorded, not guessed. readMdaSettings reads every setting up front, so reads of the
 * configuration say nothing; two observers do:
 *  - mda/settings.ts setSettingReadObserver: each read of a property of an object readMdaSettings
 *    returned (`s.mail_location`), whenever it happens (at start, at login, per delivery);
 *  - shared/config/dovecot/config.ts setDovecotConfigReadObserver: each top-level setting code asks a
 *    DovecotConfig for directly (`cfg.get('base_dir')`, doveadm's `ctx.setting('mail_uid')`).
 * Exercised: the daemon (startMda, in a child process with both observers preloaded, as the real daemon
 * runs: as root it drops to mail_uid) on a dovecot.conf with lmtp, imap, imaps, pop3, pop3s, auth, the
 * quota plugin and namespace mailboxes: an LMTP delivery, IMAP (plain, STARTTLS, implicit TLS) and POP3
 * sessions, an auth-client handshake, SIGHUP reload (`doveadm reload`), `doveadm stop`; and doveadm in
 * this process: user, auth test/lookup, mailbox list/status, fetch, search, flags, quota get, who.
 * doveconf is not run: it prints every setting by design. A setting only some untested path reads would
 * fail the first test: exercise the path here, or move the setting to MDA_ACCEPTED_SETTINGS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setDovecotConfigReadObserver } from '../../shared/config/dovecot/config.js';
import { GLOBAL_SETTINGS } from '../../shared/config/dovecot/catalogue-data.js';
import { makeSelfSigned } from '../../shared/tls/selfsigned.js';
import {
  MDA_ACCEPTED_SETTINGS, MDA_SETTINGS, POSTERN_SETTINGS, SETTINGS_ENUMERATED, isHonouredSetting, setSettingReadObserver,
} from '../../mda/settings.js';
import { doveadm } from '../../mda/cli/doveadm.js';
import { makeTraversable } from '../helpers/postfix-instance.js';
import { freePort } from '../helpers/free-port.js';
import { TestClient } from './imap/server/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CATALOGUE = new Set(GLOBAL_SETTINGS.map(([n]) => n));
/** Every top-level setting name read in the daemon (child) or by the tools (here). */
const reads = new Set<string>();
const record = (name: string): void => void reads.add(name);

const USER = 'u1@test.example';
const PASSWORD = 'secret';
const HOMELESS = 'u2@test.example';
const MESSAGE = 'From: alice@example.org\r\nTo: u1@test.example\r\nSubject: settings\r\nMessage-ID: <settings@test>\r\n\r\nHello.\r\n';

interface Setup {
  dir: string;
  conf: string;
  lmtpSocket: string;
  authSocket: string;
  ports: { imap: number; imaps: number; pop3: number; pop3s: number };
}

async function writeConfig(dir: string): Promise<Setup> {
  makeTraversable(dir);
  const root = process.getuid?.() === 0;
  const uid = root ? 65534 : process.getuid?.() ?? 1000;
  const gid = root ? 65534 : process.getgid?.() ?? 1000;
  const mailRoot = join(dir, 'mail');
  mkdirSync(mailRoot, { mode: 0o755 });
  if (root) chownSync(mailRoot, uid, gid);
  const users = join(dir, 'users');
  // HOMELESS has no userdb home: `doveadm user` shows mail_home for it.
  writeFileSync(users, `${USER}:{PLAIN}${PASSWORD}:${uid}:${gid}::${mailRoot}/${USER}::\n${HOMELESS}:{PLAIN}${PASSWORD}:${uid}:${gid}::::\n`, { mode: 0o644 });
  const { certPem, keyPem } = makeSelfSigned({ commonName: 'mail.test.example', bits: 1024 });
  writeFileSync(join(dir, 'cert.pem'), certPem);
  writeFileSync(join(dir, 'key.pem'), keyPem, { mode: 0o600 });
  const ports = { imap: await freePort(), imaps: await freePort(), pop3: await freePort(), pop3s: await freePort() };
  const lmtpSocket = join(dir, 'run', 'lmtp');
  const authSocket = join(dir, 'run', 'auth-client');
  const conf = join(dir, 'dovecot.conf');
  // Mostly defaults; set only what the run needs (paths, ports, users) and what turns code paths on.
  writeFileSync(conf, `base_dir = ${dir}/run
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/info.log
debug_log_path = ${dir}/debug.log
protocols = lmtp imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
hostname = mail.test.example
mail_location = maildir:~/Maildir
${root ? `mail_uid = ${uid}\nmail_gid = ${gid}\n` : ''}first_valid_uid = ${Math.min(uid, 100)}
auth_mechanisms = plain login
disable_plaintext_auth = no
mail_plugins = quota
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = create
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${users}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${users}
}
service lmtp {
  unix_listener ${lmtpSocket} {
    mode = 0666
  }
}
service auth {
  unix_listener ${authSocket} {
    mode = 0666
  }
}
service imap-login {
  inet_listener imap {
    port = ${ports.imap}
  }
  inet_listener imaps {
    port = ${ports.imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    port = ${ports.pop3s}
    ssl = yes
  }
}
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=100M
}
`);
  return { dir, conf, lmtpSocket, authSocket, ports };
}

const MAIN_JS = new URL('../../mda/main.js', import.meta.url).href;
const SETTINGS_JS = new URL('../../mda/settings.js', import.meta.url).href;
const CONFIG_JS = new URL('../../shared/config/dovecot/config.js', import.meta.url).href;

/**
 * The daemon, in a child as in production (as root, startMda drops the process to mail_uid), with both
 * observers set before it starts. SIGHUP reloads; SIGTERM stops and prints the reads as one JSON line
 * on stdout (a pipe: writable whatever uid the child ends up with).
 */
const CHILD = `data:text/javascript,${encodeURIComponent([
  `import { startMda } from ${JSON.stringify(MAIN_JS)};`,
  `import { setSettingReadObserver } from ${JSON.stringify(SETTINGS_JS)};`,
  `import { setDovecotConfigReadObserver } from ${JSON.stringify(CONFIG_JS)};`,
  'const seen = new Set();',
  'setSettingReadObserver((n) => seen.add(n));',
  'setDovecotConfigReadObserver((n) => seen.add(n));',
  'const mda = await startMda({ configPath: process.env.POSTERN_TEST_CONF, handleSignals: false });',
  "process.on('SIGHUP', () => mda.reload());",
  "process.on('SIGTERM', () => void mda.stop().then(() => { process.stdout.write(JSON.stringify([...seen]) + '\\n'); process.exit(0); }));",
  "process.stdout.write('started\\n');",
].join('\n'))}`;

interface Child {
  stdout: () => string;
  exited: Promise<void>;
}

async function startChild(s: Setup): Promise<Child> {
  const p = spawn(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(CHILD)});`], {
    env: { ...process.env, POSTERN_TEST_CONF: s.conf },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  p.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const deadline = Date.now() + 20_000;
  while (!out.includes('started\n')) {
    if (p.exitCode !== null || Date.now() > deadline) throw new Error(`MDA did not start: ${err}\n${out}`);
    await sleep(50);
  }
  after(() => {
    if (p.exitCode === null) p.kill('SIGKILL');
  });
  return { stdout: () => out, exited };
}

/** One line-protocol session (LMTP, POP3, auth): send each line after the reply to the previous one. */
async function lines(target: string | number, script: readonly (string | RegExp)[]): Promise<string> {
  const sock = typeof target === 'string' ? connect(target) : connect(target, '127.0.0.1');
  let buf = '';
  sock.on('data', (d: Buffer) => (buf += d.toString('latin1')));
  sock.on('error', () => undefined);
  try {
    for (const step of script) {
      if (typeof step === 'string') {
        sock.write(step);
        continue;
      }
      const end = Date.now() + 10_000;
      while (!step.test(buf)) {
        if (Date.now() > end) throw new Error(`timeout waiting for ${step}; have ${JSON.stringify(buf)}`);
        await sleep(10);
      }
    }
    return buf;
  } finally {
    sock.destroy();
  }
}

async function imapSession(port: number, opts: { tls?: boolean; starttls?: boolean } = {}): Promise<void> {
  const c = await TestClient.connect(port, opts.tls ? { tls: true } : {});
  try {
    assert.match(c.greeting, /^\* OK /);
    if (opts.starttls) {
      assert.match((await c.cmd('t', 'STARTTLS')).at(-1)!, /^t OK/);
      await c.startTls();
    }
    await c.cmd('c', 'CAPABILITY');
    await c.cmd('i', 'ID NIL');
    await c.login(USER);
    await c.cmd('c2', 'CAPABILITY');
    await c.cmd('n', 'NAMESPACE');
    await c.cmd('l', 'LIST "" "*"');
    await c.cmd('q', 'GETQUOTAROOT INBOX');
    const sel = await c.cmd('s', 'SELECT INBOX');
    assert.match(sel.at(-1)!, /^s OK/, sel.join('\n'));
    await c.cmd('f', 'FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE BODY[])');
    await c.cmd('se', 'SEARCH ALL');
    await c.cmd('a', 'APPEND INBOX {5}\r\nhello');
    await c.cmd('cp', 'COPY 1 Trash');
    await c.cmd('st', 'STORE 1 +FLAGS (\\Seen)');
    c.send('id IDLE\r\n');
    await c.line();
    c.send('DONE\r\n');
    await c.until('id');
    await c.cmd('x', 'EXPUNGE');
    await c.cmd('o', 'LOGOUT');
  } finally {
    c.close();
  }
}

async function exerciseDaemon(s: Setup): Promise<void> {
  const child = await startChild(s);
  const lmtp = await lines(s.lmtpSocket, [
    /^220 .*\r\n/, 'LHLO client.test\r\n', /250 [^\r\n]*\r\n$/,
    'MAIL FROM:<alice@example.org>\r\n', /250 [^\r\n]*\r\n$/,
    `RCPT TO:<${USER}>\r\n`, /250 [^\r\n]*\r\n$/,
    'RCPT TO:<u1+detail@test.example>\r\n', /\r\n[245]\d\d [^\r\n]*\r\n$/,
    'RCPT TO:<nobody@test.example>\r\n', /\r\n550 [^\r\n]*\r\n$/,
    'DATA\r\n', /354 [^\r\n]*\r\n$/,
    `${MESSAGE}.\r\n`, /Saved\r\n(?:[^\r\n]*\r\n)*$/,
    'QUIT\r\n', /221 [^\r\n]*\r\n$/,
  ]);
  assert.match(lmtp, /Saved/);
  await imapSession(s.ports.imap, { starttls: true });
  await imapSession(s.ports.imaps, { tls: true });
  await imapSession(s.ports.imap);
  await lines(s.ports.pop3, [
    /^\+OK[^\r\n]*\r\n/, 'CAPA\r\n', /\r\n\.\r\n$/, `USER ${USER}\r\n`, /\+OK[^\r\n]*\r\n$/, `PASS ${PASSWORD}\r\n`, /Logged in\.\r\n$/,
    'STAT\r\n', /\+OK[^\r\n]*\r\n$/, 'LIST\r\n', /\r\n\.\r\n$/, 'UIDL\r\n', /\r\n\.\r\n$/, 'TOP 1 0\r\n', /\r\n\.\r\n$/,
    'RETR 1\r\n', /\r\n\.\r\n$/, 'LAST\r\n', /\r\n$/, 'DELE 2\r\n', /\r\n$/, 'QUIT\r\n', /\r\n$/,
  ]);
  const pop3s = await TestClient.connect(s.ports.pop3s, { tls: true });
  assert.match(pop3s.greeting, /^\+OK/);
  pop3s.send('AUTH PLAIN\r\n');
  await pop3s.line();
  pop3s.send(`${Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64')}\r\n`);
  assert.match(await pop3s.line(), /^\+OK Logged in/);
  pop3s.send('QUIT\r\n');
  await pop3s.line();
  pop3s.close();
  await lines(s.authSocket, [
    'VERSION\t1\t2\nCPID\t4242\n', /\nDONE\n$/,
    `AUTH\t1\tPLAIN\tservice=imap\tresp=${Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64')}\n`, /\n(OK|FAIL)\t1[^\n]*\n$/,
    `AUTH\t2\tPLAIN\tservice=imap\tresp=${Buffer.from(`\0${USER}\0wrong`).toString('base64')}\n`, /\n(OK|FAIL)\t2[^\n]*\n$/,
  ]);
  await exerciseTools(s, true);
  const stdout = child.stdout();
  const doveadmIo = { stdout: () => undefined, stderr: () => undefined };
  assert.equal(await doveadm(['-c', s.conf, 'reload'], doveadmIo), 0);
  for (let i = 0; i < 100 && !readFileSync(join(s.dir, 'dovecot.log'), 'utf8').includes('reloading'); i++) await sleep(50);
  // One more delivery after the reload: the reloaded settings are read too.
  await lines(s.lmtpSocket, [/^220 .*\r\n/, 'LHLO c\r\n', /250 [^\r\n]*\r\n$/, 'QUIT\r\n', /221 [^\r\n]*\r\n$/]);
  assert.equal(await doveadm(['-c', s.conf, 'stop'], doveadmIo), 0);
  await Promise.race([child.exited, sleep(10_000)]);
  const out = child.stdout().slice(stdout.length).trim().split('\n').at(-1) ?? '';
  for (const n of JSON.parse(out) as string[]) record(n);
}

/** doveadm in this process (as root it switches its effective uid per user, as Dovecot's does). */
async function exerciseTools(s: Setup, daemonRunning: boolean): Promise<void> {
  const previous = [setSettingReadObserver(record), setDovecotConfigReadObserver(record)] as const;
  try {
    const io = { stdout: () => undefined, stderr: () => undefined, env: { USER } };
    const run = async (...args: string[]) => doveadm(['-c', s.conf, ...args], io);
    await run('user', USER);
    await run('user', HOMELESS);
    await run('user', 'nobody@test.example');
    await run('auth', 'test', USER, PASSWORD);
    await run('auth', 'lookup', USER);
    await run('mailbox', 'list', '-u', USER);
    await run('mailbox', 'status', '-u', USER, 'all', 'INBOX');
    await run('mailbox', 'create', '-u', USER, 'Archive');
    await run('fetch', '-u', USER, 'uid flags text', 'mailbox', 'INBOX', 'all');
    await run('search', '-u', USER, 'mailbox', 'INBOX', 'all');
    await run('flags', 'add', '-u', USER, '\\Flagged', 'mailbox', 'INBOX', 'all');
    await run('quota', 'get', '-u', USER);
    if (daemonRunning) await run('who');
  } finally {
    setSettingReadObserver(previous[0]);
    setDovecotConfigReadObserver(previous[1]);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'postern-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  const s = await writeConfig(dir);
  await exerciseDaemon(s);
});

/**
 * Reads on a path this test cannot run, checked statically instead: the source file must still name the
 * setting. (None today: as root the child drops to mail_uid, so the privilege paths run too.)
 */
const UNEXERCISED: Record<string, { file: string; why: string }> = {};
const TOP = fileURLToPath(new URL('../../../', import.meta.url));

test('the reads this test cannot exercise are still in the source', () => {
  for (const [name, { file, why }] of Object.entries(UNEXERCISED)) {
    assert.ok(readFileSync(join(TOP, file), 'utf8').includes(name), `${name} (${why}) is no longer read in ${file}`);
  }
});

test('no settings object was enumerated or spread (its reads would all count)', () => {
  assert.ok(!reads.has(SETTINGS_ENUMERATED), 'a readMdaSettings() result was spread or enumerated: copy the properties you need by name');
});

test('every setting MDA_SETTINGS and POSTERN_SETTINGS claim as honoured is read by the MDA', () => {
  const unread = [...Object.keys(MDA_SETTINGS), ...Object.keys(POSTERN_SETTINGS)].filter((n) => !reads.has(n) && UNEXERCISED[n] === undefined);
  assert.deepEqual(unread, [], `claimed as honoured but never read (exercise the path in this test, or move them to MDA_ACCEPTED_SETTINGS): ${unread.join(' ')}`);
});

test('every Dovecot setting the MDA reads is declared in MDA_SETTINGS', () => {
  const undeclared = [...reads].filter((n) => CATALOGUE.has(n) && !isHonouredSetting(n)).sort();
  assert.deepEqual(undeclared, [], `read by the MDA but not declared in mda/settings.ts MDA_SETTINGS: ${undeclared.join(' ')}`);
});

test('the two groups are disjoint Dovecot settings with their real defaults, and the accepted ones are not read', () => {
  const defaults = new Map(GLOBAL_SETTINGS);
  for (const [name, a] of Object.entries(MDA_ACCEPTED_SETTINGS)) {
    assert.ok(CATALOGUE.has(name), name);
    assert.equal(a.default, defaults.get(name), name);
    assert.ok(!isHonouredSetting(name), `${name} is in both groups`);
    assert.ok(!reads.has(name), `${name} is read: move it to MDA_SETTINGS`);
    assert.ok(a.note.length > 0 && !a.note.includes('\n'), name);
  }
});

test('the recording is not vacuous', () => {
  for (const n of ['base_dir', 'log_path', 'protocols', 'mail_location', 'first_valid_uid', 'login_greeting', 'pop3_uidl_format', 'imap_max_line_length', 'auth_mechanisms', 'ssl_cert', 'postern_lmtp_max_message_size', 'lmtp_hdr_delivery_address']) {
    assert.ok(reads.has(n), n);
  }
});
