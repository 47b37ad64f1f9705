/* regexp: (POSIX) and pcre: translation to JS RegExp, checked by matching. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { regexpDialect, pcreDialect } from '../../../../shared/config/tables/regexp-dialects.js';
import type { PatternDialect } from '../../../../shared/config/tables/pattern-table.js';

// [dialect, pattern, flags, key, expected match or null, expected $1]
const rows: [PatternDialect, string, string, string, boolean, string?][] = [
  [regexpDialect, '^[[:alpha:]]+$', '', 'Hello', true],
  [regexpDialect, '^[[:alpha:]]+$', '', 'he11o', false],
  [regexpDialect, '^[[:digit:][:space:]]+$', '', '1 2', true],
  [regexpDialect, '^[\\.]$', '', '\\', true], // backslash is literal inside POSIX brackets
  [regexpDialect, '^[]a]$', '', ']', true],
  [regexpDialect, '^[^]a]$', '', 'b', true],
  [regexpDialect, '^abc$', '', 'ABC', true], // case-insensitive by default
  [regexpDialect, '^abc$', 'i', 'ABC', false], // i toggles
  [regexpDialect, '^a.b$', '', 'a\nb', true], // . matches newline without REG_NEWLINE
  [regexpDialect, '^a.b$', 'm', 'a\nb', false],
  [regexpDialect, '^b$', 'm', 'a\nb', true],
  [regexpDialect, '\\d', '', 'd', true], // glibc: \d is the letter d
  [regexpDialect, '\\d', '', '5', false],
  [regexpDialect, '\\<foo\\>', '', 'a foo b', true],
  [regexpDialect, '^(.*)@example\\.com$', '', 'joe@example.com', true, 'joe'],
  [regexpDialect, '^a\\(b\\)c$', 'x', 'abc', true, 'b'], // BRE groups
  [regexpDialect, '^a+$', 'x', 'a+', true], // + is literal in BRE
  [regexpDialect, 'a{2}', '', 'aa', true],
  [regexpDialect, 'a\\/b', '', 'a/b', true],
  [pcreDialect, '^\\d+$', '', '123', true],
  [pcreDialect, '^abc$', '', 'ABC', true],
  [pcreDialect, '^abc$', 'i', 'ABC', false],
  [pcreDialect, '^a.b$', '', 'a\nb', true], // s (DOTALL) on by default
  [pcreDialect, '^a.b$', 's', 'a\nb', false],
  [pcreDialect, '^abc$', '', 'abc\n', true], // $ before final newline
  [pcreDialect, '^abc$', 'E', 'abc\n', false],
  [pcreDialect, 'b', 'A', 'abc', false], // anchored
  [pcreDialect, 'a', 'A', 'abc', true],
  [pcreDialect, '^ a b c $', 'x', 'abc', true], // extended: whitespace ignored
  [pcreDialect, '^a # comment\n b$', 'x', 'ab', true],
  [pcreDialect, '^\\Qa.b\\E$', '', 'a.b', true],
  [pcreDialect, '^\\Qa.b\\E$', '', 'axb', false],
  [pcreDialect, '^[[:upper:]]+$', 'i', 'ABC', true],
  [pcreDialect, '^(?P<u>[^@]+)@', '', 'joe@x', true, 'joe'],
  [pcreDialect, '^(a+)', 'U', 'aaa', true, 'a'], // ungreedy
  [pcreDialect, '\\Aabc\\z', '', 'abc', true],
  [pcreDialect, '(?i)^ABC$', 'i', 'abc', true], // leading (?i) wins over the flag
];

for (const [d, pat, flags, key, match, group] of rows) {
  test(`${d.label} /${pat}/${flags} on ${JSON.stringify(key)}`, () => {
    const m = d.compile(pat, flags).exec(key);
    assert.equal(m !== null, match);
    if (group !== undefined) assert.equal(m?.[1], group);
  });
}

test('unknown flag is reported in Postfix words', () => {
  assert.throws(() => regexpDialect.compile('a', 'z'), /unknown regexp option "z": skipping this rule/);
});

test('unbalanced group', () => {
  assert.throws(() => regexpDialect.compile('^bad(', ''), /Unmatched \( or \\\(/);
});
