/*
 * Issue 5 "How to prove it": real POP3 clients against our POP3 server (in-process, free port):
 * fetchmail and getmail6 download into a local maildir, "leave on server" tracks UIDLs so a second run
 * downloads nothing new and a new delivery is the only one fetched, and delete mode empties the
 * mailbox. Also: migrated mail with uidlist `O` (POP3 order) fields is listed in that order.
 * oracleSkip: a missing client fails in CI and is skipped elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPop3Server } from '../../../mda/pop3/server.js';
import { oracleSkip } from '../../helpers/oracle.js';
import { makeEnv, Pop3Client, type Env } from './helpers.js';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, ids?: { uid: number; gid: number }): Promise<{ status: number; out: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env, ...(ids ?? {}) });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('exit', (code) => resolve({ status: code ?? -1, out }));
  });
}

async function serve(t: Parameters<typeof makeEnv>[0]): Promise<{ env: Env; port: number }> {
  const env = makeEnv(t);
  const server = await startPop3Server({
    settings: env.deps.settings, listeners: [{ name: 'pop3', address: '127.0.0.1', port: 0, ssl: false }],
    auth: env.deps.auth, openStore: env.deps.openStore, log: env.log.factory, hostname: 'mail.example', pid: 4242,
  });
  t.after(() => server.close());
  return { env, port: server.listeners[0]!.boundPort };
}

const message = (n: number): string => `From: a@example.org\r\nTo: alice@example.org\r\nSubject: msg ${n}\r\nMessage-ID: <m${n}@example.org>\r\n\r\nbody ${n}\r\n`;

async function inboxCount(env: Env): Promise<number> {
  const store = await env.store();
  return (await store.status('INBOX')).messages;
}

function subjects(dir: string): string[] {
  const out: string[] = [];
  for (const sub of ['new', 'cur']) {
    for (const f of readdirSync(join(dir, sub))) out.push(/^Subject: (.*)$/m.exec(readFileSync(join(dir, sub, f), 'latin1'))?.[1]?.trim() ?? '?');
  }
  return out.sort();
}

function maildir(path: string): string {
  for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(path, s), { recursive: true });
  return path;
}

test('fetchmail: keep + UIDL downloads each message once, delete mode empties the mailbox', { skip: oracleSkip('fetchmail'), timeout: 120_000 }, async (t) => {
  const { env, port } = await serve(t);
  const store = await env.store();
  for (const n of [1, 2, 3]) await store.deliver('INBOX', Buffer.from(message(n)));
  const out = maildir(join(env.dir, 'fetched'));
  const deliverScript = join(env.dir, 'deliver.sh');
  writeFileSync(deliverScript, `#!/bin/sh\ncat > "${out}/tmp/m.$$" && mv "${out}/tmp/m.$$" "${out}/new/m.$$.$(date +%s%N)"\n`);
  chmodSync(deliverScript, 0o755);
  const rc = join(env.dir, 'fetchmailrc');
  writeFileSync(rc, `set no bouncemail\npoll 127.0.0.1 service ${port} protocol POP3 uidl auth password:\n  user "alice" there with password "secret" is "alice" here\n  mda "${deliverScript}"\n  sslproto ''\n`);
  chmodSync(rc, 0o600);
  const procEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: env.dir, FETCHMAILHOME: env.dir };
  const fetch = (extra: string[]) => run('/usr/bin/fetchmail', ['-f', rc, '--idfile', join(env.dir, 'ids'), '--nosyslog', '--pidfile', join(env.dir, 'fm.pid'), ...extra], procEnv);
  const r1 = await fetch(['--keep']);
  assert.equal(r1.status, 0, r1.out);
  assert.deepEqual(subjects(out), ['msg 1', 'msg 2', 'msg 3']);
  const r2 = await fetch(['--keep']);
  assert.equal(r2.status, 1, `second run: no new mail expected\n${r2.out}`);
  assert.deepEqual(subjects(out), ['msg 1', 'msg 2', 'msg 3']);
  assert.equal(await inboxCount(env), 3);
  await store.deliver('INBOX', Buffer.from(message(4)));
  assert.equal((await fetch(['--keep'])).status, 0);
  assert.deepEqual(subjects(out), ['msg 1', 'msg 2', 'msg 3', 'msg 4']);
  // Delete mode: --all --nokeep fetches everything again and deletes it on the server.
  const r4 = await fetch(['--all', '--nokeep']);
  assert.equal(r4.status, 0, r4.out);
  assert.equal(await inboxCount(env), 0);
  assert.equal(subjects(out).length, 8);
});

test('getmail6: leave on server tracks UIDLs (second run gets nothing), delete = true empties the mailbox', { skip: oracleSkip('getmail'), timeout: 120_000 }, async (t) => {
  const { env, port } = await serve(t);
  const store = await env.store();
  for (const n of [1, 2, 3]) await store.deliver('INBOX', Buffer.from(message(n)));
  const out = maildir(join(env.dir, 'gm'));
  const gdir = join(env.dir, 'getmail');
  mkdirSync(gdir);
  const rc = (del: boolean) => {
    const p = join(gdir, del ? 'rc-delete' : 'rc-keep');
    writeFileSync(p, `[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\nport = ${port}\nusername = alice\npassword = secret\n\n[destination]\ntype = Maildir\npath = ${out}/\n\n[options]\nread_all = ${del ? 'true' : 'false'}\ndelete = ${del ? 'true' : 'false'}\nmessage_log_syslog = false\nverbose = 1\n`);
    return p;
  };
  const procEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: gdir };
  // getmail refuses to deliver as root: run it as nobody then, owning its directories.
  const asRoot = process.getuid?.() === 0;
  const nobody = { uid: 65534, gid: 65534 };
  if (asRoot) {
    chmodSync(env.dir, 0o755);
    for (const p of [gdir, out, join(out, 'cur'), join(out, 'new'), join(out, 'tmp')]) chownSync(p, nobody.uid, nobody.gid);
  }
  const get = (del: boolean) => {
    const file = rc(del);
    if (asRoot) chownSync(file, nobody.uid, nobody.gid);
    return run('/usr/bin/getmail', ['--getmaildir', gdir, '--rcfile', file], procEnv, asRoot ? nobody : undefined);
  };
  const r1 = await get(false);
  assert.equal(r1.status, 0, r1.out);
  assert.deepEqual(subjects(out), ['msg 1', 'msg 2', 'msg 3']);
  const r2 = await get(false);
  assert.equal(r2.status, 0, r2.out);
  assert.match(r2.out, /0 messages \(0 bytes\) retrieved/);
  assert.deepEqual(subjects(out), ['msg 1', 'msg 2', 'msg 3']);
  await store.deliver('INBOX', Buffer.from(message(4)));
  await get(false);
  assert.deepEqual(subjects(out), ['msg 1', 'msg 2', 'msg 3', 'msg 4']);
  const r4 = await get(true);
  assert.equal(r4.status, 0, r4.out);
  assert.equal(await inboxCount(env), 0);
});

test('uidlist O fields (migrated POP3 order): LIST and UIDL follow them, unordered mail after', async (t) => {
  const { env, port } = await serve(t);
  const store = await env.store();
  for (const n of [1, 2, 3]) await store.deliver('INBOX', Buffer.from(message(n)));
  await store.close();
  const uidlist = join(env.maildir(), 'dovecot-uidlist');
  const lines = readFileSync(uidlist, 'latin1').split('\n');
  // uid 1 gets order 2, uid 2 order 1, uid 3 none; P fields give the migrated UIDLs.
  lines[1] = lines[1]!.replace(/^1 /, '1 O2 Pold-b ');
  lines[2] = lines[2]!.replace(/^2 /, '2 O1 Pold-a ');
  writeFileSync(uidlist, lines.join('\n'));
  const c = await Pop3Client.connect(port);
  t.after(() => c.close());
  await c.line();
  assert.match(await c.cmd('USER alice'), /^\+OK/);
  assert.equal(await c.cmd('PASS secret'), '+OK Logged in.');
  const uidl = (await c.cmdMulti('UIDL')).toString('latin1').split('\r\n');
  assert.deepEqual(uidl.slice(1, 3), ['1 old-a', '2 old-b']);
  assert.match(uidl[3]!, /^3 00000003[0-9a-f]{8}$/);
  const top = (await c.cmdMulti('TOP 1 0')).toString('latin1');
  assert.match(top, /Subject: msg 2/);
  await c.cmd('QUIT');
});
