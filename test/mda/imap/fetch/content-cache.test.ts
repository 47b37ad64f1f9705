/*
 * The content cache's bookkeeping (mda/imap/fetch/content-cache.ts ContentCache): entries by
 * mailbox, UIDVALIDITY and UID, valid for the message GUID they were made for; bounded by
 * characters, evicted oldest first except that an entry asked for since the last pass gets a
 * second chance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedHeader, cachedHeaderNow, cachedItem, ContentCache, PERSIST_CHARS } from '../../../../mda/imap/fetch/content-cache.js';
import type { ContentRecord, ContentStore, MailboxView, MessageInfo } from '../../../../mda/storage/api.js';

const msg = (uid: number, guid = `g${uid}`): MessageInfo => ({
  seq: uid, uid, flags: [], recent: false, modseq: 1, guid, physicalSize: 10, virtualSize: 10, pop3Uidl: undefined,
});

test('ContentCache: an entry is found by mailbox, UIDVALIDITY, UID and GUID only', () => {
  const c = new ContentCache(10_000);
  const e = c.entry('box', 7, msg(1), true)!;
  e.items.ENVELOPE = 'env';
  assert.equal(c.entry('box', 7, msg(1), false)?.items.ENVELOPE, 'env');
  assert.equal(c.entry('other', 7, msg(1), false), undefined, 'another mailbox');
  assert.equal(c.entry('box', 7, msg(2), false), undefined, 'another UID');
  assert.equal(c.entry('box', 7, msg(1, 'else'), false), undefined, 'the UID of another message (GUID differs)');
  // A new UIDVALIDITY drops the mailbox's entries.
  assert.ok(c.entry('box', 8, msg(1), true));
  assert.equal(c.entry('box', 8, msg(1), false)?.items.ENVELOPE, undefined);
  assert.equal(c.entry('box', 7, msg(1), false), undefined);
});

test('ContentCache: bounded by characters; the oldest entry not asked for since goes first', () => {
  // Each entry costs 64 characters of overhead plus what grow() adds.
  const c = new ContentCache(3 * (64 + 100));
  const add = (uid: number): void => {
    const e = c.entry('box', 1, msg(uid), true)!;
    e.items.BODY = 'x'.repeat(100);
    c.grow(e, 100);
  };
  add(1);
  add(2);
  add(3);
  for (const uid of [1, 2, 3]) assert.ok(c.entry('box', 1, msg(uid), false), `uid ${uid} kept within the limit`);
  // All three were asked for just now: adding a fourth gives each a second chance once, then the
  // oldest (1) goes.
  add(4);
  assert.equal(c.entry('box', 1, msg(1), false), undefined);
  for (const uid of [2, 3, 4]) assert.ok(c.entry('box', 1, msg(uid), false), `uid ${uid} kept`);
  // Again every entry was asked for: the oldest goes (2), never the one just added.
  add(5);
  const left = [2, 3, 4, 5].filter((uid) => c.entry('box', 1, msg(uid), false) !== undefined);
  assert.deepEqual(left, [3, 4, 5]);
  // Adding 6 passes over 3, 4, 5 (asked for above), then drops 3: 4, 5, 6 are left, none asked
  // for since that pass. Ask for 4 (the oldest) and 6; adding 7 then drops 5, not 4.
  add(6);
  assert.deepEqual([3, 4, 5, 6].map((uid) => c.entry('box', 1, msg(uid), false) !== undefined), [false, true, true, true]);
  add(7);
  assert.equal(c.entry('box', 1, msg(4), false), undefined, 'after the check above every entry had been asked for: the oldest went');
  // Now 5, 6, 7 are left and none was asked for since the last pass. Ask for 5 (the oldest) only:
  // adding 8 drops 6, and 5 keeps its place by its second chance.
  c.entry('box', 1, msg(5), false);
  add(8);
  assert.deepEqual([5, 6, 7, 8].map((uid) => c.entry('box', 1, msg(uid), false) !== undefined), [true, false, true, true]);
  // Entries of other mailboxes push these out; a mailbox whose last entry went is forgotten.
  assert.equal(c.mailboxCount(), 1);
  for (let uid = 1; uid <= 3; uid++) {
    const e = c.entry('other', 1, msg(uid), true)!;
    c.grow(e, 100);
  }
  assert.equal(c.mailboxCount(), 1, 'box had no entry left');
  assert.equal(c.entry('box', 1, msg(8), false), undefined);
  // Growing an entry that was evicted (a caller still holding it) counts nothing: it pushes no
  // live entry out.
  const gone = c.entry('other', 1, msg(1), false) ?? c.entry('other', 1, msg(2), false) ?? c.entry('other', 1, msg(3), false);
  assert.ok(gone);
  for (let uid = 10; uid <= 12; uid++) c.grow(c.entry('third', 1, msg(uid), true)!, 100);
  assert.equal(c.entry('other', 1, msg(gone.uid), false), undefined, 'evicted by the third mailbox');
  const live = [10, 11, 12].filter((uid) => c.entry('third', 1, msg(uid), false) !== undefined);
  c.grow(gone, 10_000);
  assert.deepEqual([10, 11, 12].filter((uid) => c.entry('third', 1, msg(uid), false) !== undefined), live);
  assert.equal(c.fits(3 * 164 / 8), true);
  assert.equal(c.fits(3 * 164 / 8 + 1), false);
});

/** A content store in memory, as the sidecar answers (by UID, for the file it was made for). */
function memoryStore(): ContentStore & { readonly added: number[] } {
  const recs = new Map<number, { guid: string; rec: ContentRecord }>();
  const added: number[] = [];
  return {
    added,
    get: (uid, guid) => (recs.get(uid)?.guid === guid ? recs.get(uid)!.rec : undefined),
    add(uid, guid, values) {
      added.push(uid);
      const old = recs.get(uid);
      recs.set(uid, { guid, rec: { ...(old?.guid === guid ? old.rec : {}), ...values } });
    },
  };
}

