/*
 * A save gets its message in memory (IMAP APPEND) or as a stream of chunks (LMTP); save.ts converts
 * CRLF to LF as the chunks come (writeLf). Both must write the same bytes with the same S= and W=
 * (Dovecot's sizes: W= counts every LF not preceded by a CR as two bytes), also for bare CRs, CR
 * runs before an LF and a CRLF split across chunks. And a failing save (no tmp/) reports a
 * StorageError on both and leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../../../../mda/storage/api.js';
import { tempStore } from '../helpers.js';

const SIZES = /,S=(\d+),W=(\d+)$/;

async function* split(bytes: Buffer, at: number): AsyncIterable<Uint8Array> {
  yield bytes.subarray(0, at);
  yield bytes.subarray(at);
}

const rows: { text: string; size: number; vsize: number }[] = [
  { text: 'a\r\nb\r\n', size: 4, vsize: 6 },
  { text: 'a\nb\n', size: 4, vsize: 6 },
  { text: 'a\rb\r\n', size: 4, vsize: 5 },
  { text: 'x\r\r\ny', size: 4, vsize: 4 },
  { text: '\r\n\r\n', size: 2, vsize: 4 },
  { text: 'ends in CR\r', size: 11, vsize: 11 },
  { text: '\n', size: 1, vsize: 2 },
  { text: 'no line end', size: 11, vsize: 11 },
  { text: 'H: v\r\n\r\nbody\r\n', size: 11, vsize: 14 },
];

test('in memory and streamed (split at every byte) give the same file and the same S= and W=', async (t) => {
  const { store, root } = await tempStore(t);
  for (const r of rows) {
    const bytes = Buffer.from(r.text, 'latin1');
    const mem = await store.append('INBOX', bytes);
    const want = readFileSync(join(root, 'new', mem.guid!));
    assert.equal(want.toString('latin1'), r.text.replace(/\r\n/g, '\n'), JSON.stringify(r.text));
    assert.deepEqual(SIZES.exec(mem.guid!)?.slice(1).map(Number), [r.size, r.vsize], JSON.stringify(r.text));
    for (let at = 0; at <= bytes.length; at++) {
      const streamed = await store.deliver('INBOX', split(bytes, at));
      assert.deepEqual(SIZES.exec(streamed.guid!)?.slice(1), SIZES.exec(mem.guid!)?.slice(1), `${JSON.stringify(r.text)} split at ${at}`);
      assert.deepEqual(readFileSync(join(root, 'new', streamed.guid!)), want, `${JSON.stringify(r.text)} split at ${at}`);
    }
  }
  assert.deepEqual(readdirSync(join(root, 'tmp')), []);
});

test('a save that cannot create its tmp/ file fails with a StorageError on both paths and leaves no file', async (t) => {
  const { store, root } = await tempStore(t);
  await store.append('INBOX', Buffer.from('first\r\n'));
  rmSync(join(root, 'tmp'), { recursive: true });
  for (const save of [() => store.append('INBOX', Buffer.from('x\r\n')), () => store.deliver('INBOX', split(Buffer.from('x\r\n'), 1))]) {
    await assert.rejects(save(), (err: unknown) => err instanceof StorageError);
  }
  assert.equal(readdirSync(join(root, 'new')).length, 1);
});
