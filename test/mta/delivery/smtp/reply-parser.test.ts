/* The bounded reply parser: multiline replies, enhanced codes, chunking, limits, malformed lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEhlo, ReplyParser, ReplySyntaxError, replyDsn, replyString } from '../../../../mta/delivery/smtp/reply-parser.js';

test('replies in arbitrary chunks', () => {
  const p = new ReplyParser();
  const wire = '250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n550 5.1.1 <u@x>: no\r\n';
  for (const ch of wire) p.push(Buffer.from(ch));
  const a = p.shift()!;
  assert.equal(a.code, 250);
  assert.deepEqual([...parseEhlo(a)], [['PIPELINING', ''], ['SIZE', '1000']]);
  const b = p.shift()!;
  assert.equal(replyString(b), '550 5.1.1 <u@x>: no');
  assert.equal(replyDsn(b), '5.1.1');
  assert.equal(p.shift(), undefined);
});

test('DSN from the code when there is no enhanced code; mismatched class ignored', () => {
  const p = new ReplyParser();
  p.push(Buffer.from('451 try later\r\n452 5.2.2 odd\r\n'));
  assert.equal(replyDsn(p.shift()!), '4.0.0');
  assert.equal(replyDsn(p.shift()!), '4.0.0');
});

test('multiline replies keep their line prefixes, joined by spaces', () => {
  const p = new ReplyParser();
  p.push(Buffer.from('550-5.1.1 The account\r\n550-5.1.1 does not\r\n550 5.1.1 exist\r\n'));
  assert.equal(replyString(p.shift()!), '550-5.1.1 The account 550-5.1.1 does not 550 5.1.1 exist');
});

test('huge lines are cut, text is capped, endless replies end in an error', () => {
  const p = new ReplyParser({ lineLimit: 100, textLimit: 300, maxLines: 50 });
  p.push(Buffer.from(`250 ${'x'.repeat(100_000)}\r\n`));
  assert.equal(p.shift()!.lines[0]!.length, 100);
  for (let i = 0; i < 40; i++) p.push(Buffer.from(`250-${'y'.repeat(90)}\r\n`));
  p.push(Buffer.from('250 end\r\n'));
  const r = p.shift()!;
  assert.ok(r.lines.join('\n').length < 400);
  assert.throws(() => {
    for (let i = 0; i < 60; i++) p.push(Buffer.from('220-more\r\n'));
  }, ReplySyntaxError);
});

test('malformed lines', () => {
  for (const bad of ['hello\r\n', '25\r\n', '999 x\r\n', '250x\r\n']) {
    assert.throws(() => new ReplyParser().push(Buffer.from(bad)), ReplySyntaxError, bad);
  }
  const p = new ReplyParser();
  p.push(Buffer.from('250\r\n'));
  assert.equal(p.shift()!.code, 250);
});
