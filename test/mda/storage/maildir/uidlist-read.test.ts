/*
 * dovecot-uidlist is read from where the last read stopped while the file is the same inode, as
 * Dovecot's maildir-uidlist.c does (last_read_offset): appendUidlistLines (pure) and UidlistFile
 * (mda/storage/maildir/uidlist.ts) over real files. Every case also checks the answer against a
 * parse of the whole file, so the shortcut never answers differently from reading it all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UidlistFile } from '../../../../mda/storage/maildir/uidlist.js';
import { appendUidlistLines, parseUidlist, UidlistSyntaxError } from '../../../../mda/storage/maildir/uidlist-format.js';
import { StorageError } from '../../../../mda/storage/errors.js';
import { tempDir } from '../../../helpers/tmp.js';

const HEAD = '3 V7 N3 G0123456789abcdef0123456789abcdef\n1 :a\n2 W12 :b\n';

test('appendUidlistLines: the same answer as parsing the whole file, old records kept as they are', () => {
  const cases: { appended: string; error?: RegExp }[] = [
    { appended: '' },
    { appended: '3 :c\n' },
    { appended: '3 S10 W11 :c\n7 :d\n' },
    { appended: '\n4 :e\n' },
    { appended: '2 :c\n', error: /line 4: uid 2 not above 2/ },
    { appended: '3 :c\n3 :d\n', error: /line 5: uid 3 not above 3/ },
    { appended: '3 c\n', error: /line 4: record without/ },
    { appended: '3 :x/y\n', error: /line 4: invalid filename/ },
  ];
  const before = parseUidlist(HEAD);
  for (const c of cases) {
    if (c.error !== undefined) {
      assert.throws(() => appendUidlistLines(before, c.appended, 4), (e: unknown) => e instanceof UidlistSyntaxError && c.error!.test(e.message), c.appended);
      assert.throws(() => parseUidlist(HEAD + c.appended), c.error, c.appended);
      continue;
    }
    const got = appendUidlistLines(before, c.appended, 4);
    assert.deepEqual(got, parseUidlist(HEAD + c.appended), JSON.stringify(c.appended));
    before.records.forEach((r, i) => assert.equal(got.records[i], r, 'an old record is the same object'));
  }
  assert.throws(() => appendUidlistLines(before, '3 :c', 4), RangeError, 'only complete lines');
  assert.throws(() => appendUidlistLines(parseUidlist(`${HEAD}3 :c`), '4 :d\n', 5), RangeError, 'not after a torn line');
});

test('UidlistFile.read: appended lines are parsed alone; a rewrite, a torn line or garbage is read whole', async (t) => {
  const path = join(tempDir(t), 'dovecot-uidlist');
  writeFileSync(path, HEAD);
  const file = new UidlistFile(path, async () => 7);
  const whole = (): ReturnType<typeof parseUidlist> => parseUidlist(readFileSync(path, 'utf8'));

  const first = (await file.read())!;
  assert.deepEqual(first, whole());
  assert.equal(await file.read(), first, 'unchanged file: the same answer, nothing parsed');

  // Another writer (Dovecot, another process) appends under its lock.
  appendFileSync(path, '3 :c\n4 :d\n');
  const grown = (await file.read())!;
  assert.deepEqual(grown, whole());
  assert.equal(grown.records[0], first.records[0], 'records read before are kept, not parsed again');

  // A torn last line: reported, not parsed; once complete, the file is read whole.
  appendFileSync(path, '5 :e');
  const torn = (await file.read())!;
  assert.deepEqual(torn, whole());
  assert.equal(torn.partialTail, true);
  appendFileSync(path, '\n');
  assert.deepEqual(await file.read(), whole());

  // A rewrite is a new file renamed over the old one: read whole.
  writeFileSync(`${path}.new`, '3 V7 N9 G0123456789abcdef0123456789abcdef\n8 :z\n');
  renameSync(`${path}.new`, path);
  const rewritten = (await file.read())!;
  assert.deepEqual(rewritten, whole());
  assert.deepEqual(rewritten.records.map((r) => r.uid), [8]);

  // Appended garbage is not skipped: the whole file is read, and refused as Dovecot refuses it.
  appendFileSync(path, '2 :older\n');
  await assert.rejects(file.read(), (e: unknown) => e instanceof StorageError && /uid 2 not above 8/.test(e.logDetail));
});

test('UidlistFile: after its own append the next read is that answer, equal to the file as parsed', async (t) => {
  const path = join(tempDir(t), 'dovecot-uidlist');
  const file = new UidlistFile(path, async () => 11);
  await file.ensure();
  const updated = await file.update({ add: ['m1', 'm2'] });
  const read = (await file.read())!;
  assert.deepEqual(read, parseUidlist(readFileSync(path, 'utf8')));
  assert.equal(read.records[0], updated.records[0], 'the appended records are the update\'s own objects');
  assert.equal(await file.read(), read);
  // Another object for the same file (another store) still sees what was written.
  assert.deepEqual(await new UidlistFile(path, async () => 11).read(), read);
});
