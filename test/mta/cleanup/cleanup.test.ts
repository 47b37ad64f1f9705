/*
 * cleanup over a real QueueStore in a temporary directory: the fields Postfix adds (Received for
 * smtpd and pickup, Message-Id/Date/From for local mail only), CRLF storage, rewriting and
 * expansion through a stub CleanupAddressMaps, BCC and duplicates, sendmail -t extraction,
 * message_size_limit and hopcount_limit leaving nothing in the queue, and header_checks actions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { cleanupFixture, NOW } from './helpers.js';
import { mailDate } from '../../../mta/cleanup/mail-date.js';
import { writeFileSync } from 'node:fs';
import { tempDir } from '../../helpers/tmp.js';
import { openTable } from '../../../shared/config/tables/registry.js';
import type { IncomingMessage } from '../../../mta/cleanup/api.js';

const smtpMsg = (over: Partial<IncomingMessage> = {}): IncomingMessage => ({
  origin: 'smtpd',
  sender: 'alice@virt.test',
  recipients: [{ address: 'u5@test.example' }],
  client: { name: 'localhost', addr: '127.0.0.1', helo: 'probe.test.example', protocol: 'ESMTPA' },
  ...over,
});

test('smtpd message: Received with for, missing fields added for a local-interface client, CRLF storage', async (t) => {
  const { store, cleanup, logLines } = cleanupFixture(t);
  const id = cleanup.allocateQueueId();
  const res = await cleanup.submit(smtpMsg({ queueId: id }), Readable.from([Buffer.from('Subject: t\n\nhello\n.dot\n')]));
  assert.deepEqual(res, { kind: 'queued', queueId: id, size: store.get(id)!.size });
  const body = store.readBody(id).toString();
  const date = mailDate(NOW);
  assert.equal(
    body,
    `Received: from probe.test.example (localhost [127.0.0.1])\r\n\tby mx.example.test (Postfix) with ESMTPA id ${id}\r\n\tfor <u5@test.example>; ${date}\r\n` +
      `Subject: t\r\nMessage-Id: <20261127174239.${id}@mx.example.test>\r\nDate: ${date}\r\nFrom: alice@virt.test\r\n\r\nhello\r\n.dot\r\n`,
  );
  assert.deepEqual(logLines(), [`${id}: message-id=<20261127174239.${id}@mx.example.test>`]);
  const rec = store.get(id)!;
  assert.equal(rec.attrs.client_address, '127.0.0.1');
  assert.equal(rec.attrs.protocol, 'ESMTPA');
});

test('remote client: nothing added, message-id=<> logged; existing Message-Id logged as is', async (t) => {
  const { store, cleanup, logLines } = cleanupFixture(t);
  const m = smtpMsg({ client: { name: 'unknown', addr: '192.0.2.7', helo: 'x', protocol: 'ESMTP' }, recipients: [{ address: 'a@x.test' }, { address: 'b@x.test' }] });
  const r1 = await cleanup.submit(m, Buffer.from('Subject: a\r\n\r\nb\r\n'));
  assert.equal(r1.kind, 'queued');
  const id1 = (r1 as { queueId: string }).queueId;
  const b1 = store.readBody(id1).toString();
  assert.match(b1, new RegExp(`^Received: from x \\(unknown \\[192\\.0\\.2\\.7\\]\\)\r\n\tby mx\\.example\\.test \\(Postfix\\) with ESMTP id ${id1};\r\n\t`));
  assert.doesNotMatch(b1, /Message-Id|Date:|From:/);
  const r2 = await cleanup.submit(m, Buffer.from('Message-ID: <abc@def>\r\n\r\nb\r\n'));
  const id2 = (r2 as { queueId: string }).queueId;
  assert.deepEqual(logLines(), [`${id1}: message-id=<>`, `${id2}: message-id=<abc@def>`]);
});

test('pickup: Received by … from userid, From with full name, Return-Path dropped', async (t) => {
  const { store, cleanup } = cleanupFixture(t);
  const res = await cleanup.submit(
    { origin: 'pickup', sender: 'carol@sink.test', recipients: [{ address: 'dave@sink.test' }], localUid: 0, fullName: 'Carol Q' },
    Buffer.from('Return-Path: <forged@x>\nSubject: local\n\nhello\n'),
  );
  const id = (res as { queueId: string }).queueId;
  const date = mailDate(NOW);
  assert.equal(
    store.readBody(id).toString(),
    `Received: by mx.example.test (Postfix, from userid 0)\r\n\tid ${id}; ${date}\r\nSubject: local\r\n` +
      `Message-Id: <20261127174239.${id}@mx.example.test>\r\nDate: ${date}\r\nFrom: Carol Q <carol@sink.test>\r\n\r\nhello\r\n`,
  );
});

test('rewriting, expansion, bcc and duplicate elimination through the address maps', async (t) => {
  const { store, cleanup } = cleanupFixture(t, {
    settings: { alwaysBcc: 'archive@example.test' },
    maps: {
      rewriteSender: (a) => a.replace('@old.test', '@new.test'),
      rewriteRecipient: (a) => a.toLowerCase(),
      expandRecipient: (a) => (a === 'team@x.test' ? { kind: 'addresses', addresses: ['p@x.test', 'q@x.test'] } : { kind: 'addresses', addresses: [a] }),
      senderBcc: (s) => (s === 'boss@new.test' ? 'copy@x.test' : undefined),
    },
  });
  const res = await cleanup.submit(
    { origin: 'smtpd', sender: 'boss@old.test', recipients: [{ address: 'Team@x.test', notify: ['SUCCESS'] }, { address: 'p@x.test' }, { address: 'P@x.test' }], client: { name: 'h', addr: '192.0.2.1', protocol: 'SMTP' } },
    Buffer.from('\r\n'),
  );
  const rec = store.get((res as { queueId: string }).queueId)!;
  assert.equal(rec.sender, 'boss@new.test');
  assert.deepEqual(
    rec.recipients.map((r) => [r.address, r.originalAddress, r.notify]),
    [
      ['p@x.test', 'Team@x.test', ['SUCCESS']],
      ['q@x.test', 'Team@x.test', ['SUCCESS']],
      ['p@x.test', undefined, undefined],
      ['copy@x.test', undefined, ['NEVER']],
      ['archive@example.test', undefined, ['NEVER']],
    ],
  );
});

test('a temporary expansion failure refuses the message with 451 and queues nothing', async (t) => {
  const { store, cleanup } = cleanupFixture(t, { maps: { expandRecipient: () => ({ kind: 'error', dsn: '4.3.0', text: 'table lookup failed' }) } });
  const res = await cleanup.submit(smtpMsg(), Buffer.from('\r\nx\r\n'));
  assert.deepEqual(res, { kind: 'rejected', reply: { code: 451, enhanced: '4.3.0', text: 'Error: queue file write error' } });
  assert.equal([...store.list()].length, 0);
});

test('sendmail -t: recipients from To/Cc/Bcc, Bcc removed', async (t) => {
  const { store, cleanup } = cleanupFixture(t);
  const res = await cleanup.submit(
    { origin: 'pickup', sender: 'root@example.test', recipients: [], localUid: 0, extractRecipients: true },
    Buffer.from('To: A <a@x.test>, b@x.test\nCc: c@x.test\nBcc: hidden@x.test\nSubject: s\n\nbody\n'),
  );
  const id = (res as { queueId: string }).queueId;
  assert.deepEqual(store.get(id)!.recipients.map((r) => r.address), ['a@x.test', 'b@x.test', 'c@x.test', 'hidden@x.test']);
  assert.doesNotMatch(store.readBody(id).toString(), /Bcc|hidden/);
});

test('no recipients at all is refused', async (t) => {
  const { cleanup } = cleanupFixture(t);
  const res = await cleanup.submit({ origin: 'pickup', sender: 'a@b', recipients: [], extractRecipients: true }, Buffer.from('Subject: x\n\n'));
  assert.equal(res.kind, 'rejected');
  assert.equal((res as { reply: { code: number } }).reply.code, 550);
});

test('message_size_limit: 552 5.3.4, input drained, nothing queued', async (t) => {
  const { store, cleanup } = cleanupFixture(t, { settings: { messageSizeLimit: 1000 } });
  let pulled = 0;
  async function* big() {
    for (let i = 0; i < 50; i++) {
      pulled++;
      yield Buffer.from(`${'x'.repeat(99)}\n`);
    }
  }
  const res = await cleanup.submit(smtpMsg(), big());
  assert.deepEqual(res, { kind: 'rejected', reply: { code: 552, enhanced: '5.3.4', text: 'Message size exceeds fixed limit' } });
  assert.equal(pulled, 50);
  assert.equal([...store.list()].length, 0);
});

test('hopcount_limit: 554 5.4.0 Error: too many hops (our Received counts)', async (t) => {
  const { store, cleanup } = cleanupFixture(t, { settings: { hopcountLimit: 3 } });
  const ok = await cleanup.submit(smtpMsg(), Buffer.from('Received: a\nSubject: x\n\n'));
  assert.equal(ok.kind, 'queued');
  const res = await cleanup.submit(smtpMsg(), Buffer.from('Received: a\nReceived: b\n\n'));
  assert.deepEqual(res, { kind: 'rejected', reply: { code: 554, enhanced: '5.4.0', text: 'Error: too many hops' } });
  assert.equal([...store.list()].length, 1);
});

test('long body lines pass through whole; over-long header lines are cut at header_size_limit', async (t) => {
  const { store, cleanup } = cleanupFixture(t, { settings: { lineLengthLimit: 100, headerSizeLimit: 200 } });
  const long = 'y'.repeat(5000);
  const res = await cleanup.submit(smtpMsg({ client: { name: 'h', addr: '192.0.2.1', protocol: 'SMTP' } }), Buffer.from(`X-Long: ${'z'.repeat(1000)}\nSubject: s\n\n${long}\nend\n`));
  const body = store.readBody((res as { queueId: string }).queueId).toString();
  assert.ok(body.includes(`\r\n\r\n${long}\r\nend\r\n`));
  const xlong = body.split('\r\n').find((l) => l.startsWith('X-Long:'))!;
  assert.equal(xlong.length, 200);
  assert.ok(body.includes('\r\nSubject: s\r\n'));
});

function regexpTable(t: import('node:test').TestContext, rules: string) {
  const dir = tempDir(t, 'postern-hc-');
  writeFileSync(`${dir}/hc`, rules);
  return openTable(`regexp:${dir}/hc`);
}

test('header_checks: REJECT, DISCARD, HOLD, IGNORE, PREPEND, REPLACE, WARN, REDIRECT', async (t) => {
  const table = regexpTable(
    t,
    [
      '/^Subject: spam/ REJECT no spam please',
      '/^Subject: drop/ DISCARD dropped',
      '/^Subject: park/ HOLD parked',
      '/^X-Secret:/ IGNORE',
      '/^Subject: tagme/ PREPEND X-Tag: yes',
      '/^Subject: old/ REPLACE Subject: new',
      '/^Subject: watch/ WARN watched',
      '/^Subject: divert/ REDIRECT abuse@example.test',
    ].join('\n') + '\n',
  );
  const { store, cleanup, logLines } = cleanupFixture(t, { deps: { headerChecks: [table] } });
  const m = smtpMsg({ client: { name: 'h', addr: '192.0.2.1', helo: 'hh', protocol: 'ESMTP' } });
  const send = (hdr: string) => cleanup.submit(m, Buffer.from(`${hdr}\n\nbody\n`));

  const rej = await send('Subject: spam now');
  assert.deepEqual(rej, { kind: 'rejected', reply: { code: 550, enhanced: '5.7.1', text: 'no spam please' } });
  const dis = await send('Subject: drop it');
  assert.equal(dis.kind, 'discarded');
  assert.equal([...store.list()].length, 0);

  const held = await send('Subject: park me');
  assert.equal(store.get((held as { queueId: string }).queueId)!.queue, 'hold');

  const ign = await send('X-Secret: 1\nSubject: tagme');
  assert.match(store.readBody((ign as { queueId: string }).queueId).toString(), /\r\nX-Tag: yes\r\nSubject: tagme\r\n/);
  assert.doesNotMatch(store.readBody((ign as { queueId: string }).queueId).toString(), /X-Secret/);

  const rep = await send('Subject: old');
  assert.match(store.readBody((rep as { queueId: string }).queueId).toString(), /\r\nSubject: new\r\n/);

  const red = await send('Subject: divert');
  assert.deepEqual(store.get((red as { queueId: string }).queueId)!.recipients.map((r) => r.address), ['abuse@example.test']);

  const w = await send('Subject: watch');
  const wid = (w as { queueId: string }).queueId;
  const lines = logLines();
  const rejId = lines.find((l) => l.includes(': reject: '))!.split(':')[0];
  assert.ok(lines.includes(`${rejId}: reject: header Subject: spam now from h[192.0.2.1]; from=<alice@virt.test> to=<u5@test.example> proto=ESMTP helo=<hh>: 5.7.1 no spam please`));
  assert.ok(lines.includes(`${wid}: warning: header Subject: watch from h[192.0.2.1]; from=<alice@virt.test> to=<u5@test.example> proto=ESMTP helo=<hh>: watched`));
  assert.ok(lines.some((l) => /: hold: header Subject: park me from .*: parked$/.test(l)));
});
