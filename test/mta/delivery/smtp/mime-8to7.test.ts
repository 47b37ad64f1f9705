/*
 * The 8-bit → 7-bit converter (mta/delivery/smtp/mime-8to7.ts) as a table of input and expected
 * output (Postfix mime_state.c downgrade semantics), fed whole and byte by byte; the header
 * tokenizer; the nesting limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mime8to7, MimeDowngradeError, POSTFIX_MIME_LIMITS, type MimeLimits } from '../../../../mta/delivery/smtp/mime-8to7.js';
import { headerLabelLength, headerToken, RFC2045_TSPECIALS } from '../../../../mta/delivery/smtp/mime-tokens.js';

const crlf = (lines: string[]): string => lines.map((l) => `${l}\r\n`).join('');
const lf = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');

function convert(input: string, limits: MimeLimits = POSTFIX_MIME_LIMITS, byteByByte = false): string {
  const m = new Mime8to7(limits);
  const src = Buffer.from(input, 'utf8');
  const parts: Buffer[] = [];
  if (byteByByte) for (let i = 0; i < src.length; i++) parts.push(m.push(src.subarray(i, i + 1)));
  else parts.push(m.push(src));
  parts.push(m.end());
  return Buffer.concat(parts).toString('latin1');
}

const A73 = 'a'.repeat(73);

const CASES: { name: string; input: string; output: string; limits?: MimeLimits }[] = [
  {
    name: 'single 8bit text part: CTE replaced at the end of the header block, body quoted-printable',
    input: lf(['MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', 'Subject: x', '', 'café = ok ', 'tab\t', 'plain']),
    output: crlf(['MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Subject: x', 'Content-Transfer-Encoding: quoted-printable', '', 'caf=C3=A9 =3D ok=20', 'tab=09', 'plain']),
  },
  {
    name: 'CRLF input gives the same output; a bare CR inside a converted line is =0D',
    input: crlf(['Content-Transfer-Encoding: 8BIT', '', 'a\rb é']),
    output: crlf(['Content-Transfer-Encoding: quoted-printable', '', 'a=0Db =C3=A9']),
  },
  {
    name: 'lines over 76 characters get soft breaks after 73 output characters',
    input: lf(['Content-Transfer-Encoding: 8bit', '', `${A73}${'b'.repeat(30)}é`, `${'c'.repeat(72)}é${'d'.repeat(5)}`]),
    output: crlf(['Content-Transfer-Encoding: quoted-printable', '', `${A73}=`, `${'b'.repeat(30)}=C3=A9`, `${'c'.repeat(72)}=C3=`, `=A9${'d'.repeat(5)}`]),
  },
  {
    name: 'binary is converted too; empty lines stay empty',
    input: lf(['Content-Transfer-Encoding: binary', '', 'é', '']) + lf(['']),
    output: crlf(['Content-Transfer-Encoding: quoted-printable', '', '=C3=A9', '', '']),
  },
  {
    name: 'non-MIME 8-bit message and 8-bit headers are sent as they are',
    input: lf(['Subject: héllo', 'From: Jörg <j@example.test>', '', 'naïve body', '.dot']),
    output: crlf(['Subject: héllo', 'From: Jörg <j@example.test>', '', 'naïve body', '.dot']).replace(/[^\x00-\x7f]+/g, (s) => Buffer.from(s, 'utf8').toString('latin1')),
  },
  {
    name: 'declared 7bit, quoted-printable and base64 parts are left alone (8-bit bytes included)',
    input: lf(['Content-Transfer-Encoding: 7bit', '', 'x = é']),
    output: crlf(['Content-Transfer-Encoding: 7bit', '', 'x = é']).replace('é', '\xc3\xa9'),
  },
  {
    name: 'multipart with mixed encodings: multipart CTE becomes 7bit, prologue/epilogue untouched',
    input: lf([
      'Content-Type: multipart/mixed; boundary="b1"', 'Content-Transfer-Encoding: 8bit', '', 'prologue é',
      '--b1', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', 'héllo',
      '--b1', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', 'aGVsbG8=',
      '--b1', 'Content-Type: text/html', 'Content-Transfer-Encoding: quoted-printable', '', '<p>=C3=A9</p>',
      '--b1', 'Content-Type: application/x-thing', 'Content-Transfer-Encoding: 8bit', '', 'raw=é',
      '--b1--', 'epilogue é',
    ]),
    output: crlf([
      'Content-Type: multipart/mixed; boundary="b1"', 'Content-Transfer-Encoding: 7bit', '', 'prologue \xc3\xa9',
      '--b1', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', 'h=C3=A9llo',
      '--b1', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', 'aGVsbG8=',
      '--b1', 'Content-Type: text/html', 'Content-Transfer-Encoding: quoted-printable', '', '<p>=C3=A9</p>',
      '--b1', 'Content-Type: application/x-thing', 'Content-Transfer-Encoding: quoted-printable', '', 'raw=3D=C3=A9',
      '--b1--', 'epilogue \xc3\xa9',
    ]),
  },
  {
    name: 'nested message/rfc822: the message part says 7bit, its own 8bit body becomes quoted-printable',
    input: lf([
      'Content-Type: multipart/mixed;', '\tboundary=outer', '', '--outer', 'Content-Type: message/rfc822', 'Content-Transfer-Encoding: 8bit', '',
      'Subject: inner', 'Content-Type: text/plain', 'Content-Transfer-Encoding: 8bit', '', 'inner é', '--outer--',
    ]),
    output: crlf([
      'Content-Type: multipart/mixed;', '\tboundary=outer', '', '--outer', 'Content-Type: message/rfc822', 'Content-Transfer-Encoding: 7bit', '',
      'Subject: inner', 'Content-Type: text/plain', 'Content-Transfer-Encoding: quoted-printable', '', 'inner =C3=A9', '--outer--',
    ]),
  },
  {
    name: 'multipart/digest parts default to message/rfc822 headers',
    input: lf(['Content-Type: multipart/digest; boundary=d', '', '--d', '', 'Content-Transfer-Encoding: 8bit', '', 'é', '--d--']),
    output: crlf(['Content-Type: multipart/digest; boundary=d', '', '--d', '', 'Content-Transfer-Encoding: quoted-printable', '', '=C3=A9', '--d--']),
  },
  {
    name: 'folded headers are kept; `Name :` becomes `Name:`; a header block ended by text gets a blank line',
    input: lf(['Subject : folded', '  across lines', 'Content-Transfer-Encoding:', ' 8bit (comment)', 'body without blank é']),
    output: crlf(['Subject: folded', '  across lines', 'Content-Transfer-Encoding: quoted-printable', '', 'body without blank =C3=A9']),
  },
  {
    name: 'missing final newline is supplied',
    input: 'Content-Transfer-Encoding: 8bit\n\nlast é',
    output: crlf(['Content-Transfer-Encoding: quoted-printable', '', 'last =C3=A9']),
  },
  {
    name: 'records: a line longer than line_length_limit continues seamlessly; no boundary match inside it',
    limits: { ...POSTFIX_MIME_LIMITS, lineLimit: 64 },
    input: lf(['Content-Type: multipart/mixed; boundary=zz', '', '--zz', 'Content-Transfer-Encoding: 8bit', '', `${'a'.repeat(64)}--zz--`, '--zz--', 'after', 'b'.repeat(200)]),
    output: crlf(['Content-Type: multipart/mixed; boundary=zz', '', '--zz', 'Content-Transfer-Encoding: quoted-printable', '', `${'a'.repeat(64)}--zz--`, '--zz--', 'after', 'b'.repeat(200)]),
  },
];

for (const c of CASES) {
  test(`8to7: ${c.name}`, () => {
    assert.equal(convert(c.input, c.limits), c.output);
    assert.equal(convert(c.input, c.limits, true), c.output, 'byte by byte');
  });
}

test('8to7: nesting beyond mime_nesting_limit is a hard error (5.6.0)', () => {
  const limits = { ...POSTFIX_MIME_LIMITS, nestingLimit: 2 };
  const parts = ['Content-Type: multipart/mixed; boundary=l0', ''];
  for (let i = 1; i <= 4; i++) parts.push(`--l${i - 1}`, `Content-Type: multipart/mixed; boundary=l${i}`, '');
  assert.throws(() => convert(lf(parts), limits), (e: unknown) => e instanceof MimeDowngradeError && e.dsn === '5.6.0' && e.message === 'MIME nesting exceeds safety limit');
  assert.doesNotThrow(() => convert(lf(parts.slice(0, 8)), limits));
});

test('8to7: memory stays bounded on a huge header and a huge line', () => {
  const m = new Mime8to7({ ...POSTFIX_MIME_LIMITS, headerLimit: 1000, lineLimit: 100 });
  let out = 0;
  out += m.push(Buffer.from('X-Big: ')).length;
  for (let i = 0; i < 1000; i++) out += m.push(Buffer.from(' continued header text\n'.repeat(10))).length;
  out += m.push(Buffer.from('\nbody\n')).length;
  out += m.end().length;
  assert.ok(out < 3000, `header text was capped (${out} bytes out)`);
});

test('header tokenizer and header label (is_header, header_token)', () => {
  assert.equal(headerLabelLength('Subject: x'), 7);
  assert.equal(headerLabelLength('Subject  : x'), 7);
  assert.equal(headerLabelLength(' Subject: x'), 0);
  assert.equal(headerLabelLength('--boundary'), 0);
  assert.equal(headerLabelLength('Sub ject: x'), 0);
  assert.equal(headerLabelLength(': x'), 0);
  const v = ' multipart/mixed (c (nested)); boundary="a \\"b\\""; x=y';
  const first = headerToken(v, 0, 3, RFC2045_TSPECIALS, ';');
  assert.deepEqual(first.tokens.map((t) => [t.type, t.value]), [['token', 'multipart'], ['/', '/'], ['token', 'mixed']]);
  const second = headerToken(v, first.next, 3, RFC2045_TSPECIALS, ';');
  assert.deepEqual(second.tokens.map((t) => [t.type, t.value]), [['token', 'boundary'], ['=', '='], ['qstring', 'a "b"']]);
  const third = headerToken(v, second.next, 3, RFC2045_TSPECIALS, ';');
  assert.equal(third.count, 3);
  assert.equal(headerToken(v, third.next, 3, RFC2045_TSPECIALS, ';').count, -1);
});
