/*
 * The header side of the content cache (mda/imap/fetch/content-cache.ts) that SEARCH and SORT use:
 * the fields equal parseHeader over the whole file whether the header ends inside the first read,
 * exactly at its end, or beyond it (then the whole file is read), and a second lookup reads nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEADER_READ_BYTES, messageHeader } from '../../../../mda/imap/fetch/content-cache.js';
import { parseHeader } from '../../../../mda/imap/message/header.js';
import type { MailboxView, MessageInfo, ReadOptions } from '../../../../mda/storage/api.js';

function fakeView(files: Map<number, Buffer>, reads: { n: number }): MailboxView {
  return {
    uidValidity: 7,
    mailboxGuid: `guid-${Math.random()}`,
    async read(uid: number, opts: ReadOptions = {}): Promise<Buffer> {
      reads.n++;
      const b = files.get(uid)!;
      return b.subarray(opts.start ?? 0, opts.end ?? b.length);
    },
  } as unknown as MailboxView;
}

const info = (uid: number): MessageInfo => ({ seq: uid, uid, flags: [], recent: false, modseq: 1, guid: `base${uid}` }) as unknown as MessageInfo;

test('messageHeader: same fields as parsing the whole file, then served from the cache', async () => {
  const long = `X-Long: ${'a'.repeat(HEADER_READ_BYTES)}\n`;
  const exact = (): string => {
    // A header whose blank line's LF is the last byte of the first read.
    const tail = '\n\nbody\n';
    const pad = HEADER_READ_BYTES - 'Subject: '.length - (tail.length - 'body\n'.length);
    return `Subject: ${'b'.repeat(pad)}${tail}`;
  };
  const bodies = [
    'From: a@b\nSubject: hi\n folded\n\nbody\n',
    'Subject: no body, no blank line',
    `From: x\n${long}Subject: after the long one\n\nbody\n`,
    exact(),
    `Subject: ${'c'.repeat(HEADER_READ_BYTES * 2)}`,
    'Date: 1 Jan 2024 00:00 +0000\r\nX-Nul: a\0b\r\n\r\nbody\r\n',
  ];
  const files = new Map(bodies.map((b, i) => [i + 1, Buffer.from(b, 'latin1')]));
  const reads = { n: 0 };
  const view = fakeView(files, reads);
  for (const [uid, b] of files) {
    const s = b.toString('latin1');
    const want = parseHeader(s, 0, s.length).fields.map((f) => ({ name: f.name, value: f.value }));
    const got = await messageHeader(view, info(uid));
    assert.deepEqual(got.fields, want, `message ${uid}`);
  }
  const before = reads.n;
  for (const uid of files.keys()) await messageHeader(view, info(uid));
  assert.equal(reads.n, before, 'cached headers read no file');
  const h = await messageHeader(view, info(1));
  let computed = 0;
  assert.equal(h.derived('x', () => (computed++, 'X')), 'X');
  assert.equal((await messageHeader(view, info(1))).derived('x', () => (computed++, 'Y')), 'X');
  assert.equal(computed, 1, 'derived forms are kept with the entry');
});
