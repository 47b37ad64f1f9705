/*
 * A mailbox nobody changed is not rebuilt on every command (mda/storage/maildir/mailbox.ts
 * `lastSync`, keywords.ts keeping the table's identity, view.ts comparing snapshots by identity):
 * its sync() hands back the same snapshot object and the view reports nothing. Every change another
 * process makes must still come through: a flag rename, a new keyword, a delivery, an unlink.
 * Date.now is moved ahead so the stamps count as settled at once (the one-second dirty rule).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MaildirMailbox, type MailboxSnapshot } from '../../../../mda/storage/maildir/mailbox.js';
import { openMailStore } from '../../../../mda/storage/api.js';
import { Sidecar } from '../../../../mda/storage/maildir/sidecar.js';
import { tempStore } from '../helpers.js';

const MSG = Buffer.from('From: a@example.org\r\nSubject: s\r\n\r\nbody\r\n');

/** The file in cur/ of the message with UID `uid` (by its base name: file names do not sort by UID). */
function fileOf(cur: string, view: { byUid(uid: number): { guid: string } | undefined }, uid: number): string {
  const base = view.byUid(uid)!.guid;
  return readdirSync(cur).find((f) => f.split(':')[0] === base)!;
}

function spySnapshots(t: TestContext): MailboxSnapshot[] {
  const seen: MailboxSnapshot[] = [];
  const orig = MaildirMailbox.prototype.sync;
  t.mock.method(MaildirMailbox.prototype, 'sync', async function (this: MaildirMailbox, ...a: Parameters<typeof orig>) {
    const s = await orig.apply(this, a);
    seen.push(s);
    return s;
  });
  return seen;
}

/** Counts the directory listings the mailboxes make (readdir of new/ or cur/). */
function countListings(t: TestContext): { count(): number; reset(): void } {
  let n = 0;
  const proto = MaildirMailbox.prototype as unknown as { listDir(sub: string): string[] };
  const orig = proto.listDir;
  t.mock.method(proto, 'listDir', function (this: unknown, sub: string) {
    n++;
    return orig.call(this, sub);
  });
  return { count: () => n, reset: () => void (n = 0) };
}

/** Moves the clock `ms` further ahead (cumulative), so stamps taken now are settled. */
function clock(t: TestContext): (ms: number) => void {
  const real = Date.now.bind(Date);
  let ahead = 0;
  t.mock.method(Date, 'now', () => real() + ahead);
  return (ms) => void (ahead += ms);
}

test('an unchanged mailbox gives the same snapshot back; changes by another process still show', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 0; i < 3; i++) await store.append('INBOX', MSG);
  const forward = clock(t);
  const snaps = spySnapshots(t);
  const view = await store.openMailbox('INBOX', { readOnly: false });
  forward(5000);
  await view.refresh();
  const quiet = await view.refresh();
  assert.equal(snaps.at(-1), snaps.at(-2), 'a settled, unchanged mailbox was rebuilt');
  assert.deepEqual([quiet.expunged, quiet.added, quiet.flagChanges], [[], [], []]);
  assert.equal(quiet.exists, 3);

  // Another process sets \Seen on the second message (a rename in cur/).
  const cur = join(root, 'cur');
  const second = fileOf(cur, view, 2);
  renameSync(join(cur, second), join(cur, second.replace(/:2,.*$/, ':2,S')));
  forward(5000);
  const flagged = await view.refresh();
  assert.deepEqual(flagged.flagChanges.map((m) => [m.uid, m.flags]), [[2, ['\\Seen']]]);
  assert.notEqual(snaps.at(-1), snaps.at(-2));

  // ... adds a keyword (dovecot-keywords, then the letter a in the file name).
  writeFileSync(join(root, 'dovecot-keywords'), '0 $Important\n');
  const first = fileOf(cur, view, 1);
  renameSync(join(cur, first), join(cur, first.replace(/:2,.*$/, ':2,a')));
  forward(5000);
  const kw = await view.refresh();
  assert.deepEqual(kw.flagChanges.map((m) => [m.uid, m.flags]), [[1, ['$Important']]]);
  assert.equal(kw.keywordsChanged, true);

  // ... delivers a message into new/, and unlinks the third.
  writeFileSync(join(root, 'new', '1700000000.M1P1.otherhost,S=40'), MSG);
  unlinkSync(join(cur, fileOf(cur, view, 3)));
  forward(5000);
  const both = await view.refresh();
  assert.deepEqual(both.expunged, [3]);
  assert.deepEqual(both.added.map((m) => m.uid), [4]);

  // Quiet again: the same snapshot once more.
  forward(5000);
  await view.refresh();
  const again = await view.refresh();
  assert.equal(snaps.at(-1), snaps.at(-2));
  assert.deepEqual([again.expunged, again.added, again.flagChanges], [[], [], []]);
  await view.close();
});

