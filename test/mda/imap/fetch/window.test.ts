/* fetch/window.ts: results in item order, at most `count` / `bytes` in flight (one at least), errors in turn. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inOrder } from '../../../../mda/imap/fetch/window.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('inOrder keeps order and its limits', async () => {
  const items = Array.from({ length: 20 }, (_, i) => ({ i, size: i === 5 ? 1000 : 10 }));
  let inFlight = 0;
  let maxInFlight = 0;
  let bytes = 0;
  let maxBytesWithOthers = 0;
  const out: number[] = [];
  await inOrder(items, { count: 4, bytes: 35, size: (x) => x.size }, async (x) => {
    inFlight++;
    bytes += x.size;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (inFlight > 1) maxBytesWithOthers = Math.max(maxBytesWithOthers, bytes);
    await tick((20 - x.i) % 3);
    inFlight--;
    bytes -= x.size;
    return x.i * 2;
  }, (r) => void out.push(r));
  assert.deepEqual(out, items.map((x) => x.i * 2));
  assert.ok(maxInFlight <= 3, `count and bytes bound the window (${maxInFlight})`);
  assert.ok(maxBytesWithOthers <= 35, 'an item over the byte bound runs alone');
});

test('inOrder: a failure surfaces at its turn, after the earlier results', async () => {
  const out: number[] = [];
  await assert.rejects(inOrder([0, 1, 2, 3], { count: 8, bytes: 1e9, size: () => 1 }, async (x) => {
    if (x === 2) throw new Error('two');
    await tick(1);
    return x;
  }, (r) => void out.push(r)), /two/);
  assert.deepEqual(out, [0, 1]);
});
