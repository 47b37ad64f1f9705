/*
 * FETCH ENVELOPE on a cache miss builds the envelope from the top-level header alone (the first
 * 16 KiB, or the whole file when the header is longer; mda/imap/fetch/render.ts), not from a full
 * MIME parse. For every corpus message both ways must give the same bytes, including the messages
 * that still differ from Dovecot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envelopeOf, parseMessage } from '../../../../mda/imap/message/message.js';
import { buildEnvelope } from '../../../../mda/imap/message/envelope.js';
import { parseHeader } from '../../../../mda/imap/message/header.js';
import { HEADER_READ_BYTES } from '../../../../mda/imap/fetch/content-cache.js';

const top = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../..');
const corpusDir = process.env['POSTERN_CORPUS'] ?? resolve(top, '../shared/corpus');

test('ENVELOPE from the header alone equals ENVELOPE from the parsed message, whole corpus', () => {
  const manifest = JSON.parse(readFileSync(join(corpusDir, 'manifest.json'), 'utf8')) as { messages: { file: string }[] };
  assert.ok(manifest.messages.length >= 150);
  let longHeaders = 0;
  for (const { file } of manifest.messages) {
    const bytes = readFileSync(join(corpusDir, file));
    const head = bytes.subarray(0, HEADER_READ_BYTES).toString('latin1');
    let h = parseHeader(head, 0, head.length);
    if (!h.hasEnd && head.length === HEADER_READ_BYTES) {
      longHeaders++;
      const all = bytes.toString('latin1');
      h = parseHeader(all, 0, all.length);
    }
    assert.equal(buildEnvelope(h), envelopeOf(parseMessage(bytes)), file);
  }
  // The corpus has headers longer than the first read, so the fallback is exercised too.
  assert.ok(longHeaders > 0, 'no corpus header is longer than HEADER_READ_BYTES');
});
