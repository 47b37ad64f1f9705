/*
 * The pure header module as tables: field names, folding, 8-bit bytes, header_size_limit, the end
 * of the header block (empty line or a non-header line), serialization with CRLF; and the
 * header_checks action parser, the To/Cc address extractor and the added fields' shapes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldName, fieldValue, HeaderAccumulator, parseHeaderBlock, serializeField } from '../../../mta/cleanup/headers.js';
import { parseHeaderAction } from '../../../mta/cleanup/header-checks.js';
import { extractAddresses } from '../../../mta/cleanup/address-list.js';
import { fromHeader, generatedMessageId, receivedHeader } from '../../../mta/cleanup/added-headers.js';
import { mailDate } from '../../../mta/cleanup/mail-date.js';

test('fieldName', () => {
  const cases: Array<[string, string | undefined]> = [
    ['Subject: hi', 'Subject'],
    ['X-Odd_Name.1: v', 'X-Odd_Name.1'],
    ['Subject : spaced', 'Subject'],
    ['No colon here', undefined],
    [': empty name', undefined],
    ['Bad Name: x', undefined],
    [' continuation', undefined],
    ['From nobody Mon Jan  1', undefined],
  ];
  for (const [line, want] of cases) assert.equal(fieldName(Buffer.from(line)), want, line);
});

test('parseHeaderBlock: folding, end of header, body offset', () => {
  const cases: Array<{ in: string; names: string[]; values: string[]; body: string }> = [
    { in: 'A: 1\r\nB: 2\r\n\r\nbody\r\n', names: ['A', 'B'], values: ['1', '2'], body: 'body\r\n' },
    { in: 'A: 1\n  more\n\tand more\nB: 2\n\nbody\n', names: ['A', 'B'], values: ['1  more\tand more', '2'], body: 'body\n' },
    { in: 'A: 1\nnot a header\nB: 2\n', names: ['A'], values: ['1'], body: 'not a header\nB: 2\n' },
    { in: 'A: 1\nB: 2', names: ['A', 'B'], values: ['1', '2'], body: '' },
    { in: '\nbody only\n', names: [], values: [], body: 'body only\n' },
  ];
  for (const c of cases) {
    const { fields, bodyOffset } = parseHeaderBlock(c.in);
    assert.deepEqual(fields.map((f) => f.name), c.names, c.in);
    assert.deepEqual(fields.map(fieldValue), c.values, c.in);
    assert.equal(Buffer.from(c.in).subarray(bodyOffset).toString(), c.body, c.in);
  }
});

test('8-bit bytes survive parse and serialize unchanged', () => {
  const raw = Buffer.concat([Buffer.from('Subject: '), Buffer.from([0xe9, 0xff, 0x80]), Buffer.from('\r\n\tx\r\n\r\n')]);
  const { fields } = parseHeaderBlock(raw);
  assert.equal(fields.length, 1);
  assert.deepEqual(serializeField(fields[0]!), raw.subarray(0, raw.length - 2));
});

test('header_size_limit truncates one logical header and keeps it bounded', () => {
  const acc = new HeaderAccumulator(20);
  acc.feed(Buffer.from('Subject: 0123456789'));
  acc.feed(Buffer.from(' abcdefghijklmnopqrstuvwxyz'));
  const r = acc.feed(Buffer.from('To: x'));
  assert.equal(r.kind, 'more');
  assert.ok(r.completed);
  assert.equal(r.completed.truncated, true);
  assert.equal(r.completed.raw.toString(), 'Subject: 0123456789');
  const acc2 = new HeaderAccumulator(25);
  acc2.feed(Buffer.from('Subject: 0123456789'));
  acc2.feed(Buffer.from(' abcdefghijklmnopqrstuvwxyz'));
  const f = acc2.finish()!;
  assert.equal(f.raw.toString(), 'Subject: 0123456789\n abcd');
  assert.equal(f.raw.length, 25);
});

test('parseHeaderAction', () => {
  const cases: Array<[string, object]> = [
    ['REJECT', { kind: 'reject', dsn: '5.7.1', text: 'message content rejected' }],
    ['REJECT no spam here', { kind: 'reject', dsn: '5.7.1', text: 'no spam here' }],
    ['REJECT 5.7.0 custom', { kind: 'reject', dsn: '5.7.0', text: 'custom' }],
    ['reject 4.7.1 later', { kind: 'reject', dsn: '4.7.1', text: 'later' }],
    ['DISCARD bye', { kind: 'discard', text: 'bye' }],
    ['HOLD', { kind: 'hold', text: '' }],
    ['IGNORE', { kind: 'ignore' }],
    ['WARN look', { kind: 'warn', text: 'look' }],
    ['PREPEND X-Seen: yes', { kind: 'prepend', header: 'X-Seen: yes' }],
    ['REPLACE Subject: [tagged]', { kind: 'replace', header: 'Subject: [tagged]' }],
    ['FILTER smtp:[127.0.0.1]:10025', { kind: 'filter', destination: 'smtp:[127.0.0.1]:10025' }],
    ['REDIRECT abuse@example.test', { kind: 'redirect', address: 'abuse@example.test' }],
    ['DUNNO', { kind: 'none' }],
    ['OK', { kind: 'none' }],
  ];
  for (const [v, want] of cases) assert.deepEqual(parseHeaderAction(v), want, v);
  assert.equal(parseHeaderAction('PREPEND not a header').kind, 'invalid');
  assert.equal(parseHeaderAction('FROBNICATE').kind, 'invalid');
});

test('extractAddresses', () => {
  const cases: Array<[string, string[]]> = [
    ['a@b.test', ['a@b.test']],
    ['Alice <a@b.test>, "Bob, Jr." <bob@b.test>', ['a@b.test', 'bob@b.test']],
    ['a@b.test (comment), c@d.test', ['a@b.test', 'c@d.test']],
    ['friends: x@y.test, z@y.test;, w@y.test', ['x@y.test', 'z@y.test', 'w@y.test']],
    ['undisclosed-recipients:;', []],
    ['plainuser', ['plainuser']],
  ];
  for (const [v, want] of cases) assert.deepEqual(extractAddresses(v), want, v);
});

test('added fields have Postfix shapes', () => {
  const d = new Date(Date.UTC(2026, 10, 5, 7, 4, 3));
  const date = mailDate(d);
  assert.match(date, /^Thu,  5 Nov 2026 \d\d:\d\d:03 [+-]\d{4} \(.+\)$/);
  const client = { name: 'localhost', addr: '127.0.0.1', helo: 'probe.test.example', protocol: 'ESMTPA' };
  const base = { myhostname: 'mx.test.example', mailName: 'Postfix', queueId: 'B4BAC20E4A2', date: d };
  assert.equal(
    receivedHeader({ ...base, origin: 'smtpd', client, recipients: ['u5@test.example'] }),
    `Received: from probe.test.example (localhost [127.0.0.1])\n\tby mx.test.example (Postfix) with ESMTPA id B4BAC20E4A2\n\tfor <u5@test.example>; ${date}`,
  );
  assert.equal(
    receivedHeader({ ...base, origin: 'smtpd', client, recipients: ['a@x', 'b@x'] }),
    `Received: from probe.test.example (localhost [127.0.0.1])\n\tby mx.test.example (Postfix) with ESMTPA id B4BAC20E4A2;\n\t${date}`,
  );
  assert.equal(
    receivedHeader({ ...base, origin: 'pickup', localUid: 0, recipients: ['a@x'] }),
    `Received: by mx.test.example (Postfix, from userid 0)\n\tid B4BAC20E4A2; ${date}`,
  );
  assert.equal(receivedHeader({ ...base, origin: 'bounce', recipients: ['a@x'] }), `Received: by mx.test.example (Postfix)\n\tid B4BAC20E4A2; ${date}`);
  assert.equal(receivedHeader({ ...base, origin: 'requeue', recipients: [] }), undefined);
  assert.equal(generatedMessageId('A745520E479', 'mx.example.test', new Date(Date.UTC(2026, 10, 27, 17, 42, 39)), false), '<20261127174239.A745520E479@mx.example.test>');
  assert.equal(generatedMessageId('3Pt2mN2VXxznjll', 'mx.example.test', d, true), '<3Pt2mN2VXxznjll@mx.example.test>');
  assert.equal(fromHeader('alice@virt.test', 'root'), 'From: root <alice@virt.test>');
  assert.equal(fromHeader('alice@virt.test', 'Doe, John'), 'From: "Doe, John" <alice@virt.test>');
  assert.equal(fromHeader('alice@virt.test', undefined), 'From: alice@virt.test');
  assert.equal(fromHeader('', undefined), 'From: MAILER-DAEMON');
});

test('mailDate: the text is kept per second and TZ value, never across either', () => {
  const saved = process.env['TZ'];
  try {
    process.env['TZ'] = 'UTC';
    const a = mailDate(new Date(Date.UTC(2026, 0, 1, 12, 0, 0, 100)));
    assert.equal(a, 'Thu,  1 Jan 2026 12:00:00 +0000 (UTC)');
    assert.equal(mailDate(new Date(Date.UTC(2026, 0, 1, 12, 0, 0, 900))), a);
    assert.equal(mailDate(new Date(Date.UTC(2026, 0, 1, 12, 0, 1, 0))), 'Thu,  1 Jan 2026 12:00:01 +0000 (UTC)');
    process.env['TZ'] = 'America/New_York';
    assert.equal(mailDate(new Date(Date.UTC(2026, 0, 1, 12, 0, 1, 0))), 'Thu,  1 Jan 2026 07:00:01 -0500 (EST)');
  } finally {
    if (saved === undefined) delete process.env['TZ'];
    else process.env['TZ'] = saved;
  }
});
