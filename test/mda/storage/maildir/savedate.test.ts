/*
 * Save dates (RFC 8514 SAVEDATE) through the storage API: recorded when we deliver, append, copy
 * or move a message into a mailbox (Dovecot caches `date.saved` at save; `doveadm fetch
 * date.saved` after a COPY/MOVE shows the time of the copy, observed on 2.3.19), and for a file
 * someone else dropped in, its ctime at the first question, kept across flag renames.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, utimesSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hasSaveDates, saveDateOf } from '../../../../mda/storage/api.js';
import { tempStore } from '../helpers.js';

const msg = (n: number): Buffer => Buffer.from(`Subject: message ${n}\r\n\r\nbody ${n}\r\n`);

test('deliver, append, copy and move record the time of the save into that mailbox', async (t) => {
  const { store } = await tempStore(t);
  let now = Date.UTC(2031, 4, 6, 7, 8, 9);
  t.mock.method(Date, 'now', () => now);
  await store.deliver('INBOX', msg(1));
  now += 60_000;
  await store.append('INBOX', msg(2), { internalDate: new Date(Date.UTC(2001, 0, 1)) });
  await store.create('Other');
  await store.create('Moved');
  const inbox = await store.openMailbox('INBOX', { readOnly: false });
  assert.ok(hasSaveDates(inbox));
  assert.equal((await saveDateOf(inbox, 1))!.getTime(), Date.UTC(2031, 4, 6, 7, 8, 9));
  // INTERNALDATE is the APPEND date; the save date is when it was saved.
  assert.equal((await inbox.internalDate(2)).getTime(), Date.UTC(2001, 0, 1));
  assert.equal((await saveDateOf(inbox, 2))!.getTime(), Date.UTC(2031, 4, 6, 7, 9, 9));
  now += 3600_000;
  await inbox.copy([1], 'Other');
  now += 3600_000;
  await inbox.move([2], 'Moved');
  const other = await store.openMailbox('Other', { readOnly: true });
  assert.equal((await saveDateOf(other, 1))!.getTime(), Date.UTC(2031, 4, 6, 8, 9, 9));
  const moved = await store.openMailbox('Moved', { readOnly: true });
  assert.equal((await saveDateOf(moved, 1))!.getTime(), Date.UTC(2031, 4, 6, 9, 9, 9));
  // The source keeps its own save date after being copied (the hard link changed its ctime).
  assert.equal((await saveDateOf(inbox, 1))!.getTime(), Date.UTC(2031, 4, 6, 7, 8, 9));
});

test('a file we did not save: its ctime when first asked, then fixed across flag renames', async (t) => {
  const { store, root } = await tempStore(t);
  await store.create('INBOX').catch(() => undefined);
  await store.status('INBOX');
  const file = join(root, 'cur', '1700000000.M1P1.elsewhere:2,');
  writeFileSync(file, msg(1));
  utimesSync(file, new Date(Date.UTC(2001, 0, 1)), new Date(Date.UTC(2001, 0, 1)));
  const ctime = Math.floor(statSync(file).ctimeMs / 1000) * 1000;
  const view = await store.openMailbox('INBOX', { readOnly: false });
  assert.equal((await saveDateOf(view, 1))!.getTime(), ctime);
  await new Promise((r) => setTimeout(r, 1100));
  await view.store([1], { mode: 'add', flags: ['\\Seen'] });
  const renamed = readdirSync(join(root, 'cur'))[0]!;
  assert.ok(statSync(join(root, 'cur', renamed)).ctimeMs >= ctime + 1000);
  const again = await store.openMailbox('INBOX', { readOnly: true });
  assert.equal((await saveDateOf(again, 1))!.getTime(), ctime);
});

test('an expunged message forgets its save date; a backend without saveDate answers undefined', async (t) => {
  const { store } = await tempStore(t);
  await store.deliver('INBOX', msg(1));
  const view = await store.openMailbox('INBOX', { readOnly: false });
  assert.ok((await saveDateOf(view, 1)) instanceof Date);
  await view.expunge({ onlyDeleted: false });
  await view.refresh();
  await assert.rejects(view.saveDate!(1), (e: { kind?: string }) => e.kind === 'EXPUNGED');
  const bare = { ...view, saveDate: undefined } as unknown as typeof view;
  assert.equal(hasSaveDates(bare), false);
  assert.equal(await saveDateOf(bare, 1), undefined);
});
