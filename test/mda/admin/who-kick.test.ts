/*
 * doveadm who / kick against the daemon's admin socket (<base_dir>/postern-admin):
 * - the formats, byte for byte, against output captured from the real doveadm 2.3.19 for the same
 *   sessions (in-process registry with fixed pids, `who -a <socket>`);
 * - the daemon: logged-in IMAP/POP3 sessions are listed, `kick` ends them with Dovecot's texts
 *   (IMAP `* BYE Server shutting down.`, POP3 `-ERR [SYS/TEMP] Server shutting down.`) and log lines,
 *   the socket is mode 0600;
 * - interop (root, real Dovecot installed): the same logins on a private real Dovecot give the same
 *   `who -f tab` rows (pids normalised), the same kick output and the same client texts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionRegistry, maskMatch, netMatcher } from '../../../mda/admin/sessions.js';
import { startAdminServer } from '../../../mda/admin/server.js';
import { ADMIN_SOCKET_NAME } from '../../../mda/admin/protocol.js';
import { freePort } from '../../helpers/free-port.js';
import { tempDir } from '../../helpers/tmp.js';
import { startDovecot } from '../../helpers/dovecot-daemon.js';
import { oracleSkip } from '../../helpers/oracle.js';
import { startMdaDaemon } from '../lmtp/mda-daemon.js';
import { imapLogin, pop3Login, type LineClient } from './line-client.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const OURS = join(ROOT, 'bin', 'doveadm');
const REAL = '/usr/bin/doveadm';

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Asynchronous: an in-process admin server must keep answering while doveadm runs. */
function doveadm(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    c.on('error', reject);
    c.on('exit', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

test('registry: masks, nets, kick removes and calls back', () => {
  assert.ok(maskMatch('Alice@Example.org', 'alice@*'));
  assert.ok(maskMatch('u1', 'u?'));
  assert.ok(!maskMatch('u10', 'u?'));
  assert.ok(maskMatch('a.b', 'a?b'));
  assert.ok(!maskMatch('axxb', 'a.b'));
  assert.ok(netMatcher('10.0.0.0/8')!('10.1.2.3'));
  assert.ok(!netMatcher('10.0.0.0/8')!('11.1.2.3'));
  assert.equal(netMatcher('u1'), undefined);
  const r = new SessionRegistry();
  const kicked: string[] = [];
  const add = (user: string, ip: string) => r.register({ user, service: 'imap', pid: 1, ip, session: user, kick: () => kicked.push(user) });
  add('u1', '127.0.0.1');
  const un = add('u2', '10.0.0.5');
  add('u3', '');
  assert.deepEqual(r.list('u*').map((s) => s.user), ['u1', 'u2', 'u3']);
  assert.deepEqual(r.list('10.0.0.0/24').map((s) => s.user), ['u2']);
  assert.deepEqual(r.list('*', '127.0.0.1').map((s) => s.user), ['u1']);
  un();
  assert.deepEqual(r.kick('u*').map((s) => s.user), ['u1', 'u3']);
  assert.deepEqual(kicked, ['u1', 'u3']);
  assert.deepEqual(r.list(), []);
});

test('who and kick print what doveadm 2.3.19 prints for the same sessions', async (t) => {
  const dir = tempDir(t, 'postern-admin-');
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, `base_dir = ${dir}\n`);
  const r = new SessionRegistry();
  const kicked: number[] = [];
  const add = (user: string, service: string, pid: number) => r.register({ user, service, pid, ip: '127.0.0.1', session: `s${pid}`, kick: () => kicked.push(pid) });
  add('u2', 'imap', 13829);
  add('u1', 'imap', 13762);
  add('u1', 'imap', 13816);
  add('u1', 'pop3', 13833);
  const srv = await startAdminServer(join(dir, ADMIN_SOCKET_NAME), r);
  t.after(() => srv.close());
  assert.equal(statSync(join(dir, ADMIN_SOCKET_NAME)).mode & 0o777, 0o600);
  const ours = (args: string[]) => doveadm(OURS, ['-c', conf, ...args]);
  // Captured from the real doveadm 2.3.19 (grouped rows come in anvil's hash order there).
  assert.equal((await ours(['who'])).stdout,
    'username # proto (pids)  (ips)                            \n' +
    'u2       1 imap  (13829) (127.0.0.1)                      \n' +
    'u1       2 imap  (13762 13816) (127.0.0.1)                      \n' +
    'u1       1 pop3  (13833) (127.0.0.1)                      \n');
  assert.equal((await ours(['who', '-1'])).stdout,
    'username                          proto pid   ip       \n' +
    'u2                                imap  13829 127.0.0.1\n' +
    'u1                                imap  13762 127.0.0.1\n' +
    'u1                                imap  13816 127.0.0.1\n' +
    'u1                                pop3  13833 127.0.0.1\n');
  assert.equal((await ours(['-f', 'tab', 'who'])).stdout,
    'username\t#\tproto\t(pids)\t(ips)\nu2\t1\timap\t(13829)\t(127.0.0.1)\nu1\t2\timap\t(13762 13816)\t(127.0.0.1)\nu1\t1\tpop3\t(13833)\t(127.0.0.1)\n');
  assert.equal((await ours(['who', 'nobody'])).stdout, 'username # proto (pids) (ips)                         \n');
  const none = await ours(['kick', 'nobody']);
  assert.deepEqual([none.status, none.stdout], [68, 'no users kicked\n']);
  const k = await ours(['kick', 'u1']);
  assert.deepEqual([k.status, k.stdout, k.stderr], [0, 'u1 kicked connections from the following users:\n\n', '']);
  assert.deepEqual(kicked.sort(), [13762, 13816, 13833]);
  assert.equal((await ours(['-f', 'tab', 'who'])).stdout, 'username\t#\tproto\t(pids)\t(ips)\nu2\t1\timap\t(13829)\t(127.0.0.1)\n');
});

/** Logs in u1 twice over IMAP, u2 once, u1 once over POP3. */
async function loginSessions(t: { after(fn: () => void): void }, imap: number, pop3: number): Promise<{ i1: LineClient; i2: LineClient; i3: LineClient; p1: LineClient }> {
  const i1 = await imapLogin(imap, 'u1');
  const i2 = await imapLogin(imap, 'u1');
  const i3 = await imapLogin(imap, 'u2');
  const p1 = await pop3Login(pop3, 'u1');
  for (const c of [i1, i2, i3, p1]) t.after(() => c.close());
  return { i1, i2, i3, p1 };
}

/** `who -f tab` rows, pids replaced, sorted. */
const whoRows = (out: string): string[] => out.split('\n').filter((l) => l !== '').map((l) => l.replace(/\(\d+(?: \d+)*\)/, '(PIDS)')).sort();

async function scenario(t: { after(fn: () => void): void }, bin: string, conf: string, imap: number, pop3: number) {
  const s = await loginSessions(t, imap, pop3);
  const who = await doveadm(bin, ['-c', conf, '-f', 'tab', 'who']);
  const whoU1 = await doveadm(bin, ['-c', conf, '-f', 'tab', 'who', 'u1']);
  const kick = await doveadm(bin, ['-c', conf, 'kick', 'u1']);
  await s.i1.waitClosed();
  await s.i2.waitClosed();
  await s.p1.waitClosed();
  const after = await doveadm(bin, ['-c', conf, '-f', 'tab', 'who']);
  const none = await doveadm(bin, ['-c', conf, 'kick', 'nobody']);
  return {
    who: [who.status, ...whoRows(who.stdout)], whoU1: whoRows(whoU1.stdout), kick: [kick.status, kick.stdout],
    imapText: s.i1.text.slice(s.i1.text.indexOf('a OK')).split('\r\n').slice(1).join('\r\n'),
    pop3Text: s.p1.text.slice(s.p1.text.indexOf('+OK Logged in.')).split('\r\n').slice(1).join('\r\n'),
    stillThere: s.i3.closed, after: after.status === 0 ? whoRows(after.stdout) : [after.status, after.stderr], none: [none.status, none.stdout],
  };
}

const EXPECTED = {
  who: [0, 'u1\t1\tpop3\t(PIDS)\t(127.0.0.1)', 'u1\t2\timap\t(PIDS)\t(127.0.0.1)', 'u2\t1\timap\t(PIDS)\t(127.0.0.1)', 'username\t#\tproto\t(pids)\t(ips)'],
  whoU1: ['u1\t1\tpop3\t(PIDS)\t(127.0.0.1)', 'u1\t2\timap\t(PIDS)\t(127.0.0.1)', 'username\t#\tproto\t(pids)\t(ips)'],
  kick: [0, 'u1 kicked connections from the following users:\n\n'],
  imapText: '* BYE Server shutting down.\r\n',
  pop3Text: '-ERR [SYS/TEMP] Server shutting down.\r\n',
  stillThere: false,
  after: ['u2\t1\timap\t(PIDS)\t(127.0.0.1)', 'username\t#\tproto\t(pids)\t(ips)'],
  none: [68, 'no users kicked\n'],
};

test('postern-mda: who lists logged-in IMAP/POP3 sessions, kick ends them as Dovecot does', { timeout: 60_000 }, async (t) => {
  const imap = await freePort();
  const pop3 = await freePort();
  const mda = await startMdaDaemon(t, {
    users: [{ name: 'u1', password: 'secret' }, { name: 'u2', password: 'secret' }],
    protocols: 'imap pop3',
    extraConf: `service imap-login {\n  inet_listener imap {\n    port = ${imap}\n  }\n}\nservice pop3-login {\n  inet_listener pop3 {\n    port = ${pop3}\n  }\n}\n`,
  });
  const sock = join(mda.dir, 'run', ADMIN_SOCKET_NAME);
  assert.equal(statSync(sock).mode & 0o777, 0o600);
  const r = await scenario(t, OURS, mda.conf, imap, pop3);
  assert.deepEqual(r, EXPECTED);
  const one = await doveadm(OURS, ['-c', mda.conf, '-f', 'tab', 'who', '-1']);
  assert.equal(one.stdout, `username\tproto\tpid\tip\nu2\timap\t${mda.pid}\t127.0.0.1\n`);
  const log = mda.log();
  assert.match(log, /imap\(u1\)<\d+><[^>]+>: Info: Disconnected: Server shutting down\. in=\d+ out=\d+/);
  assert.match(log, /pop3\(u1\)<\d+><[^>]+>: Info: Disconnected: Server shutting down\. top=0\/0, retr=0\/0, del=0\/0, size=0/);
  await mda.stop();
  if (process.getuid?.() !== 0) assert.throws(() => statSync(sock), /ENOENT/);
});

const asRoot = process.getuid?.() === 0;
const skipReal = oracleSkip('doveadm', 'dovecot') || (asRoot ? false : 'needs root to start a private Dovecot');

test('interop: real Dovecot 2.3 gives the same who rows, kick output and client texts', { skip: skipReal, timeout: 60_000 }, async (t) => {
  const imap = await freePort();
  const pop3 = await freePort();
  const d = await startDovecot(t, [
    'protocols = imap pop3',
    'listen = 127.0.0.1',
    'first_valid_uid = 100',
    'mail_uid = 65534',
    'mail_gid = 65534',
    'disable_plaintext_auth = no',
    'mail_location = maildir:@DIR@/home/%u/Maildir',
    'passdb {\n  driver = passwd-file\n  args = @DIR@/passwd\n}',
    'userdb {\n  driver = passwd-file\n  args = @DIR@/passwd\n}',
    `service imap-login {\n  inet_listener imap {\n    port = ${imap}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
    `service pop3-login {\n  inet_listener pop3 {\n    port = ${pop3}\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n}`,
  ].join('\n'), ['@DIR@/run/anvil']);
  for (const u of ['u1', 'u2']) {
    mkdirSync(join(d.dir, 'home', u), { recursive: true });
    chownSync(join(d.dir, 'home', u), 65534, 65534);
  }
  writeFileSync(join(d.dir, 'passwd'), `u1:{PLAIN}secret:65534:65534::${d.dir}/home/u1::\nu2:{PLAIN}secret:65534:65534::${d.dir}/home/u2::\n`);
  const r = await scenario(t, REAL, d.conf, imap, pop3);
  assert.deepEqual(r, EXPECTED);
});
