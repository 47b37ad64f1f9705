/*
 * Content records in the sidecar (mda/storage/maildir/sidecar.ts content/addContent, and the
 * maildir view's contentStore): what the IMAP server computed from a message (ENVELOPE,
 * BODYSTRUCTURE, BODY, the header fields) is kept on disk like dovecot.index.cache, answered only
 * for the file it was computed from, merged value by value, written in one transaction per turn
 * of the event loop, and removed with the message or the mailbox.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sidecar, type ReconcileInput } from '../../../../mda/storage/maildir/sidecar.js';
import { openMailStore } from '../../../../mda/storage/api.js';
import { tempStore } from '../helpers.js';

function tempPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'postern-content-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'postern-index.lmdb');
}

const input = (uids: readonly number[], uidValidity = 1): ReconcileInput => ({
  uidValidity, nextUid: Math.max(0, ...uids) + 1, messages: uids.map((uid) => ({ uid, flagsKey: '', inNew: false })), claimRecent: false,
});

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('sidecar: a content record is kept across handles, merged value by value, and answered only for its file', async (t) => {
  const path = tempPath(t);
  const a = await Sidecar.lmdb(path);
  await a.reconcile('box', input([1, 2]));
  a.addContent('box', 1, 'file1', { envelope: 'E1', header: ['Subject', 'one'] });
  a.addContent('box', 1, 'file1', { body: 'B1' });
  assert.equal(a.content('box', 1, 'file1'), undefined, 'queued, not written before the event loop turns');
  await turn();
  a.addContent('box', 1, 'file1', { bodystructure: 'S1' });
  await a.close();

  // A new handle on the file (the first was the last user, so this one opens it from disk).
  const b = await Sidecar.lmdb(path);
  t.after(() => b.close());
  const rec = b.content('box', 1, 'file1');
  assert.deepEqual([rec?.envelope, rec?.body, rec?.bodystructure, rec?.header], ['E1', 'B1', 'S1', ['Subject', 'one']]);
  assert.equal(b.content('box', 1, 'another-file'), undefined, 'a record made for another file under the UID');
  assert.equal(b.content('box', 2, 'file2'), undefined);
  assert.equal(b.content('other-box', 1, 'file1'), undefined);
});

test('sidecar: a record for another file under the UID is replaced, not merged', async (t) => {
  const sc = await Sidecar.lmdb(tempPath(t));
  t.after(() => sc.close());
  await sc.reconcile('box', input([1]));
  sc.addContent('box', 1, 'old', { envelope: 'old envelope', body: 'old body' });
  await turn();
  sc.addContent('box', 1, 'new', { envelope: 'new envelope' });
  await turn();
  assert.equal(sc.content('box', 1, 'old'), undefined);
  const rec = sc.content('box', 1, 'new');
  assert.equal(rec?.envelope, 'new envelope');
  assert.equal(rec?.body, undefined, 'nothing of the other file is kept');
});

test('sidecar: records go with their message, with the mailbox, and with a new UIDVALIDITY; none is written for a message not in the index', async (t) => {
  const sc = await Sidecar.lmdb(tempPath(t));
  t.after(() => sc.close());
  await sc.reconcile('box', input([1, 2, 3]));
  await sc.reconcile('gone', input([1]));
  for (const uid of [1, 2, 3]) sc.addContent('box', uid, `f${uid}`, { envelope: `E${uid}` });
  sc.addContent('box', 9, 'f9', { envelope: 'E9' });
  sc.addContent('gone', 1, 'g1', { envelope: 'G1' });
  await turn();
  assert.equal(sc.content('box', 9, 'f9'), undefined, 'UID 9 has no modseq record: nothing written');
  assert.equal(sc.content('box', 2, 'f2')?.envelope, 'E2');

  // Message 2 expunged (by this or any other process: the reconcile that sees it gone).
  await sc.reconcile('box', input([1, 3]));
  assert.equal(sc.content('box', 2, 'f2'), undefined);
  assert.equal(sc.content('box', 1, 'f1')?.envelope, 'E1');

  sc.drop('gone');
  assert.equal(sc.content('gone', 1, 'g1'), undefined);

  // UIDVALIDITY changed: the mailbox's UIDs mean other messages now.
  await sc.reconcile('box', input([1, 3], 2));
  assert.equal(sc.content('box', 1, 'f1'), undefined);
  assert.equal(sc.content('box', 3, 'f3'), undefined);
});

test('sidecar: a value added after close() is dropped, never thrown at the caller', async (t) => {
  const sc = await Sidecar.lmdb(tempPath(t));
  await sc.reconcile('box', input([1]));
  await sc.close();
  sc.addContent('box', 1, 'f1', { envelope: 'late' });
  await turn();
  await turn();
});

test('maildir view: the content store keeps values across stores on one maildir, per message file', async (t) => {
  const { store, root, dir } = await tempStore(t);
  await store.deliver('INBOX', Buffer.from('Subject: one\r\n\r\nbody\r\n'));
  await store.deliver('INBOX', Buffer.from('Subject: two\r\n\r\nbody\r\n'));
  const view = await store.openMailbox('INBOX', { readOnly: false });
  const [m1, m2] = view.messages();
  const cs = view.contentStore;
  assert.ok(cs !== undefined && m1 !== undefined && m2 !== undefined);
  cs.add(m1.uid, m1.guid, { envelope: 'ENV1', header: ['Subject', 'one'] });
  cs.add(m2.uid, m2.guid, { bodystructure: 'BS2' });
  await view.close();
  await store.close();

  const again = await openMailStore({ mailLocation: `maildir:${root}`, home: dir, user: 'alice', hostname: 'testhost' });
  t.after(() => again.close());
  const v2 = await again.openMailbox('INBOX', { readOnly: true });
  const [n1, n2] = v2.messages();
  assert.equal(v2.contentStore?.get(n1!.uid, n1!.guid)?.envelope, 'ENV1');
  assert.deepEqual(v2.contentStore?.get(n1!.uid, n1!.guid)?.header, ['Subject', 'one']);
  assert.equal(v2.contentStore?.get(n2!.uid, n2!.guid)?.bodystructure, 'BS2');
  assert.equal(v2.contentStore?.get(n2!.uid, n1!.guid), undefined, 'asked with another file name');
});

test('maildir view: with INDEX=MEMORY there is no content store (nothing outlives the process; the IMAP server keeps its own bounded memory)', async (t) => {
  const { store } = await tempStore(t, { location: 'maildir:~/Maildir:INDEX=MEMORY' });
  await store.deliver('INBOX', Buffer.from('Subject: one\r\n\r\nbody\r\n'));
  const view = await store.openMailbox('INBOX', { readOnly: true });
  assert.equal(view.contentStore, undefined);
  const { store: onDisk } = await tempStore(t);
  await onDisk.deliver('INBOX', Buffer.from('Subject: one\r\n\r\nbody\r\n'));
  assert.notEqual((await onDisk.openMailbox('INBOX', { readOnly: true })).contentStore, undefined);
});