test('within the dirty window a change is seen at the latest once the stamps settle', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 0; i < 2; i++) await store.append('INBOX', MSG);
  const view = await store.openMailbox('INBOX', { readOnly: false });
  const forward = clock(t);
  // No clock change yet: everything was just written, so every stamp is dirty. A stamp that moved
  // shows the change at once; one that could not (the same clock tick) at the delayed second
  // listing once it settles (StampedCache, Dovecot's DIR_DELAYED_REFRESH).
  const cur = join(root, 'cur');
  const f = fileOf(cur, view, 1);
  renameSync(join(cur, f), join(cur, f.replace(/:2,.*$/, ':2,F')));
  const first = await view.refresh();
  forward(5000);
  const second = await view.refresh();
  assert.deepEqual([...first.flagChanges, ...second.flagChanges].map((m) => [m.uid, m.flags]), [[1, ['\\Flagged']]]);
  await view.close();
});

test('after its own STORE a session does not list cur/ again while the stamps are dirty; once they settle it lists once more', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 0; i < 3; i++) await store.append('INBOX', MSG);
  const forward = clock(t);
  // The clock 10 s behind: every stamp taken now is dirty (newer than "now").
  forward(-10_000);
  const view = await store.openMailbox('INBOX', { readOnly: false });
  await view.refresh();
  const listings = countListings(t);
  await view.store([2], { mode: 'add', flags: ['\\Seen'] });
  const quiet = await view.refresh();
  await view.refresh();
  assert.equal(listings.count(), 0, 'a command after our own STORE listed the directories again');
  assert.deepEqual([quiet.expunged, quiet.added, quiet.flagChanges], [[], [], []]);
  // Another process flags message 3; settled stamps bring the second listing, which sees it.
  const name = fileOf(join(root, 'cur'), view, 3);
  renameSync(join(root, 'cur', name), join(root, 'cur', name.replace(/:2,.*$/, ':2,F')));
  forward(20_000);
  const r = await view.refresh();
  assert.ok(listings.count() > 0);
  assert.deepEqual(r.flagChanges.map((m) => [m.uid, m.flags]), [[3, ['\\Flagged']]]);
  assert.deepEqual(view.byUid(2)!.flags, ['\\Seen']);
  // Settled and quiet: no listing at all.
  listings.reset();
  await view.refresh();
  assert.equal(listings.count(), 0);
  await view.close();
});

