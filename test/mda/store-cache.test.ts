/*
 * The process's store cache (mda/store-cache.ts) and a session's leased handle (mail-user.ts
 * leasedStore): holders of one key share one opened store; it closes after the last holder gave
 * it back and the idle time passed; a holder that saw it fail drops it from the cache, and the
 * store closes once the others are done; a lease gives back once however often it is closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MailUser } from '../../mda/mail-user.js';
import { leasedStore } from '../../mda/mail-user.js';
import { MailStoreCache } from '../../mda/store-cache.js';
import type { MailStore } from '../../mda/storage/api.js';

interface Fake {
  readonly mail: MailUser;
  closed: number;
}

/** A store that only counts its close() calls (every other operation fails loudly). */
function fake(name: string, extra: Record<string, unknown> = {}): Fake {
  const f: Fake = { mail: undefined as unknown as MailUser, closed: 0 };
  const fail = (): never => assert.fail(`unexpected call on ${name}`);
  const store = {
    user: name, separator: '.', list: fail, create: fail, delete: fail, rename: fail, subscribe: fail, unsubscribe: fail,
    subscriptions: fail, status: async (box: string) => ({ name: `${name}:${box}` }), openMailbox: fail, deliver: fail, append: fail,
    watch: fail, close: async () => { f.closed++; }, ...extra,
  } as unknown as MailStore;
  (f as { mail: MailUser }).mail = { user: name, home: undefined, location: `maildir:/x/${name}`, expand: (x) => x, store };
  return f;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds (timers may run late on a busy machine), failing after 5 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (const t0 = Date.now(); !cond(); await tick(5)) if (Date.now() - t0 > 5000) assert.fail(`never: ${what}`);
}

test('holders of one key share one open; other keys open their own', async () => {
  const cache = new MailStoreCache(20);
  let opens = 0;
  const a = fake('a');
  const b = fake('b');
  const open = (f: Fake) => async () => { opens++; return f.mail; };
  const [l1, l2] = await Promise.all([cache.acquire('a', open(a)), cache.acquire('a', open(a))]);
  const l3 = await cache.acquire('b', open(b));
  assert.equal(opens, 2);
  assert.equal(l1.mail, l2.mail);
  assert.notEqual(l1.mail, l3.mail);
  assert.equal(cache.size, 2);
  for (const l of [l1, l2, l3]) await l.release(false);
});

test('the store closes only after the last holder and the idle time; a new holder in between keeps it', async () => {
  const cache = new MailStoreCache(300);
  const a = fake('a');
  const l1 = await cache.acquire('a', async () => a.mail);
  const l2 = await cache.acquire('a', async () => assert.fail('opened twice'));
  await l1.release(false);
  await tick(400);
  assert.equal(a.closed, 0, 'still held');
  await l2.release(false);
  // At once, so well within the idle time.
  const l3 = await cache.acquire('a', async () => assert.fail('opened again within the idle time'));
  await tick(400);
  assert.equal(a.closed, 0, 'taken again before the idle close');
  await l3.release(false);
  await l3.release(false);
  await until(() => a.closed > 0, 'closed after the idle time');
  assert.equal(a.closed, 1);
  assert.equal(cache.size, 0);
});

test('a failed holder drops the store from the cache: the next holder opens afresh, the old one closes after its last holder', async () => {
  const cache = new MailStoreCache(1000);
  const a1 = fake('a1');
  const a2 = fake('a2');
  const held = await cache.acquire('a', async () => a1.mail);
  const failing = await cache.acquire('a', async () => assert.fail('opened twice'));
  await failing.release(true);
  const fresh = await cache.acquire('a', async () => a2.mail);
  assert.equal(fresh.mail, a2.mail);
  assert.equal(a1.closed, 0, 'the session still holding it keeps it');
  await held.release(false);
  assert.equal(a1.closed, 1, 'closed at once, without the idle time');
  await fresh.release(false);
});

test('a failed open is not cached', async () => {
  const cache = new MailStoreCache(20);
  await assert.rejects(cache.acquire('a', async () => { throw new Error('mkdir failed'); }), /mkdir failed/);
  const a = fake('a');
  const l = await cache.acquire('a', async () => a.mail);
  assert.equal(l.mail, a.mail);
  await l.release(false);
});

test('a leased handle: the store\'s operations, close() gives the lease back once, optional parts mirrored', async () => {
  const cache = new MailStoreCache(10);
  const plain = fake('plain');
  const lock = async () => undefined;
  const maildir = fake('maildir', { lockPop3Session: lock, maildirsizePath: '/x/maildir/maildirsize' });
  const h1 = leasedStore(await cache.acquire('p', async () => plain.mail));
  const h2 = leasedStore(await cache.acquire('p', async () => plain.mail));
  const h3 = leasedStore(await cache.acquire('m', async () => maildir.mail));
  assert.deepEqual(await h1.status('INBOX'), { name: 'plain:INBOX' });
  assert.equal(h1.user, 'plain');
  assert.equal(h1.lockPop3Session, undefined);
  assert.equal((h1 as { maildirsizePath?: string }).maildirsizePath, undefined);
  assert.equal(typeof h3.lockPop3Session, 'function');
  assert.equal((h3 as { maildirsizePath?: string }).maildirsizePath, '/x/maildir/maildirsize');
  await h1.close();
  await h1.close();
  await tick(30);
  assert.equal(plain.closed, 0, 'h2 still holds it: h1 gave back once');
  await h2.close();
  await h3.close();
  await until(() => plain.closed > 0 && maildir.closed > 0, 'both closed');
  assert.equal(plain.closed, 1);
  assert.equal(maildir.closed, 1);
});
