/*
 * In-process uidlist updates (mda/storage/maildir/uidlist.ts) take turns and the plain additions
 * that queue up behind a running update are applied together: every caller gets an answer that
 * holds its records, UIDs stay distinct and in call order, and a drop is applied on its own
 * between the additions around it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UidlistFile } from '../../../../mda/storage/maildir/uidlist.js';
import { parseUidlist } from '../../../../mda/storage/maildir/uidlist-format.js';
import { tempDir } from '../../../helpers/tmp.js';

test('queued additions share one locked update; drops run alone; UIDs follow call order', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'dovecot-uidlist');
  const file = new UidlistFile(path, async () => 1234);
  // A second object for the same file (another store instance in this process) shares the queue.
  const other = new UidlistFile(path, async () => 1234);
  await file.ensure();
  const first = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? file : other).update({ add: [`m${i}`] })));
  first.forEach((d, i) => assert.ok(d.records.some((r) => r.basename === `m${i}`), `answer ${i} holds its record`));
  const uidOf = (d: (typeof first)[number], b: string) => d.records.find((r) => r.basename === b)!.uid;
  assert.deepEqual(first.map((d, i) => uidOf(d, `m${i}`)), Array.from({ length: 10 }, (_, i) => i + 1));
  const [a, dropped, b] = await Promise.all([
    file.update({ add: ['n1'] }),
    file.update({ add: [], drop: new Set([1, 2]) }),
    other.update({ add: ['n2', 'm3'] }),
  ]);
  assert.equal(uidOf(a, 'n1'), 11);
  assert.ok(!dropped.records.some((r) => r.uid === 1 || r.uid === 2));
  assert.equal(uidOf(b, 'n2'), 12);
  assert.equal(b.records.filter((r) => r.basename === 'm3').length, 1, 'a known base name is not added twice');
  const onDisk = parseUidlist(readFileSync(path, 'utf8'));
  assert.deepEqual(onDisk.records.map((r) => r.uid), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.ok(!existsSync(`${path}.lock`));
});