test('STORE and EXPUNGE build their snapshot from their own changes, without listing again; others\' changes come at the next sync', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 0; i < 4; i++) await store.append('INBOX', MSG);
  const forward = clock(t);
  const view = await store.openMailbox('INBOX', { readOnly: false });
  forward(5000);
  await view.refresh();
  const listings = countListings(t);
  const hms = (await store.status('INBOX')).highestModseq;
  listings.reset();
  const stored = await view.store([1, 3], { mode: 'add', flags: ['\\Flagged'] });
  assert.equal(listings.count(), 0, 'STORE listed new/ and cur/');
  assert.deepEqual(stored.updated.map((m) => [m.uid, m.flags, m.modseq]), [[1, ['\\Flagged'], hms + 1], [3, ['\\Flagged'], hms + 2]]);
  const cur = join(root, 'cur');
  assert.match(fileOf(cur, view, 1), /:2,F$/);
  // Another process flags message 2 right after; the next refresh (the clock is ahead, so the
  // stamps after our rename are settled at once) lists the directory and reports that change, and
  // nothing for ours.
  const second = fileOf(cur, view, 2);
  renameSync(join(cur, second), join(cur, second.replace(/:2,.*$/, ':2,S')));
  const r = await view.refresh();
  assert.ok(listings.count() > 0);
  assert.deepEqual(r.flagChanges.map((m) => [m.uid, m.flags]), [[2, ['\\Seen']]]);
  assert.equal(view.byUid(1)!.modseq, hms + 1, 'our own change kept its modseq');

  // EXPUNGE of a \Deleted message: unlinked, and the snapshot after it built without a listing.
  forward(5000);
  await view.refresh();
  await view.store([4], { mode: 'add', flags: ['\\Deleted'] });
  forward(5000);
  await view.refresh();
  listings.reset();
  assert.deepEqual(await view.expunge({ onlyDeleted: true }), [4]);
  assert.equal(listings.count(), 0, 'EXPUNGE listed new/ and cur/');
  const after = await view.refresh();
  assert.deepEqual(after.expunged, [4]);
  assert.deepEqual(readdirSync(cur).length, 3);
  await view.close();
});

test('a delivery by another process between a STORE and its snapshot keeps its uidlist record and UID', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 0; i < 3; i++) await store.append('INBOX', MSG);
  const other = await openMailStore({ mailLocation: `maildir:${root}`, user: 'alice', hostname: 'otherhost' });
  t.after(() => other.close());
  const view = await store.openMailbox('INBOX', { readOnly: false });
  // The other process delivers right after the STORE's rename, before its snapshot is built: the
  // new file is in no listing this process made, but its record is in dovecot-uidlist.
  let delivered: number | undefined;
  const orig = MaildirMailbox.prototype.syncAfterOwnChanges;
  t.mock.method(MaildirMailbox.prototype, 'syncAfterOwnChanges', async function (this: MaildirMailbox, ...a: Parameters<typeof orig>) {
    delivered ??= (await other.deliver('INBOX', MSG)).uid;
    return orig.apply(this, a);
  });
  await view.store([1], { mode: 'add', flags: ['\\Seen'] });
  assert.equal(delivered, 4);
  const base = readdirSync(join(root, 'new'))[0]!.split(':')[0]!;
  assert.match(readFileSync(join(root, 'dovecot-uidlist'), 'latin1'), new RegExp(`^4 .*:${base.replace(/\./g, '\\.')}$`, 'm'), 'the new record was dropped from dovecot-uidlist');
  const r = await view.refresh();
  assert.deepEqual(r.added.map((m) => m.uid), [4]);
  assert.equal(view.byUid(4)!.guid, base);
});

test('a listing kept from a dirty stamp is read again when another session changed the mailbox (the sidecar says so)', async (t) => {
  const { store } = await tempStore(t);
  for (let i = 0; i < 3; i++) await store.append('INBOX', MSG);
  const forward = clock(t);
  forward(-10_000); // every stamp is dirty
  const view = await store.openMailbox('INBOX', { readOnly: false });
  await view.refresh();
  const listings = countListings(t);
  await view.refresh();
  assert.equal(listings.count(), 0, 'unchanged stamps, nobody else: the kept listing serves');
  // Nothing on disk changes, but the sidecar reports another writer: the dirty listings go.
  const proto = Sidecar.prototype as unknown as { changedByOthers(box: string): boolean };
  const mock = t.mock.method(proto, 'changedByOthers', () => true);
  await view.refresh();
  assert.equal(listings.count(), 2, 'new/ and cur/ listed again');
  mock.mock.restore();
  listings.reset();
  await view.refresh();
  assert.equal(listings.count(), 0);
  await view.close();
});

