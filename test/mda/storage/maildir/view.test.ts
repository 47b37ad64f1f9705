/* Behaviour tests of mailbox views: \Recent, flags/keywords, MODSEQ, two sessions, copy/move/expunge, reads, IDLE hook. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../../../../mda/storage/api.js';
import { corpus, corpusBytes, tempStore } from '../helpers.js';

const msg = (n: number): Buffer => Buffer.from(`Subject: message ${n}\r\n\r\nbody ${n}\r\n`);

test('SELECT moves new/ to cur/ and claims \\Recent once; EXAMINE shows \\Recent but claims nothing', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 1; i <= 3; i++) await store.deliver('INBOX', msg(i));
  const ex = await store.openMailbox('INBOX', { readOnly: true });
  assert.equal(readdirSync(join(root, 'new')).length, 3);
  // Dovecot 2.3.19 (observed): EXAMINE reports unclaimed messages as \Recent and leaves them so.
  assert.deepEqual(ex.messages().map((m) => m.recent), [true, true, true]);
  const sel = await store.openMailbox('INBOX', { readOnly: false });
  assert.deepEqual(sel.messages().map((m) => m.recent), [true, true, true]);
  assert.deepEqual(readdirSync(join(root, 'new')), []);
  assert.ok(readdirSync(join(root, 'cur')).every((f) => f.endsWith(':2,')));
  assert.equal((await store.status('INBOX')).recent, 0);
  const again = await store.openMailbox('INBOX', { readOnly: false });
  assert.deepEqual(again.messages().map((m) => m.recent), [false, false, false]);
  await store.deliver('INBOX', msg(4));
  const ch = await sel.refresh();
  assert.deepEqual(ch.added.map((m) => [m.uid, m.seq, m.recent]), [[4, 4, true]]);
  assert.equal(ch.recent, 4);
  assert.equal((await again.refresh()).added[0]!.recent, false);
});

test('the first SELECT after deliveries claims them even when nothing synced the mailbox before', async (t) => {
  const { store } = await tempStore(t);
  for (let i = 1; i <= 3; i++) await store.deliver('INBOX', msg(i));
  // No STATUS or EXAMINE first: the SELECT's own sync moves new/ to cur/ before the sidecar sees them.
  const sel = await store.openMailbox('INBOX', { readOnly: false });
  assert.deepEqual(sel.messages().map((m) => m.recent), [true, true, true]);
  assert.equal(sel.status().recent, 3);
  const again = await store.openMailbox('INBOX', { readOnly: false });
  assert.equal(again.status().recent, 0);
});

test('STATUS and EXAMINE count unclaimed messages as \\Recent without claiming them', async (t) => {
  const { store } = await tempStore(t);
  for (let i = 1; i <= 2; i++) await store.deliver('INBOX', msg(i));
  assert.equal((await store.status('INBOX')).recent, 2);
  const ex = await store.openMailbox('INBOX', { readOnly: true });
  assert.equal(ex.status().recent, 2);
  assert.equal((await store.status('INBOX')).recent, 2);
  const sel = await store.openMailbox('INBOX', { readOnly: false });
  assert.equal(sel.status().recent, 2);
  assert.equal((await store.status('INBOX')).recent, 0);
  // A delivery after the claim is \Recent for STATUS and a later EXAMINE, and then for the next SELECT.
  await store.deliver('INBOX', msg(3));
  assert.equal((await store.status('INBOX')).recent, 1);
  const ex2 = await store.openMailbox('INBOX', { readOnly: true });
  assert.deepEqual(ex2.messages().map((m) => m.recent), [false, false, true]);
  // The read-only view already open sees the new message as \Recent on refresh, still claiming nothing.
  assert.deepEqual((await ex.refresh()).added.map((m) => [m.uid, m.recent]), [[3, true]]);
  const sel2 = await store.openMailbox('INBOX', { readOnly: false });
  assert.deepEqual(sel2.messages().map((m) => m.recent), [false, false, true]);
  assert.equal((await store.status('INBOX')).recent, 0);
});

test('messages found in cur/ by a fresh index are \\Recent until claimed, as in Dovecot', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 1; i <= 2; i++) await store.deliver('INBOX', msg(i));
  const v = await store.openMailbox('INBOX', { readOnly: false });
  await v.store([1, 2], { mode: 'add', flags: ['\\Seen'] });
  await store.close();
  rmSync(join(root, 'postern-index.lmdb'), { force: true });
  rmSync(join(root, 'postern-index.lmdb-lock'), { force: true });
  const { openMailStore } = await import('../../../../mda/storage/api.js');
  const s2 = await openMailStore({ mailLocation: `maildir:${root}`, user: 'alice' });
  t.after(() => s2.close());
  assert.equal(readdirSync(join(root, 'new')).length, 0);
  assert.equal((await s2.status('INBOX')).recent, 2);
  assert.equal((await s2.openMailbox('INBOX', { readOnly: false })).status().recent, 2);
  assert.equal((await s2.status('INBOX')).recent, 0);
});

test('STORE add/remove/replace renames files, keeps unknown letters, bumps MODSEQ, honours UNCHANGEDSINCE', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 1; i <= 3; i++) await store.deliver('INBOX', msg(i));
  const v = await store.openMailbox('INBOX', { readOnly: false });
  const hms0 = v.highestModseq;
  const r1 = await v.store([1, 2], { mode: 'add', flags: ['\\Seen', '\\Flagged', '$Junk'] });
  assert.deepEqual(r1.updated.map((m) => m.flags.join(' ')), ['\\Flagged \\Seen $Junk', '\\Flagged \\Seen $Junk']);
  assert.ok(r1.updated.every((m) => m.modseq > hms0));
  // By flags, not by sorted name: names of deliveries that straddle a second sort by their
  // microseconds as text (M12710 before M783), not in delivery order.
  const names = readdirSync(join(root, 'cur'));
  assert.deepEqual(names.map((n) => n.slice(n.indexOf(':2,'))).sort(), [':2,', ':2,FSa', ':2,FSa'], names.join());
  await v.store([2], { mode: 'remove', flags: ['\\Flagged'] });
  await v.store([3], { mode: 'replace', flags: ['\\Answered', 'project'] });
  assert.deepEqual(v.messages().map((m) => m.flags.join(' ')), ['\\Flagged \\Seen $Junk', '\\Seen $Junk', '\\Answered project']);
  assert.equal(readFileSync(join(root, 'dovecot-keywords'), 'utf8'), '0 $Junk\n1 project\n');
  assert.deepEqual([...v.keywords()], ['$Junk', 'project']);
  // Unknown letters survive.
  const f1 = readdirSync(join(root, 'cur')).find((f) => f.endsWith(':2,FSa'))!;
  const { renameSync } = await import('node:fs');
  renameSync(join(root, 'cur', f1), join(root, 'cur', f1.replace(':2,FSa', ':2,FPSXa')));
  await v.refresh();
  await v.store([1], { mode: 'remove', flags: ['\\Flagged'] });
  assert.ok(readdirSync(join(root, 'cur')).some((f) => f.endsWith(':2,PSXa')));
  // UNCHANGEDSINCE
  const m2 = v.byUid(2)!;
  const cond = await v.store([1, 2], { mode: 'add', flags: ['\\Deleted'], unchangedSince: m2.modseq - 1 });
  assert.deepEqual(cond.modified, [1, 2]);
  const ok = await v.store([2], { mode: 'add', flags: ['\\Deleted'], unchangedSince: m2.modseq });
  assert.deepEqual(ok.modified, []);
  assert.ok(v.byUid(2)!.flags.includes('\\Deleted'));
  assert.ok(v.highestModseq >= v.byUid(2)!.modseq);
  const ro = await store.openMailbox('INBOX', { readOnly: true });
  await assert.rejects(ro.store([1], { mode: 'add', flags: ['\\Seen'] }), (e: StorageError) => e.kind === 'PERM');
});

test('two views of one mailbox see each other\'s changes only on refresh()', async (t) => {
  const { store } = await tempStore(t);
  for (let i = 1; i <= 4; i++) await store.deliver('INBOX', msg(i));
  const a = await store.openMailbox('INBOX', { readOnly: false });
  const b = await store.openMailbox('INBOX', { readOnly: false });
  await a.store([2], { mode: 'add', flags: ['\\Seen'] });
  assert.deepEqual(b.byUid(2)!.flags, []);
  const c1 = await b.refresh();
  assert.deepEqual(c1.flagChanges.map((m) => [m.seq, m.uid, m.flags.join(' ')]), [[2, 2, '\\Seen']]);
  assert.deepEqual((await a.refresh()).flagChanges, []);
  await a.store([1, 3], { mode: 'add', flags: ['\\Deleted'] });
  assert.deepEqual(await a.expunge(), [1, 3]);
  assert.equal(b.messages().length, 4);
  await store.deliver('INBOX', msg(5));
  const c2 = await b.refresh();
  assert.deepEqual(c2.expunged, [1, 3]);
  assert.deepEqual(c2.expungedSeqs, [3, 1]);
  assert.deepEqual(c2.added.map((m) => [m.uid, m.seq]), [[5, 3]]);
  assert.equal(c2.exists, 3);
  assert.deepEqual(b.messages().map((m) => m.uid), [2, 4, 5]);
  assert.deepEqual(b.bySeq(2)!.uid, 4);
  const vanished = await b.vanishedSince(0);
  assert.deepEqual(vanished.sort(), [1, 3]);
  assert.deepEqual(await b.vanishedSince(b.highestModseq), []);
});

test('expunge removes only \\Deleted (or the given UIDs), drops uidlist records, never lowers N', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 1; i <= 5; i++) await store.deliver('INBOX', msg(i));
  const v = await store.openMailbox('INBOX', { readOnly: false });
  await v.store([5], { mode: 'add', flags: ['\\Deleted'] });
  assert.deepEqual(await v.expunge({ uids: [1, 5] }), [5]);
  assert.deepEqual(await v.expunge({ uids: [1], onlyDeleted: false }), [1]);
  const list = readFileSync(join(root, 'dovecot-uidlist'), 'utf8').split('\n').filter(Boolean);
  assert.match(list[0]!, / N6 /);
  assert.deepEqual(list.slice(1).map((l) => Number(l.split(' ')[0])), [2, 3, 4]);
  assert.equal(readdirSync(join(root, 'cur')).length, 3);
  assert.equal((await store.deliver('INBOX', msg(6))).uid, 6);
});

test('COPY hard-links the same base name and remaps keywords; MOVE expunges the source', async (t) => {
  const { store, root } = await tempStore(t);
  await store.create('Work');
  await store.create('Work.Sub');
  await store.append('Work', msg(0), { flags: ['zzz'] });
  for (let i = 1; i <= 3; i++) await store.deliver('INBOX', msg(i));
  const v = await store.openMailbox('INBOX', { readOnly: false });
  await v.store([1], { mode: 'add', flags: ['\\Seen', 'project'] });
  const c = await v.copy([1, 2], 'Work');
  assert.deepEqual(c.srcUids, [1, 2]);
  assert.deepEqual(c.dstUids, [2, 3]);
  assert.equal(c.uidValidity, (await store.status('Work')).uidValidity);
  assert.equal(readFileSync(join(root, '.Work', 'dovecot-keywords'), 'utf8'), '0 zzz\n1 project\n');
  const src = readdirSync(join(root, 'cur')).find((f) => f.endsWith(':2,Sa'))!;
  const dst = readdirSync(join(root, '.Work', 'cur')).find((f) => f.endsWith(':2,Sb'))!;
  assert.equal(src.split(':')[0], dst.split(':')[0]);
  assert.equal(statSync(join(root, 'cur', src)).ino, statSync(join(root, '.Work', 'cur', dst)).ino);
  // Copying the same message again needs a fresh base name.
  const again = await v.copy([2], 'Work');
  assert.deepEqual(again.dstUids, [4]);
  const w = await store.openMailbox('Work', { readOnly: true });
  assert.equal(new Set(w.messages().map((m) => m.guid)).size, 4);
  const mv = await v.move([3], 'Work.Sub');
  assert.deepEqual(mv.dstUids, [1]);
  assert.deepEqual(readdirSync(join(root, '.Work.Sub', 'new')).length, 1);
  assert.deepEqual((await v.refresh()).expunged, [3]);
  await assert.rejects(v.copy([1], 'Nope'), (e: StorageError) => e.kind === 'NOTFOUND');
});

test('two sessions copying the same message at once: both copies saved under distinct names', async (t) => {
  // Each copy lists the destination first and keeps the source's base name when it is free there;
  // a copy made meanwhile by another session (or process) took it: the link fails with EEXIST,
  // which answered NO [SERVERBUG] until the copy took a fresh name, as for a name already taken.
  const { store, root } = await tempStore(t);
  await store.create('Work');
  await store.deliver('INBOX', msg(1));
  const a = await store.openMailbox('INBOX', { readOnly: false });
  const b = await store.openMailbox('INBOX', { readOnly: false });
  const [ca, cb] = await Promise.all([a.copy([1], 'Work'), b.copy([1], 'Work')]);
  assert.deepEqual([...ca.dstUids, ...cb.dstUids].sort(), [1, 2]);
  const names = readdirSync(join(root, '.Work', 'new'));
  assert.equal(names.length, 2);
  assert.equal(new Set(names.map((f) => f.split(':')[0])).size, 2);
  const w = await store.openMailbox('Work', { readOnly: true });
  assert.deepEqual(w.messages().map((m) => m.uid), [1, 2]);
});

test('reads: LF on disk, CRLF on request matches the original CRLF message; ranges; sizes', async (t) => {
  const { store } = await tempStore(t);
  const crlf = corpus().filter((e) => e.eol === 'crlf').slice(0, 10);
  for (const e of crlf) await store.deliver('INBOX', corpusBytes(e));
  const v = await store.openMailbox('INBOX', { readOnly: true });
  for (let i = 0; i < crlf.length; i++) {
    const uid = i + 1;
    const orig = corpusBytes(crlf[i]!);
    assert.deepEqual(await v.read(uid, { crlf: true }), orig, crlf[i]!.file);
    assert.equal((await v.read(uid)).length, crlf[i]!.lfSize);
    assert.deepEqual(await v.messageSizes(uid), { physical: crlf[i]!.lfSize, virtual: crlf[i]!.crlfSize });
    assert.equal(v.byUid(uid)!.virtualSize, crlf[i]!.crlfSize);
    const chunks: Buffer[] = [];
    for await (const c of await v.stream(uid, { crlf: true })) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), orig);
  }
  assert.deepEqual(await v.read(1, { crlf: true, start: 5, end: 15 }), corpusBytes(crlf[0]!).subarray(5, 15));
  const st = await store.status('INBOX');
  assert.equal(st.size, crlf.reduce((a, e) => a + e.crlfSize, 0));
});

test('a file vanishing under a view is an expunge, not an error', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 1; i <= 2; i++) await store.deliver('INBOX', msg(i));
  const v = await store.openMailbox('INBOX', { readOnly: false });
  // UID 1's file by its base name (maildir names, `M<usec>` not zero-padded, do not sort by UID).
  const base = v.byUid(1)!.guid;
  const f = readdirSync(join(root, 'cur')).find((n) => n.split(':')[0] === base)!;
  unlinkSync(join(root, 'cur', f));
  await assert.rejects(v.read(1), (e: StorageError) => e.kind === 'EXPUNGED');
  const ch = await v.refresh();
  assert.deepEqual(ch.expunged, [1]);
  assert.deepEqual((await v.store([2], { mode: 'add', flags: ['\\Seen'] })).updated.map((m) => m.uid), [2]);
});

test('deleting the sidecar keeps UIDs and UIDVALIDITY (only MODSEQ history is lost)', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 1; i <= 3; i++) await store.deliver('INBOX', msg(i));
  const before = await store.status('INBOX');
  await store.close();
  rmSync(join(root, 'postern-index.lmdb'), { force: true });
  rmSync(join(root, 'postern-index.lmdb-lock'), { force: true });
  const { openMailStore } = await import('../../../../mda/storage/api.js');
  const s2 = await openMailStore({ mailLocation: `maildir:${root}`, user: 'alice' });
  t.after(() => s2.close());
  const after = await s2.status('INBOX');
  assert.equal(after.uidValidity, before.uidValidity);
  assert.equal(after.uidNext, before.uidNext);
  assert.equal(after.highestModseq, 1);
  assert.equal(after.recent, 3);
});

test('watch() fires for our own deliveries and for files written by another process', async (t) => {
  const { store, root } = await tempStore(t);
  const v = await store.openMailbox('INBOX', { readOnly: false });
  let fired = 0;
  const wait = async (): Promise<void> => {
    const start = fired;
    for (let i = 0; i < 100 && fired === start; i++) await new Promise((r) => setTimeout(r, 20));
  };
  const stop = v.watch(() => fired++);
  t.after(stop);
  await store.deliver('INBOX', msg(1));
  await wait();
  assert.ok(fired >= 1);
  const { writeFileSync } = await import('node:fs');
  const n = fired;
  writeFileSync(join(root, 'new', '1700000000.1_0.elsewhere'), 'Subject: x\n\ny\n');
  await wait();
  assert.ok(fired > n);
  assert.deepEqual((await v.refresh()).added.map((m) => m.uid), [1, 2]);
});

test('a read that finds its file renamed by another process still lets the next refresh report the flag change', async (t) => {
  const { store, root } = await tempStore(t);
  await store.append('INBOX', Buffer.from('Subject: a\r\n\r\nbody\r\n'), { flags: ['\\Seen'] });
  const view = await store.openMailbox('INBOX', { readOnly: false });
  t.after(() => view.close());
  const uid = view.messages()[0]!.uid;
  // Another process flags the message: a rename the view's last sync did not see.
  const cur = join(root, 'cur');
  const name = readdirSync(cur)[0]!;
  const { renameSync } = await import('node:fs');
  renameSync(join(cur, name), join(cur, name.replace(/:2,.*$/, ':2,FS')));
  // The read misses the file where the view saw it, and finds it again by a new sync.
  assert.equal((await view.read(uid)).toString(), 'Subject: a\n\nbody\n');
  const r = await view.refresh();
  assert.deepEqual(r.flagChanges.map((m) => [m.uid, [...m.flags].sort()]), [[uid, ['\\Flagged', '\\Seen']]]);
  assert.deepEqual([...view.byUid(uid)!.flags].sort(), ['\\Flagged', '\\Seen']);
});
