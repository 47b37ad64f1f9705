/* Concurrent first deliveries to a user whose maildir does not exist yet all succeed (bench/ once saw 451s). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openMailStore } from '../../../mda/storage/api.js';
import { tempDir } from '../../helpers/tmp.js';

test('twenty concurrent first deliveries into a missing maildir', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'Maildir');
  const stores = await Promise.all(Array.from({ length: 4 }, () => openMailStore({ mailLocation: `maildir:${root}`, user: 'u' })));
  t.after(() => Promise.all(stores.map((s) => s.close())));
  // Staggered by one event-loop turn each, so later deliveries look while the first is half-way
  // through creating the maildir (all starting in the same turn would all see "missing").
  const pending: Promise<{ uid: number }>[] = [];
  for (let i = 0; i < 20; i++) {
    const p = stores[i % stores.length]!.deliver('INBOX', Buffer.from(`Subject: ${i}\n\nbody ${i}\n`));
    p.catch(() => undefined); // judged below through allSettled
    pending.push(p);
    await new Promise((r) => setImmediate(r));
  }
  const results = await Promise.allSettled(pending);
  const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
  assert.deepEqual(failed, []);
  assert.equal(readdirSync(join(root, 'new')).length, 20);
  const uids = results.map((r) => (r as PromiseFulfilledResult<{ uid: number }>).value.uid).sort((a, b) => a - b);
  assert.deepEqual(uids, Array.from({ length: 20 }, (_, i) => i + 1));
});
