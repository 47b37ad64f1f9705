/*
 * The content cache's bookkeeping (mda/imap/fetch/content-cache.ts ContentCache): entries by
 * mailbox, UIDVALIDITY and UID, valid for the message GUID they were made for; bounded by
 * characters, evicted oldest first except that an entry asked for since the last pass gets a
 * second chance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentCache } from '../../../../mda/imap/fetch/content-cache.js';
import type { MessageInfo } from '../../../../mda/storage/api.js';

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
