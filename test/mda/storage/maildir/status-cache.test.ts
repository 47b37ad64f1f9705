/*
 * STATUS answered from the sidecar (MaildirMailbox.status()): equal to a full recount, and
 * invalidated by every change another session or process can make — an IMAP STORE, a flag rename,
 * a delivery, an expunge, a \Recent claim (sidecar only), a change within the dirty second, and a
 * directory whose mtime was put back after a change (the ctime still differs).
 * The clock is moved ahead (Date.now mocked) where a test needs the stamps settled at once instead
 * of waiting out the one-second dirty window.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openMailStore, type MailboxStatus, type MailStore } from '../../../../mda/storage/api.js';
import { MaildirMailbox } from '../../../../mda/storage/maildir/mailbox.js';
import { tempStore } from '../helpers.js';

const MSG = Buffer.from('From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\n\r\nbody\r\n');

/** Counts full syncs; `ahead` moves Date.now forward so every stamp is settled. */
function instrument(t: TestContext, aheadMs: number): { syncs: () => number; ahead: (on: boolean) => void } {
  let n = 0;
  const orig = MaildirMailbox.prototype.sync;
  t.mock.method(MaildirMailbox.prototype, 'sync', function (this: MaildirMailbox, ...a: Parameters<typeof orig>) {
    n++;
    return orig.apply(this, a);
  });
  const realNow = Date.now.bind(Date);
  let on = true;
  t.mock.method(Date, 'now', () => realNow() + (on ? aheadMs : 0));
  return { syncs: () => n, ahead: (v) => void (on = v) };
}

