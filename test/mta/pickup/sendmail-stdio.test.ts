/*
 * sendmail -bs and -bv through bin/sendmail: an SMTP session on stdin/stdout whose messages land in
 * maildrop named by the queue ID of the 250 reply (with smtpd's Received line from
 * `localhost [127.0.0.1]`, as real Postfix's stand-alone smtpd writes it), and -bv's report line
 * (observed from Postfix 3.7.11: `Mail Delivery Status Report will be mailed to <sender>.`) with a
 * report for the sender in maildrop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { decodeMaildrop } from '../../../mta/pickup/maildrop-format.js';

const BIN = join(import.meta.dirname, '..', '..', '..', '..', 'bin');

function fixture(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const etc = join(dir, 'etc');
  const q = join(dir, 'q');
  mkdirSync(etc);
  mkdirSync(q);
  writeFileSync(join(etc, 'main.cf'), `queue_directory = ${q}\nmyhostname = mx.test.example\nmydestination =\n`);
  return { etc, maildrop: join(q, 'maildrop') };
}

test('sendmail -bs: SMTP on stdin/stdout, each message into maildrop', (t) => {
  const { etc, maildrop } = fixture(t);
  const input = [
    'EHLO me', 'MAIL FROM:<alice@virt.test>', 'RCPT TO:<bob@remote.example> NOTIFY=FAILURE', 'DATA', 'Subject: bs', '', 'hi', '..dot', '.',
    'MAIL FROM:<>', 'RCPT TO:<carol>', 'DATA', 'Subject: two', '', 'x', '.', 'QUIT', '',
  ].join('\r\n');
  const r = spawnSync(join(BIN, 'sendmail'), ['-C', etc, '-bs'], { input, encoding: 'latin1' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\r\n');
  assert.equal(lines[0], '220 mx.test.example ESMTP Postfix');
  assert.equal(lines[1], '250-mx.test.example');
  const ids = lines.map((l) => /^250 2\.0\.0 Ok: queued as (\w+)$/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
  assert.equal(ids.length, 2, r.stdout);
  assert.equal(lines.at(-2), '221 2.0.0 Bye');
  assert.deepEqual(readdirSync(maildrop).sort(), [...ids].sort());
  const first = decodeMaildrop(readFileSync(join(maildrop, ids[0]!)));
  assert.equal(first.envelope.sender, 'alice@virt.test');
  assert.deepEqual(first.envelope.recipients, ['bob@remote.example']);
  assert.deepEqual(first.envelope.notify, ['FAILURE']);
  const content = readFileSync(join(maildrop, ids[0]!)).subarray(first.contentStart, first.contentEnd).toString('latin1');
  assert.match(content, new RegExp(`^Received: from me \\(localhost \\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby mx\\.test\\.example \\(Postfix\\) with ESMTP id ${ids[0]}\\r\\n\\tfor <bob@remote\\.example>; .*\\r\\nSubject: bs\\r\\n\\r\\nhi\\r\\n\\.dot\\r\\n$`));
  const second = decodeMaildrop(readFileSync(join(maildrop, ids[1]!)));
  assert.equal(second.envelope.sender, '');
  assert.deepEqual(second.envelope.recipients, ['carol@mx.test.example']);
});

test('sendmail -bv: Postfix report line, a report for the sender in maildrop', (t) => {
  const { etc, maildrop } = fixture(t);
  const r = spawnSync(join(BIN, 'sendmail'), ['-C', etc, '-f', 'alice@virt.test', '-bv', 'bob@remote.example'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Mail Delivery Status Report will be mailed to <alice@virt.test>.\n');
  const files = readdirSync(maildrop).filter((f) => !f.startsWith('.'));
  assert.equal(files.length, 1);
  const data = readFileSync(join(maildrop, files[0]!));
  const m = decodeMaildrop(data);
  assert.equal(m.envelope.sender, '');
  assert.deepEqual(m.envelope.recipients, ['alice@virt.test']);
  const text = data.subarray(m.contentStart, m.contentEnd).toString('utf8');
  assert.match(text, /^Subject: Mail Delivery Status Report\r$/m);
  assert.match(text, /^<bob@remote\.example>: delivery via smtp\[remote\.example\]/m);
});
