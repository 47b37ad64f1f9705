/*
 * The dirty window of sync stamps (mda/storage/maildir/sync-stamp.ts): FINE_DIRTY_MS for sub-second
 * timestamps on a known local filesystem, Dovecot's one second otherwise (a filesystem not known
 * to be local, or a stamp with whole-second timestamps). And what the window protects: changes
 * another process makes right after a sync reach the next sync, however quickly they follow.
 * (On kernels with multigrain timestamps, 6.13 and later as here, a change after a stat always gets
 * a new timestamp, so a change hidden in the same tick cannot be produced on this machine; the
 * second test pins the rule that guards against it on older kernels: a fresh stamp is not settled.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINE_DIRTY_MS, fineClockAt, StampedCache, stampOf, SYNC_DIRTY_MS } from '../../../../mda/storage/maildir/sync-stamp.js';
import { tempDir } from '../../../helpers/tmp.js';
import { tempStore } from '../helpers.js';

test('fineClockAt: local filesystems yes, procfs no, a missing directory unknown', (t) => {
  const dir = tempDir(t, 'postern-stamp-');
  assert.equal(fineClockAt(dir), true, 'the test directory is on a local filesystem (ext4, tmpfs, …)');
  assert.equal(fineClockAt('/proc'), false);
  assert.equal(fineClockAt(join(dir, 'missing')), undefined);
});

test('StampedCache: a value read settled holds until the stamp changes; one read dirty holds while the stamp is the same, and is read once more when it has settled and a second has passed', () => {
  const st = (key: string, settled: boolean, at = 0) => ({ key, settled, at });
  const later = SYNC_DIRTY_MS;
  // [what it was read with, the stamp asked with, the answer: undefined (read again) or the value and whether it was read settled]
  const cases: [ReturnType<typeof st>, ReturnType<typeof st>, { value: string; settled: boolean } | undefined][] = [
    [st('a', true), st('a', true, later * 5), { value: 'v', settled: true }],
    [st('a', true), st('b', true), undefined],
    [st('a', true), st('b', false), undefined],
    [st('a', false), st('a', false), { value: 'v', settled: false }],
    [st('a', false), st('a', false, later * 5), { value: 'v', settled: false }], // still dirty: kept
    [st('a', false), st('a', true, later - 1), { value: 'v', settled: false }], // settled, within the second: kept
    [st('a', false), st('a', true, later), undefined], // Dovecot's delayed refresh
    [st('a', false, 100), st('a', true, 100 + later - 1), { value: 'v', settled: false }],
    [st('a', false), st('b', false), undefined],
  ];
  for (const [readWith, askedWith, want] of cases) {
    const c = new StampedCache<string>();
    c.set(readWith, 'v');
    assert.deepEqual(c.lookup(askedWith), want, `${JSON.stringify(readWith)} asked ${JSON.stringify(askedWith)}`);
    assert.equal(c.get(askedWith), want?.value);
  }
  const c = new StampedCache<string>();
  assert.equal(c.lookup(st('a', true)), undefined);
  c.set(st('a', true), 'v');
  c.clear();
  assert.equal(c.lookup(st('a', true)), undefined);
});

test('stampOf: the window by filesystem and by the timestamps themselves', (t) => {
  const dir = tempDir(t, 'postern-stamp-');
  const f = join(dir, 'f');
  writeFileSync(f, 'x');
  // Sub-second timestamps set FINE_DIRTY_MS + 20 ms in the past: settled on a local filesystem only.
  const justPast = new Date(Date.now() - FINE_DIRTY_MS - 20);
  utimesSync(f, justPast, justPast);
  const now = Date.now();
  const fine = stampOf(f, now, true);
  const coarse = stampOf(f, now, false);
  assert.equal(fine.key, coarse.key);
  // ctime is the time of the utimes call (now), so the newest timestamp is fresh: dirty in both.
  assert.equal(fine.settled, false);
  assert.equal(coarse.settled, false);
  // Taken later, with the ctime also in the past:
  assert.equal(stampOf(f, now + FINE_DIRTY_MS + 10, true).settled, true, 'fine window');
  assert.equal(stampOf(f, now + FINE_DIRTY_MS + 10, false).settled, false, 'one second when not known to be fine');
  assert.equal(stampOf(f, now + SYNC_DIRTY_MS + 10, false).settled, true);
  // A whole-second mtime with a ctime that has sub-second digits (the kernel's) still counts as
  // fine; only when both are whole seconds is the filesystem taken to keep seconds (not producible
  // on this filesystem: the kernel sets ctime).
  const whole = new Date(Math.floor((Date.now() - 5000) / 1000) * 1000);
  utimesSync(f, whole, whole);
  assert.equal(stampOf(f, Date.now() + FINE_DIRTY_MS + 10, true).settled, true);
  assert.equal(stampOf(f, Date.now() + FINE_DIRTY_MS + 10, false).settled, false);
  assert.equal(stampOf(join(dir, 'absent'), Date.now(), true).settled, true);
  assert.equal(stampOf(join(dir, 'absent'), Date.now(), true).key, 'absent');
});

test('changes made by another process right after a sync, in the same tick or not, reach the next sync', async (t) => {
  const { store, root } = await tempStore(t);
  for (let i = 0; i < 4; i++) await store.append('INBOX', Buffer.from(`Subject: ${i}\r\n\r\nbody ${i}\r\n`));
  const view = await store.openMailbox('INBOX', { readOnly: false });
  const cur = join(root, 'cur');
  mkdirSync(join(root, 'tmp'), { recursive: true });
  // 40 rounds of: sync, then at once another process toggles \Seen on one message; the next sync
  // must show exactly that flag. Several rounds land in the tick the previous sync saw.
  let expected = new Map<number, boolean>([[1, false], [2, false], [3, false], [4, false]]);
  for (let round = 0; round < 40; round++) {
    await view.refresh();
    const uid = (round % 4) + 1;
    const base = view.byUid(uid)!.guid;
    const name = readdirSync(cur).find((f) => f.split(':')[0] === base)!;
    const seen = !expected.get(uid)!;
    renameSync(join(cur, name), join(cur, `${base}:2,${seen ? 'S' : ''}`));
    expected = new Map(expected).set(uid, seen);
    await view.refresh();
    for (const [u, s] of expected) {
      assert.equal(view.byUid(u)!.flags.includes('\\Seen'), s, `round ${round}: uid ${u}`);
    }
  }
});