test('after its own APPEND or delivery the sync derives the listing instead of reading the directory; another process\'s file, before or after ours, is still seen at once', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 0; i < 3; i++) await store.append('INBOX', MSG, { flags: ['\\Seen'] });
  // The clock 10 s behind: every stamp is dirty, so only a moved stamp or a derived listing
  // can account for what the syncs see.
  const forward = clock(t);
  forward(-10_000);
  const view = await store.openMailbox('INBOX', { readOnly: false });
  await view.refresh();
  const listings = countListings(t);

  // Our own saves, into cur/ (APPEND with flags) and new/ (delivery): no listing, both seen.
  await store.append('INBOX', MSG, { flags: ['\\Seen'] });
  let r = await view.refresh();
  await store.deliver('INBOX', MSG);
  r = { ...r, added: [...r.added, ...(await view.refresh()).added] };
  assert.equal(listings.count(), 0, 'the sync after our own save listed the directory');
  assert.deepEqual(r.added.map((m) => [m.uid, m.flags]), [[4, ['\\Seen']], [5, []]]);

  // (That refresh moved the delivery to cur/, a change it did not list; the next one lists once.)
  await view.refresh();
  // Another process drops a file into new/ right after our APPEND there (no flags): the stamp
  // after our rename is no longer the directory's, so the sync lists it and sees both.
  await store.append('INBOX', MSG);
  writeFileSync(join(root, 'new', '1700000000.M1P1.otherhost,S=40'), MSG);
  listings.reset();
  r = await view.refresh();
  assert.ok(listings.count() > 0);
  assert.deepEqual(r.added.map((m) => m.uid), [6, 7]);

  await view.refresh();
  // ... or into cur/ just before our APPEND: the stamp before our rename is not the one of the
  // listing we hold, so again a listing.
  writeFileSync(join(root, 'cur', '1700000001.M2P1.otherhost,S=40:2,F'), MSG);
  await store.append('INBOX', MSG, { flags: ['\\Seen'] });
  listings.reset();
  r = await view.refresh();
  assert.ok(listings.count() > 0);
  // (Ours took its UID in its own uidlist update; the other file gets the next one at this sync.)
  assert.deepEqual(r.added.map((m) => [m.uid, m.flags]), [[8, ['\\Seen']], [9, ['\\Flagged']]]);
  await view.close();
});

test('saves noted without a sync in between are bounded: past 64 the next sync lists the directory', async (t) => {
  const { store } = await tempStore(t);
  await store.append('INBOX', MSG, { flags: ['\\Seen'] });
  const forward = clock(t);
  forward(-10_000);
  const view = await store.openMailbox('INBOX', { readOnly: false });
  await view.refresh();
  const listings = countListings(t);
  for (let i = 0; i < 64; i++) await store.append('INBOX', MSG, { flags: ['\\Seen'] });
  assert.equal((await view.refresh()).added.length, 64);
  assert.equal(listings.count(), 0, '64 saves are derived');
  for (let i = 0; i < 65; i++) await store.append('INBOX', MSG, { flags: ['\\Seen'] });
  assert.equal((await view.refresh()).added.length, 65);
  assert.ok(listings.count() > 0, 'the 65th save stopped the derived listing');
  await view.close();
});