let boxes = 0;
/** A view of a mailbox this process has never cached (its own GUID), backed by `store`. */
const viewOn = (store: ContentStore | undefined, guid = `box-${++boxes}`): MailboxView =>
  ({ mailboxGuid: guid, uidValidity: 1, contentStore: store }) as unknown as MailboxView;

test('cachedItem: a value computed once is added to the content store, and a cold cache finds it there', async () => {
  const store = memoryStore();
  let computed = 0;
  const compute = async (): Promise<string> => `ENV${++computed}`;
  assert.equal(await cachedItem(viewOn(store), msg(1), 'ENVELOPE', compute), 'ENV1');
  assert.deepEqual(store.added, [1]);
  assert.equal(store.get(1, 'g1')?.envelope, 'ENV1');
  // Another mailbox GUID: nothing of it in this process's memory (as after a restart, or in
  // another shard), the same store: answered from the store, not computed again.
  const cold = viewOn(store);
  assert.equal(await cachedItem(cold, msg(1), 'ENVELOPE', compute), 'ENV1');
  assert.equal(computed, 1);
  assert.deepEqual(store.added, [1], 'nothing written again for a value read from the store');
  // Values the store lacks are computed and added; another file under the UID is not answered.
  assert.equal(await cachedItem(cold, msg(1), 'BODY', async () => 'BODY1'), 'BODY1');
  assert.equal(store.get(1, 'g1')?.body, 'BODY1');
  assert.equal(await cachedItem(viewOn(store), msg(1, 'other-file'), 'ENVELOPE', compute), 'ENV2');
});

test('cachedHeader: header fields go to the store; a cold cache answers them without a read, even synchronously', async () => {
  const store = memoryStore();
  const fields = [{ name: 'Subject', value: ' hello' }, { name: 'From', value: ' a@example.com' }];
  let reads = 0;
  const read = async () => {
    reads++;
    return fields.map((f) => ({ ...f, raw: '' })) as never;
  };
  assert.deepEqual((await cachedHeader(viewOn(store), msg(3), read)).fields, fields);
  assert.deepEqual(store.get(3, 'g3')?.header, ['Subject', ' hello', 'From', ' a@example.com']);
  const cold = viewOn(store);
  assert.deepEqual(cachedHeaderNow(cold, msg(3))?.fields, fields);
  assert.deepEqual((await cachedHeader(viewOn(store), msg(3), read)).fields, fields);
  assert.equal(reads, 1);
  assert.equal(cachedHeaderNow(viewOn(store), msg(4)), undefined, 'nothing kept for UID 4');
});

test('cachedItem: a value over PERSIST_CHARS stays in memory only; a view without a mailbox GUID uses no store', async () => {
  const store = memoryStore();
  const big = 'x'.repeat(PERSIST_CHARS + 1);
  assert.equal(await cachedItem(viewOn(store), msg(1), 'BODYSTRUCTURE', async () => big), big);
  assert.deepEqual(store.added, []);
  assert.equal(await cachedItem(viewOn(store, ''), msg(2), 'ENVELOPE', async () => 'E'), 'E');
  assert.deepEqual(store.added, []);
});

test('cachedHeader: fields computed for ENVELOPE (persist false) stay out of the store until SEARCH or SORT asks for them', async () => {
  const store = memoryStore();
  const view = viewOn(store);
  const read = async () => [{ name: 'Subject', value: ' x', raw: '' }] as never;
  await cachedHeader(view, msg(5), read, false);
  assert.deepEqual(store.added, [], 'not written for ENVELOPE');
  // SEARCH's synchronous pass finds them in memory and offers them to the store, once.
  assert.deepEqual(cachedHeaderNow(view, msg(5))?.fields, [{ name: 'Subject', value: ' x' }]);
  cachedHeaderNow(view, msg(5));
  await cachedHeader(view, msg(5), read);
  assert.deepEqual(store.added, [5]);
  assert.deepEqual(store.get(5, 'g5')?.header, ['Subject', ' x']);
  // The asynchronous path (SORT, SEARCH on a miss) offers them too.
  await cachedHeader(view, msg(6), read, false);
  await cachedHeader(view, msg(6), read);
  assert.deepEqual(store.added, [5, 6]);
});