/** STATUS until one is answered without a sync (the remembered answer is committed asynchronously). */
async function cached(store: MailStore, syncs: () => number, name = 'INBOX'): Promise<MailboxStatus> {
  for (let i = 0; i < 200; i++) {
    const before = syncs();
    const s = await store.status(name);
    if (syncs() === before) return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('STATUS never answered from the sidecar');
}

/** What a full recount (a read-only view; sizes the file name lacks read from the file) says. */
async function recount(store: MailStore, name = 'INBOX'): Promise<Omit<MailboxStatus, 'guid'>> {
  const v = await store.openMailbox(name, { readOnly: true });
  try {
    let size = 0;
    for (const m of v.messages()) size += (await v.messageSizes(m.uid)).virtual;
    return { ...v.status(), size };
  } finally {
    await v.close();
  }
}

function strip(s: MailboxStatus): Omit<MailboxStatus, 'guid'> {
  const { guid: _g, ...rest } = s;
  return rest;
}

async function filled(t: TestContext, n: number): Promise<{ store: MailStore; root: string; dir: string }> {
  const r = await tempStore(t);
  for (let i = 0; i < n; i++) await r.store.append('INBOX', MSG, { flags: i % 3 === 0 ? ['\\Seen'] : [] });
  return r;
}

test('a STATUS answered from the sidecar equals a full recount, guid included', async (t) => {
  const { store } = await filled(t, 12);
  const { syncs } = instrument(t, 5000);
  const first = await store.status('INBOX');
  const hit = await cached(store, syncs);
  assert.deepEqual(hit, first);
  assert.deepEqual(strip(hit), await recount(store));
  assert.equal(hit.messages, 12);
  assert.equal(hit.unseen, 8);
  assert.equal(hit.recent, 12);
  assert.match(hit.guid ?? '', /^[0-9a-f]{32}$/);
});

test('an IMAP STORE in another session invalidates the remembered STATUS', async (t) => {
  const { store } = await filled(t, 6);
  const { syncs } = instrument(t, 5000);
  await store.status('INBOX');
  const before = await cached(store, syncs);
  const view = await store.openMailbox('INBOX', { readOnly: false, dropRecent: false });
  await view.store([2], { mode: 'add', flags: ['\\Seen'] });
  await view.close();
  const after = await store.status('INBOX');
  assert.equal(after.unseen, before.unseen - 1);
  assert.ok(after.highestModseq > before.highestModseq);
  assert.deepEqual(strip(after), await recount(store));
});

test("another process's flag rename, delivery and expunge each invalidate it", async (t) => {
  const { store, root } = await filled(t, 6);
  const { syncs } = instrument(t, 5000);
  await store.status('INBOX');
  // The appends left the files in cur/ (APPEND) or new/; a SELECT moves them all to cur/.
  const sel = await store.openMailbox('INBOX', { readOnly: false });
  await sel.close();
  let s = await cached(store, syncs);
  // Flag rename, as another Dovecot would do it.
  const cur = join(root, 'cur');
  const unseenFile = readdirSync(cur).find((f) => !/:2,[A-Z]*S/.test(f))!;
  renameSync(join(cur, unseenFile), join(cur, unseenFile.replace(/:2,.*$/, ':2,S')));
  let now = await store.status('INBOX');
  assert.equal(now.unseen, s.unseen - 1);
  assert.deepEqual(strip(now), await recount(store));
  // Delivery into new/ by someone else.
  s = await cached(store, syncs);
  writeFileSync(join(root, 'new', `1700000000.M1P1.elsewhere,S=${MSG.length}`), MSG);
  now = await store.status('INBOX');
  assert.equal(now.messages, s.messages + 1);
  assert.equal(now.uidNext, s.uidNext + 1);
  assert.deepEqual(strip(now), await recount(store));
  // Expunge by unlink.
  s = await cached(store, syncs);
  unlinkSync(join(cur, readdirSync(cur)[0]!));
  now = await store.status('INBOX');
  assert.equal(now.messages, s.messages - 1);
  assert.deepEqual(strip(now), await recount(store));
});

test('a \\Recent claim by another store (sidecar-only change) invalidates it', async (t) => {
  const { store, dir } = await filled(t, 4);
  const { syncs } = instrument(t, 5000);
  // Everything in cur/ first, so the claim below changes nothing on disk.
  const other = await openMailStore({ mailLocation: `maildir:${join(dir, 'Maildir')}`, home: dir, user: 'alice', hostname: 'testhost' });
  const v0 = await other.openMailbox('INBOX', { readOnly: true });
  await v0.close();
  await store.status('INBOX');
  const before = await cached(store, syncs);
  assert.equal(before.recent, 4);
  const v = await other.openMailbox('INBOX', { readOnly: false, dropRecent: true });
  await v.close();
  await other.close();
  const after = await store.status('INBOX');
  assert.equal(after.recent, 0);
  assert.deepEqual(strip(after), await recount(store));
});

test('a change within the dirty second is never hidden, nor one whose mtime was put back', async (t) => {
  const { store, root } = await filled(t, 5);
  const sel = await store.openMailbox('INBOX', { readOnly: false });
  await sel.close();
  const { syncs, ahead } = instrument(t, 5000);
  // Real clock: the directories changed just now, so nothing is remembered or reused.
  ahead(false);
  const a = await store.status('INBOX');
  const cur = join(root, 'cur');
  const f = readdirSync(cur).find((x) => /:2,S$/.test(x))!;
  // Same-length rename (S -> F): the directory size does not change.
  renameSync(join(cur, f), join(cur, f.replace(/:2,S$/, ':2,F')));
  const n0 = syncs();
  const b = await store.status('INBOX');
  assert.ok(syncs() > n0, 'a dirty stamp must be recounted');
  assert.equal(b.unseen, a.unseen + 1);
  assert.deepEqual(strip(b), await recount(store));
  // Settled clock: remembered; then a same-length rename with cur/'s mtime put back, as a change
  // within the same timestamp tick would look: the ctime still moves, so it is seen.
  ahead(true);
  const c = await cached(store, syncs);
  const st = statSync(cur);
  const g = readdirSync(cur).find((x) => /:2,F$/.test(x))!;
  renameSync(join(cur, g), join(cur, g.replace(/:2,F$/, ':2,S')));
  utimesSync(cur, st.atime, st.mtime);
  const d = await store.status('INBOX');
  assert.equal(d.unseen, c.unseen - 1);
  assert.deepEqual(strip(d), await recount(store));
});

test('a deleted and recreated mailbox does not inherit the remembered STATUS', async (t) => {
  const { store } = await tempStore(t);
  await store.create('Box');
  for (let i = 0; i < 3; i++) await store.append('Box', MSG);
  const { syncs } = instrument(t, 5000);
  await store.status('Box');
  assert.equal((await cached(store, syncs, 'Box')).messages, 3);
  await store.delete('Box');
  await store.create('Box');
  await store.append('Box', MSG);
  const s = await store.status('Box');
  assert.equal(s.messages, 1);
  assert.deepEqual(strip(s), await recount(store, 'Box'));
});
