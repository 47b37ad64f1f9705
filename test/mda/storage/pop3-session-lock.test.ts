/*
 * The POP3 session lock behind the storage API (MailStore.lockPop3Session, Dovecot's
 * dovecot-pop3-session.lock): where it lives, what it holds, and Dovecot's file-dotlock rules for
 * a lock someone else left: a live local owner holds it at any age, a dead one or ourselves not at
 * all, a lock without a local pid only until 300 s without a change. Refresh and loss detection.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { openMailStore, type MailStore } from '../../../mda/storage/api.js';
import { POP3_LOCK_FILE, takePop3SessionLock } from '../../../mda/storage/pop3-session-lock.js';
import { tempDir } from '../../helpers/tmp.js';

async function store(t: TestContext, extra = ''): Promise<{ s: MailStore; root: string; dir: string }> {
  const dir = tempDir(t, 'postern-pop3lock-');
  const root = join(dir, 'Maildir');
  const s = await openMailStore({ mailLocation: `maildir:${root}${extra.replace('%d', dir)}`, user: 'u', home: dir });
  t.after(() => s.close());
  return { s, root, dir };
}

test('the lock is dovecot-pop3-session.lock in the mail root, holding pid:hostname, gone after release', async (t) => {
  const { s, root } = await store(t);
  const lock = await s.lockPop3Session!({ timeoutMs: 100 });
  assert.ok(lock);
  const path = join(root, POP3_LOCK_FILE);
  assert.equal(lock.path, path);
  assert.equal(readFileSync(path, 'utf8'), `${process.pid}:${hostname()}`);
  assert.equal(statSync(path).mode & 0o777, 0o644);
  // A lock naming this very process is a leftover to Dovecot ("it's us … recreate it"): taken over at
  // once (this daemon's own sessions are kept apart in-process before they get here).
  const again = await takePop3SessionLock(root, { timeoutMs: 150 });
  assert.ok(again);
  await lock.release();
  assert.ok(existsSync(path), 'the first release leaves the new owner\'s lock alone');
  await again.release();
  assert.ok(!existsSync(path));
});

test('INDEX= puts the lock in the index root, as Dovecot does', async (t) => {
  const { s, dir } = await store(t, ':INDEX=%d/index');
  const lock = await s.lockPop3Session!({ timeoutMs: 100 });
  assert.ok(existsSync(join(dir, 'index', POP3_LOCK_FILE)));
  await lock!.release();
  assert.ok(!existsSync(join(dir, 'index', POP3_LOCK_FILE)));
});

test('a live local owner holds the lock however old; a dead one does not', async (t) => {
  const { root } = await store(t);
  mkdirSync(root, { recursive: true });
  const path = join(root, POP3_LOCK_FILE);
  const child = spawn('sleep', ['30']);
  t.after(() => child.kill());
  writeFileSync(path, `${child.pid}:${hostname()}`);
  const old = new Date(Date.now() - 3600_000);
  utimesSync(path, old, old);
  assert.equal(await takePop3SessionLock(root, { timeoutMs: 150 }), undefined);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const lock = await takePop3SessionLock(root, { timeoutMs: 150 });
  assert.ok(lock, 'the dead owner\'s lock is overridden at once');
  await lock.release();
});

test('a lock without a local pid is stale only after 300 s without a change', async (t) => {
  const { root } = await store(t);
  mkdirSync(root, { recursive: true });
  const path = join(root, POP3_LOCK_FILE);
  writeFileSync(path, '1234:some-other-host');
  const recent = new Date(Date.now() - 200_000);
  utimesSync(path, recent, recent);
  assert.equal(await takePop3SessionLock(root, { timeoutMs: 100 }), undefined);
  const old = new Date(Date.now() - 301_000);
  utimesSync(path, old, old);
  const lock = await takePop3SessionLock(root, { timeoutMs: 100 });
  assert.ok(lock);
  await lock.release();
});

test('held locks are touched; a lock taken away is reported once', async (t) => {
  const { root } = await store(t);
  let lost = 0;
  const lock = await takePop3SessionLock(root, { timeoutMs: 100, refreshMs: 30, onLost: () => lost++ });
  assert.ok(lock);
  const path = join(root, POP3_LOCK_FILE);
  const old = new Date(Date.now() - 100_000);
  utimesSync(path, old, old);
  await new Promise((r) => setTimeout(r, 120));
  assert.ok(Date.now() - statSync(path).mtimeMs < 10_000, 'touched');
  assert.equal(lost, 0);
  unlinkSync(path);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(lost, 1);
  // Somebody else's lock is never removed by our release.
  writeFileSync(path, '1:elsewhere');
  await lock.release();
  assert.ok(existsSync(path));
});
