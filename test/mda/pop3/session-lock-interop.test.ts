/*
 * INTEROP: pop3_lock_session across processes with real Dovecot 2.3's pop3 on the same maildir. The
 * Dovecot binary runs stand-alone (`/usr/lib/dovecot/pop3 -c CONF`, pre-authenticated, POP3 over a
 * pipe; `doveadm exec pop3` does not take the lock) and stays in its session while we try ours:
 *  - Dovecot holds dovecot-pop3-session.lock → our login gets `-ERR [IN-USE] Mailbox is locked by
 *    another POP3 session.`; after its QUIT the lock is gone and ours logs in;
 *  - ours holds it → Dovecot waits its 10 s and answers the same text; after our QUIT it logs in;
 *  - a Dovecot pop3 killed with SIGKILL leaves its lock behind; ours overrides it at once (dead pid).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDovecotInstance, type DovecotInstance } from '../../helpers/dovecot-instance.js';
import { oracleSkip } from '../../helpers/oracle.js';
import { openMailStore } from '../../../mda/storage/api.js';
import { POP3_LOCK_FILE } from '../../../mda/storage/pop3-session-lock.js';
import { loggedInAuth, logCollector, memIo, type MemIo } from './helpers.js';
import { Pop3Session } from '../../../mda/pop3/session.js';
import { inProcessSessionLocks } from '../../../mda/pop3/session-lock.js';
import { pop3SettingsFromText } from '../../../mda/pop3/settings.js';
import { until } from '../../helpers/until.js';

const skip = oracleSkip('doveadm') || (existsSync('/usr/lib/dovecot/pop3') ? false : 'no /usr/lib/dovecot/pop3');

function chownTree(p: string, uid: number, gid: number): void {
  chownSync(p, uid, gid);
  if (lstatSync(p).isDirectory()) for (const e of readdirSync(p)) chownTree(join(p, e), uid, gid);
}

interface DovecotPop3 {
  readonly proc: ChildProcess;
  /** Everything Dovecot wrote so far. */
  output(): string;
  send(line: string): void;
  /** Closes stdin and waits for the exit. */
  end(): Promise<void>;
}

/** Real Dovecot's pop3 in its own process, pre-authenticated; stdout through `cat` (a pipe, not a socket). */
function startDovecotPop3(inst: DovecotInstance): DovecotPop3 {
  if (process.getuid?.() === 0) chownTree(inst.home, inst.uid, inst.gid);
  const proc = spawn('/bin/sh', ['-c', 'exec /usr/lib/dovecot/pop3 -c "$CONF" | cat'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', USER: inst.user, HOME: inst.home, MAIL: `maildir:${inst.maildir}`, CONF: inst.conf },
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString('latin1');
  });
  proc.stderr!.resume();
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    output: () => out,
    send: (line) => proc.stdin!.write(`${line}\r\n`),
    async end() {
      proc.stdin!.end();
      await exited;
    },
  };
}

/** Our POP3 session on the instance's maildir with pop3_lock_session = yes; logs in and returns the reply. */
async function posternLogin(inst: DovecotInstance): Promise<{ s: Pop3Session; io: MemIo; reply: string }> {
  const auth = loggedInAuth(inst.user);
  const io = memIo();
  const s = new Pop3Session({
    settings: pop3SettingsFromText({ pop3_lock_session: 'yes', postern_pop3_lock_timeout: '500 ms' }),
    auth,
    openStore: (user) => openMailStore({ mailLocation: `maildir:${inst.maildir}`, user, home: inst.home }),
    locks: inProcessSessionLocks(),
    log: logCollector().factory,
    tlsAvailable: false,
    hostname: 'test',
    pid: process.pid,
  }, { rip: '127.0.0.1', lip: '127.0.0.1', rport: 1, lport: 110, tls: false }, io);
  await s.handleLine(Buffer.from('AUTH PLAIN AHUxAHNlY3JldA=='));
  return { s, io, reply: io.take() };
}

const LOCKED = '-ERR [IN-USE] Mailbox is locked by another POP3 session.\r\n';

