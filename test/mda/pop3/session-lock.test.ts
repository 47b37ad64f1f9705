/*
 * pop3_lock_session's file half in the session: the lock file exists exactly while a session is
 * logged in (exclusion against real Dovecot is in session-lock-interop.test.ts), and the failure replies are Dovecot's: lock not creatable → `-ERR [SYS/TEMP] Failed to create
 * POP3 session lock.`; lock lost while held → `-ERR [SYS/TEMP] Couldn't update POP3 session lock.`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError, type MailStore, type Pop3SessionLockOptions } from '../../../mda/storage/api.js';
import { POP3_LOCK_FILE } from '../../../mda/storage/pop3-session-lock.js';
import { makeEnv, memSession, type Env } from './helpers.js';

const settings = { pop3_lock_session: 'yes', postern_pop3_lock_timeout: '200 ms' } as const;

/** The env's store opener with lockPop3Session replaced. */
function withLock(env: Env, lock: (store: MailStore, opts: Pop3SessionLockOptions) => ReturnType<NonNullable<MailStore['lockPop3Session']>>): Env {
  const open = env.deps.openStore;
  return {
    ...env,
    deps: {
      ...env.deps,
      openStore: async (user, facts) => {
        const store = await open(user, facts);
        return Object.assign(Object.create(store) as MailStore, { lockPop3Session: (o: Pop3SessionLockOptions) => lock(store, o) });
      },
    },
  };
}

test('the lock file exists exactly while a session is logged in', async (t) => {
  const env = makeEnv(t, { settings });
  const path = join(env.maildir(), POP3_LOCK_FILE);
  const a = memSession(env);
  await a.send('USER alice');
  assert.ok(!existsSync(path));
  assert.equal(await a.send('PASS secret'), '+OK Logged in.\r\n');
  assert.ok(existsSync(path));
  await a.send('QUIT');
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!existsSync(path), 'removed at the end of the session');
  // A dropped connection releases it too.
  const b = memSession(env);
  await b.send('USER alice');
  await b.send('PASS secret');
  assert.ok(existsSync(path));
  await b.s.onEof();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!existsSync(path));
});

test('a lock that cannot be created: -ERR [SYS/TEMP] Failed to create POP3 session lock.', async (t) => {
  const env = withLock(makeEnv(t, { settings }), async () => {
    throw new StorageError('TEMP', 'Failed to create POP3 session lock.', 'file_dotlock_create(/x/dovecot-pop3-session.lock) failed: EACCES');
  });
  const s = memSession(env);
  await s.send('USER alice');
  assert.equal(await s.send('PASS secret'), '-ERR [SYS/TEMP] Failed to create POP3 session lock.\r\n');
  assert.equal(s.io.closed, true);
  assert.ok(env.log.lines.some((l) => /Error: file_dotlock_create\(\/x\/dovecot-pop3-session\.lock\) failed: EACCES/.test(l)));
  assert.match(env.log.lines.at(-1)!, /Disconnected: Couldn't lock POP3 session/);
});

test('held elsewhere for the whole wait: -ERR [IN-USE]; the in-process lock is released again', async (t) => {
  const base = makeEnv(t, { settings });
  let calls = 0;
  const env = withLock(base, async (store, o) => (calls++ === 0 ? undefined : store.lockPop3Session!(o)));
  const s = memSession(env);
  await s.send('USER alice');
  assert.equal(await s.send('PASS secret'), '-ERR [IN-USE] Mailbox is locked by another POP3 session.\r\n');
  const again = memSession(env);
  await again.send('USER alice');
  assert.equal(await again.send('PASS secret'), '+OK Logged in.\r\n');
  await again.send('QUIT');
});

test('the lock lost while held: -ERR [SYS/TEMP] Couldn\'t update POP3 session lock. and the session ends', async (t) => {
  let lost: (() => void) | undefined;
  const env = withLock(makeEnv(t, { settings }), async (store, o) => {
    lost = o.onLost;
    return store.lockPop3Session!(o);
  });
  const s = memSession(env);
  await s.send('USER alice');
  assert.equal(await s.send('PASS secret'), '+OK Logged in.\r\n');
  lost!();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.io.take(), '-ERR [SYS/TEMP] Couldn\'t update POP3 session lock.\r\n');
  assert.equal(s.io.closed, true);
  assert.match(env.log.lines.at(-1)!, /Disconnected: Couldn't lock POP3 session/);
});
