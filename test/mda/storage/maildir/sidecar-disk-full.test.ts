/*
 * The sidecar's LMDB on a full disk: a failed commit rejects the caller's promise and nothing else
 * escapes (lmdb-js also rejects promises nobody holds; unhandled, they end the daemon: the test
 * runner fails a test on one), and close() still returns (lmdb-js's own close() never settles after
 * a failed commit; shared/lmdb-commit.ts, sidecar.ts closeWithin).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sidecar } from '../../../../mda/storage/maildir/sidecar.js';

const asRoot = process.getuid?.() === 0;

test('a failed commit (64 KiB tmpfs) is the caller\'s rejection only, and close() returns', { skip: asRoot ? false : 'needs root to mount a tmpfs' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-sidecar-full-'));
  const mnt = join(dir, 'm');
  mkdirSync(mnt);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  t.after(() => {
    if (m.status === 0) spawnSync('umount', ['-l', mnt]);
    rmSync(dir, { recursive: true, force: true });
  });
  if (m.status !== 0) return t.skip(`mount failed: ${m.stderr.toString()}`);
  const sidecar = await Sidecar.lmdb(join(mnt, 'postern-index.lmdb'));
  let failed: unknown;
  for (let batch = 0; batch < 200 && failed === undefined; batch++) {
    const entries = Array.from({ length: 200 }, (_, i) => ({ uid: batch * 200 + i + 1, seconds: 1_700_000_000 + i }));
    await sidecar.recordSaveDates(`box-${batch}`, entries, true).catch((err: unknown) => (failed = err));
  }
  assert.ok(failed instanceof Error, 'the disk never filled');
  // lmdb-js's asynchronous commit says "Commit failed"; a synchronous unflushed one (where the
  // kernel gives a boot id, sidecar-marks.ts) reports LMDB's error for the failed page write.
  assert.match(failed.message, /Commit failed|Input\/output error|No space left/);
  const started = Date.now();
  await sidecar.close();
  assert.ok(Date.now() - started < 30_000);
  // Give any stray rejection a turn to surface (the runner would fail this test on it).
  await new Promise((r) => setTimeout(r, 100));
});