test('Dovecot pop3 holds the session lock: ours is refused, then gets in after its QUIT', { skip }, async (t) => {
  const inst = createDovecotInstance(t, { extraConf: 'pop3_lock_session = yes\n' });
  inst.addMessages([{ base: 'l1', bytes: Buffer.from('Subject: x\n\nhello\n') }]);
  const lockPath = join(inst.maildir, POP3_LOCK_FILE);
  const dc = startDovecotPop3(inst);
  t.after(() => dc.proc.kill('SIGKILL'));
  dc.send('STAT');
  await until('Dovecot STAT', () => dc.output().includes('+OK 1 '));
  assert.match(readFileSync(lockPath, 'utf8'), /^[0-9]+:/);

  const refused = await posternLogin(inst);
  assert.equal(refused.reply, LOCKED);
  assert.equal(refused.io.closed, true);
  assert.ok(existsSync(lockPath), 'Dovecot\'s lock is left alone');

  dc.send('QUIT');
  await dc.end();
  assert.match(dc.output(), /\+OK Logging out\.\r\n$/);
  assert.ok(!existsSync(lockPath));
  const ok = await posternLogin(inst);
  assert.equal(ok.reply, '+OK Logged in.\r\n');
  assert.ok(existsSync(lockPath));
  assert.equal(await ok.s.handleLine(Buffer.from('QUIT')).then(() => ok.io.take()), '+OK Logging out.\r\n');
  await until('our lock removed', () => !existsSync(lockPath), 2000);
});

test('our session holds the lock: Dovecot pop3 waits 10 s and answers [IN-USE]; after our QUIT it gets in', { skip, timeout: 60_000 }, async (t) => {
  const inst = createDovecotInstance(t, { extraConf: 'pop3_lock_session = yes\n' });
  inst.addMessages([{ base: 'l2', bytes: Buffer.from('Subject: y\n\nhello\n') }]);
  const lockPath = join(inst.maildir, POP3_LOCK_FILE);
  const ours = await posternLogin(inst);
  assert.equal(ours.reply, '+OK Logged in.\r\n');
  assert.equal(readFileSync(lockPath, 'utf8').split(':')[0], String(process.pid));

  const started = Date.now();
  const dc = startDovecotPop3(inst);
  t.after(() => dc.proc.kill('SIGKILL'));
  dc.send('STAT');
  await dc.end();
  assert.equal(dc.output(), LOCKED);
  assert.ok(Date.now() - started >= 9000, 'Dovecot waited for the lock');
  assert.ok(existsSync(lockPath), 'our lock is left alone');

  await ours.s.handleLine(Buffer.from('QUIT'));
  await until('our lock removed', () => !existsSync(lockPath), 2000);
  const after = startDovecotPop3(inst);
  t.after(() => after.proc.kill('SIGKILL'));
  after.send('STAT');
  after.send('QUIT');
  await after.end();
  assert.match(after.output(), /^\+OK 1 [0-9]+\r\n\+OK Logging out\.\r\n$/);
});

test('a Dovecot pop3 killed while holding the lock: its leftover (dead pid) is overridden at once', { skip }, async (t) => {
  const inst = createDovecotInstance(t, { extraConf: 'pop3_lock_session = yes\n' });
  const lockPath = join(inst.maildir, POP3_LOCK_FILE);
  const dc = startDovecotPop3(inst);
  t.after(() => dc.proc.kill('SIGKILL'));
  dc.send('STAT');
  await until('Dovecot STAT', () => dc.output().includes('+OK 0 0'));
  const pid = Number(readFileSync(lockPath, 'utf8').split(':')[0]);
  // The pid in the lock is Dovecot's pop3, a child of the shell this test started.
  process.kill(pid, 'SIGKILL');
  await dc.end();
  assert.ok(existsSync(lockPath), 'SIGKILL left the lock behind');
  const started = Date.now();
  const ours = await posternLogin(inst);
  assert.equal(ours.reply, '+OK Logged in.\r\n');
  assert.ok(Date.now() - started < 500);
  assert.equal(readFileSync(lockPath, 'utf8').split(':')[0], String(process.pid));
  await ours.s.handleLine(Buffer.from('QUIT'));
});
