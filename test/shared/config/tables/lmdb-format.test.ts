/* The LMDB v1 codec: round trips through many pages, branch levels and overflow pages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLmdbImage, lmdbEntries, lmdbGet, readMeta, LmdbFormatError, type PageSource } from '../../../../shared/config/tables/lmdb-format.js';

function source(img: Buffer): PageSource {
  return { read: (pg, n, ps) => img.subarray(pg * ps, pg * ps + n * ps) };
}

test('empty table', () => {
  const img = buildLmdbImage([]);
  const meta = readMeta(source(img));
  assert.equal(meta.entries, 0);
  assert.equal(lmdbGet(source(img), meta, Buffer.from('x')), undefined);
});

test('round trip: 30000 keys, large values on overflow pages', () => {
  const rows: [Buffer, Buffer][] = [];
  for (let i = 0; i < 30000; i++) rows.push([Buffer.from(`k${i}\0`), Buffer.from(`v${i}${'x'.repeat(i % 500 === 0 ? 9000 : i % 40)}\0`)]);
  rows.sort((a, b) => Buffer.compare(a[0], b[0]));
  const img = buildLmdbImage(rows);
  const src = source(img);
  const meta = readMeta(src);
  assert.equal(meta.entries, 30000);
  for (const i of [0, 1, 499, 500, 12345, 29999]) {
    assert.equal(lmdbGet(src, meta, Buffer.from(`k${i}\0`))?.toString().split('x')[0], `v${i}`);
  }
  assert.equal(lmdbGet(src, meta, Buffer.from('k500\0'))?.length, 9000 + 5);
  assert.equal(lmdbGet(src, meta, Buffer.from('nope\0')), undefined);
  let n = 0;
  let prev: Buffer | undefined;
  for (const [k] of lmdbEntries(src, meta)) {
    if (prev) assert.ok(Buffer.compare(prev, k) < 0);
    prev = k;
    n++;
  }
  assert.equal(n, 30000);
});

test('refuses unsorted input, long keys and foreign files', () => {
  assert.throws(() => buildLmdbImage([[Buffer.from('b'), Buffer.from('1')], [Buffer.from('a'), Buffer.from('2')]]), LmdbFormatError);
  assert.throws(() => buildLmdbImage([[Buffer.alloc(600, 97), Buffer.from('1')]]), /key too long/);
  assert.throws(() => readMeta(source(Buffer.alloc(8192))), /MDB_INVALID/);
  const v2 = buildLmdbImage([]);
  v2.writeUInt32LE(2, 20);
  assert.throws(() => readMeta(source(v2)), /version mismatch/);
});
