/*
 * A full disk: enqueue must fail with the typed 452 4.3.1 error, the process must survive (lmdb-js
 * also rejects a side promise with the cause), and everything acknowledged before stays readable.
 * Needs root to mount a 2 MB tmpfs; skipped otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueStore } from '../../../mta/queue/store.js';
import { QueueWriteError } from '../../../mta/queue/errors.js';

function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('disk full: QueueWriteError (452 4.3.1), no crash, earlier mail intact', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-enospc-'));
  if (process.getuid?.() !== 0 || !tryMount(dir)) {
    rmSync(dir, { recursive: true, force: true });
    t.skip('needs root and tmpfs');
    return;
  }
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  const store = QueueStore.open({ queueDirectory: dir });
  const ok: string[] = [];
  let failure: unknown;
  for (let i = 0; i < 50 && failure === undefined; i++) {
    try {
      ok.push((await store.enqueue({ sender: 'a@b.test', recipients: [{ address: 'c@d.test' }] }, Buffer.alloc(200_000, i))).id);
    } catch (err) {
      failure = err;
    }
  }
  assert.ok(failure instanceof QueueWriteError, `expected a QueueWriteError, got ${String(failure)}`);
  assert.deepEqual(failure.reply, { code: 452, enhanced: '4.3.1', text: 'Insufficient system storage' });
  assert.ok(ok.length > 0);
  await new Promise((r) => setTimeout(r, 50)); // let a stray rejection surface if it were unhandled
  for (const id of ok) assert.equal(store.readBody(id).length, 200_000);
  // lmdb-js's close() waits for the failed batch's flush, which never comes: not awaited (known
  // limitation, see the report); the lazy unmount releases the files when the process exits.
  void store.close().catch(() => undefined);
});
