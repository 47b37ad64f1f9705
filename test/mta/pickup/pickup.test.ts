/*
 * Local submission end to end without a daemon: sendmailMain (as the CLI runs it) writes a durable
 * maildrop file; pickup feeds it to cleanup over a real QueueStore, logs Postfix's pickup line and
 * deletes the file only after the queue commit. Also: the maildrop format round trip and its
 * refusal of incomplete or forged files, and pickup setting aside garbage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { cleanupFixture } from '../cleanup/helpers.js';
import { sendmailMain } from '../../../mta/cli/sendmail.js';
import { startPickup } from '../../../mta/pickup/pickup.js';
import { decodeMaildrop, encodeEnvelope, encodeTrailer, MaildropFormatError } from '../../../mta/pickup/maildrop-format.js';
import { postfixDiag } from '../../../shared/cli/diag.js';
import { postfixLogger } from '../../../shared/log/logger.js';
import { memorySink } from '../../../shared/log/sink.js';

test('maildrop format: round trip, escaping, incomplete and bad files refused', () => {
  const env = { uid: 1000, sender: 'a@b', fullName: 'A %\nB', recipients: ['x@y', 'z@w'], notify: ['SUCCESS' as const], ret: 'HDRS' as const, envid: 'e1', extract: true };
  const content = Buffer.from('Subject: s\n\nbody\n');
  const file = Buffer.concat([encodeEnvelope(env), content, encodeTrailer(content.length)]);
  const d = decodeMaildrop(file);
  assert.deepEqual(d.envelope, env);
  assert.deepEqual(file.subarray(d.contentStart, d.contentEnd), content);
  assert.throws(() => decodeMaildrop(file.subarray(0, file.length - 5)), MaildropFormatError);
  assert.throws(() => decodeMaildrop(Buffer.concat([encodeEnvelope(env), content])), /incomplete/);
  assert.throws(() => decodeMaildrop(Buffer.from('POSTERN-MAILDROP 1\nuid: 0\nsender: a\nevil: 1\n\nPOSTERN-MAILDROP-END 0\n')), /unknown field/);
});

async function runSendmail(queueDirectory: string, argv: string[], input: string) {
  const configDir = join(queueDirectory, 'etc');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, 'main.cf'), `queue_directory = ${queueDirectory}\n`);
  let err = '';
  const status = await sendmailMain(['-C', configDir, ...argv], {
    stdin: Readable.from([Buffer.from(input)]),
    stdout: () => undefined,
    env: {},
    diag: postfixDiag('sendmail', (s) => (err += s)),
    uid: 0,
  }).catch((e: { status?: number }) => e.status ?? -1);
  return { status, err };
}

test('sendmail → maildrop → pickup → queue', async (t) => {
  const { store, cleanup, queueDirectory } = cleanupFixture(t);
  const r = await runSendmail(queueDirectory, ['-f', 'alice@virt.test', '-F', 'Alice A', 'bob@example.test'], 'Subject: hi\n\nline\n.\nnot read\n');
  assert.equal(r.status, 0, r.err);
  const files = readdirSync(join(queueDirectory, 'maildrop'));
  assert.equal(files.length, 1);
  assert.ok(!files[0]!.startsWith('.'));

  const sink = memorySink();
  const log = postfixLogger({ sink, host: 'mx', syslogName: 'postfix', program: 'pickup', pid: 7 });
  const pickup = startPickup({ queueDirectory, cleanup, log, pollSeconds: 3600 });
  t.after(() => pickup.stop());
  await pickup.scan();
  assert.deepEqual(readdirSync(join(queueDirectory, 'maildrop')), []);
  const recs = [...store.list()];
  assert.equal(recs.length, 1);
  const rec = recs[0]!;
  assert.equal(rec.sender, 'alice@virt.test');
  assert.deepEqual(rec.recipients.map((x) => x.address), ['bob@example.test']);
  const body = store.readBody(rec.id).toString();
  assert.match(body, new RegExp(`^Received: by mx\\.example\\.test \\(Postfix, from userid 0\\)\r\n\tid ${rec.id}; `));
  assert.match(body, /\r\nFrom: Alice A <alice@virt\.test>\r\n\r\nline\r\n$/);
  assert.ok(sink.lines.some((l) => l.endsWith(`postfix/pickup[7]: ${rec.id}: uid=0 from=<alice@virt.test>`)));
});

test('sendmail -t -i: recipients from the header, dots kept', async (t) => {
  const { store, cleanup, queueDirectory } = cleanupFixture(t);
  const r = await runSendmail(queueDirectory, ['-t', '-i', '-f', 'a@example.test'], 'To: x@y.test\nBcc: z@y.test\n\n.\nmore\n');
  assert.equal(r.status, 0, r.err);
  const sink = memorySink();
  const pickup = startPickup({ queueDirectory, cleanup, log: postfixLogger({ sink, host: 'mx', syslogName: 'postfix', program: 'pickup' }), pollSeconds: 3600 });
  t.after(() => pickup.stop());
  await pickup.scan();
  const rec = [...store.list()][0]!;
  assert.deepEqual(rec.recipients.map((x) => x.address), ['x@y.test', 'z@y.test']);
  assert.match(store.readBody(rec.id).toString(), /\r\n\r\n\.\r\nmore\r\n$/);
});

test('sendmail usage errors and unsupported modes exit as Postfix', async (t) => {
  const { queueDirectory } = cleanupFixture(t);
  assert.equal((await runSendmail(queueDirectory, [], 'x\n')).status, 64);
  assert.equal((await runSendmail(queueDirectory, ['-Q'], 'x\n')).status, 64);
  assert.equal((await runSendmail(queueDirectory, ['-N', 'bogus', 'a@b'], 'x\n')).status, 64);
  assert.equal((await runSendmail(queueDirectory, ['-bs'], '')).status, 69);
  // Ignored Sendmail options are accepted.
  assert.equal((await runSendmail(queueDirectory, ['-oem', '-odb', '-m', '-n', '-U', '-v', '-h', '5', 'a@b'], 'x\n')).status, 0);
});

test('pickup leaves a young incomplete file, sets aside an old one', async (t) => {
  const { cleanup, queueDirectory, store } = cleanupFixture(t);
  const dir = join(queueDirectory, 'maildrop');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'young'), 'POSTERN-MAILDROP 1\nuid: 0\nsender: a\n\nhalf');
  writeFileSync(join(dir, 'old'), 'garbage');
  const past = new Date(Date.now() - 2 * 3600_000);
  utimesSync(join(dir, 'old'), past, past);
  const sink = memorySink();
  const pickup = startPickup({ queueDirectory, cleanup, log: postfixLogger({ sink, host: 'mx', syslogName: 'postfix', program: 'pickup' }), pollSeconds: 3600 });
  t.after(() => pickup.stop());
  await pickup.scan();
  assert.deepEqual(readdirSync(dir).sort(), ['.corrupt-old', 'young']);
  assert.equal([...store.list()].length, 0);
  assert.ok(sink.lines.some((l) => /warning: maildrop\/old: .*: moved to maildrop\/\.corrupt-old$/.test(l)));
});