test('a seeded walk of STOREs, APPENDs, deliveries and EXPUNGEs: the session\'s view always equals a fresh process\'s full sync (UIDs, flags, modseqs)', async (t) => {
  // The session's own changes patch its listing, pairing and modseqs (mailbox.ts patchPresent,
  // file-index.ts, the sidecar's answers in input order); a second store opened on the same maildir
  // builds everything from the directories, the uidlist and the sidecar's records. Every step must
  // agree, whether the stamps are dirty (derived listings kept) or settled (listed again).
  const { store, root } = await tempStore(t);
  for (let i = 0; i < 12; i++) await store.append('INBOX', MSG, { flags: i % 3 === 0 ? [] : ['\\Seen'] });
  const forward = clock(t);
  forward(-10_000);
  const view = await store.openMailbox('INBOX', { readOnly: false });
  let seed = 4242;
  const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const flagSets = [['\\Seen'], ['\\Flagged'], ['\\Answered', '\\Seen'], ['$Label1'], ['\\Draft']];
  const shape = (ms: readonly { uid: number; flags: readonly string[]; modseq: number }[]): string[] =>
    ms.map((m) => `${m.uid} ${[...m.flags].sort().join(',')} ${m.modseq}`);
  for (let step = 0; step < 150; step++) {
    const op = rnd(10);
    const list = view.messages();
    const pick = list[rnd(Math.max(1, list.length))];
    if (op < 5 && pick !== undefined) {
      await view.store([pick.uid], { mode: (['add', 'remove', 'replace'] as const)[rnd(3)]!, flags: flagSets[rnd(flagSets.length)]! });
    } else if (op < 7) {
      await store.append('INBOX', MSG, rnd(2) === 0 ? { flags: ['\\Seen'] } : {});
    } else if (op === 7) {
      const other = await openMailStore({ mailLocation: `maildir:${root}`, user: 'alice', hostname: 'otherhost' });
      await other.deliver('INBOX', MSG);
      await other.close();
    } else if (pick !== undefined) {
      await view.store([pick.uid], { mode: 'add', flags: ['\\Deleted'] });
      await view.expunge();
    }
    if (rnd(4) === 0) forward(5_000); // the stamps settle now and then
    await view.refresh();
    const fresh = await openMailStore({ mailLocation: `maildir:${root}`, user: 'alice', hostname: 'checker' });
    const check = await fresh.openMailbox('INBOX', { readOnly: true });
    assert.deepEqual(shape(view.messages()), shape(check.messages()), `step ${step} (op ${op})`);
    await check.close();
    await fresh.close();
  }
  await view.close();
});

test('mayHaveChanged (IDLE\'s start): false only while a refresh would find nothing; every change, another process\'s or another session\'s, makes it true', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 0; i < 3; i++) await store.append('INBOX', MSG);
  const forward = clock(t);
  const view = await store.openMailbox('INBOX', { readOnly: false });
  // Just written: the stamps are dirty, so it cannot tell.
  assert.equal(view.mayHaveChanged!(), true);
  forward(5000);
  await view.refresh();
  forward(5000);
  assert.equal(view.mayHaveChanged!(), false, 'settled and unchanged');
  const cur = join(root, 'cur');
  const cases: [string, () => Promise<void> | void][] = [
    ['a flag rename by another process', () => {
      const f = fileOf(cur, view, 2);
      renameSync(join(cur, f), join(cur, f.replace(/:2,.*$/, ':2,S')));
    }],
    ['a delivery by another process', () => writeFileSync(join(root, 'new', '1700000000.M9P9.otherhost,S=40'), MSG)],
    ['a keyword defined by another process', () => writeFileSync(join(root, 'dovecot-keywords'), '0 $Important\n')],
    ['an unlink by another process', () => unlinkSync(join(cur, fileOf(cur, view, 1)))],
    ['a STORE by another session of ours (the sidecar)', async () => {
      const other = await openMailStore({ mailLocation: `maildir:${root}`, user: 'alice', hostname: 'testhost' });
      const v2 = await other.openMailbox('INBOX', { readOnly: false });
      await v2.store([v2.messages()[0]!.uid], { mode: 'add', flags: ['\\Flagged'] });
      await v2.close();
      await other.close();
    }],
  ];
  for (const [what, change] of cases) {
    await change();
    forward(5000);
    assert.equal(view.mayHaveChanged!(), true, what);
    const ch = await view.refresh();
    assert.ok(ch.flagChanges.length + ch.added.length + ch.expunged.length > 0 || ch.keywordsChanged, `${what}: the refresh found it`);
    forward(5000);
    await view.refresh();
    forward(5000);
    assert.equal(view.mayHaveChanged!(), false, `${what}: quiet again`);
  }
  await view.close();
});
