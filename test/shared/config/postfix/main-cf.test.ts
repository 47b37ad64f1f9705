/* main.cf parser: logical lines, comments, continuation, name = value, duplicates, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMainCf } from '../../../../shared/config/postfix/main-cf.js';
import { ConfigSyntaxError } from '../../../../shared/errors/config-error.js';

const F = '/x/main.cf';
const cases: Array<{ name: string; text: string; params: Record<string, string>; warnings?: string[] }> = [
  { name: 'simple', text: 'a = b\n', params: { a: 'b' } },
  { name: 'no spaces', text: 'a=b', params: { a: 'b' } },
  { name: 'trailing whitespace trimmed', text: 'a =   b c  \t\n', params: { a: 'b c' } },
  { name: 'empty value', text: 'a =\n', params: { a: '' } },
  { name: 'hash mid-line is data', text: 'a = b # c\n', params: { a: 'b # c' } },
  { name: 'value starting with hash', text: 'c = # x\n', params: { c: '# x' } },
  { name: 'comment lines', text: '# x\n  # indented\na = 1\n', params: { a: '1' } },
  { name: 'continuation keeps leading whitespace', text: 'a = x,\n   y\n\tz\n', params: { a: 'x,   y\tz' } },
  { name: 'comment and blank lines inside continuation', text: 'a = x\n#c\n  cont\n\n  cont2\n', params: { a: 'x  cont  cont2' } },
  { name: 'odd names accepted', text: 'x-y = 3\n1abc = 4\n', params: { 'x-y': '3', '1abc': '4' } },
  {
    name: 'last wins with warning', text: 'myhostname = a\nmyhostname = b\nmyhostname= c\n', params: { myhostname: 'c' },
    warnings: [`${F}, line 2: overriding earlier entry: myhostname=a`, `${F}, line 3: overriding earlier entry: myhostname=b`],
  },
  {
    name: 'leading whitespace logical line skipped', text: ' leading = x\nmyhostname = a\n', params: { myhostname: 'a' },
    warnings: [`${F}: logical line must not start with whitespace: " leading = x"`],
  },
  { name: 'CRLF', text: 'a = b\r\n', params: { a: 'b' } },
];

for (const c of cases) {
  test(`main.cf: ${c.name}`, () => {
    const m = parseMainCf(c.text, F);
    assert.deepEqual(Object.fromEntries(m.params), c.params);
    assert.deepEqual(m.warnings, c.warnings ?? []);
  });
}

const errors: Array<[string, string, number]> = [
  ['foo bar\n', `${F}, line 1: missing '=' after attribute name: "foo bar"`, 1],
  ['a = 1\n=novalue\n', `${F}, line 2: missing attribute name: "=novalue"`, 2],
  ['a b = 3\n', `${F}, line 1: missing '=' after attribute name: "a b = 3"`, 1],
];
for (const [text, msg, line] of errors) {
  test(`main.cf error: ${JSON.stringify(text)}`, () => {
    assert.throws(() => parseMainCf(text, F), (e: unknown) => e instanceof ConfigSyntaxError && e.message === msg && e.line === line);
  });
}

test('main.cf keeps physical lines and entry spans', () => {
  const m = parseMainCf('# c\na = 1\n  2\nb = 3', F);
  assert.deepEqual(m.lines, ['# c', 'a = 1', '  2', 'b = 3']);
  assert.equal(m.finalNewline, false);
  assert.deepEqual(m.entries.map((e) => [e.name, e.line, e.endLine]), [['a', 2, 3], ['b', 4, 4]]);
});
