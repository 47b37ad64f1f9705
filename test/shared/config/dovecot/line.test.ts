/* Table tests for the dovecot.conf line classifier: every lexical rule, one row each. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyLine, unescapeDovecot, type LineResult } from '../../../../shared/config/dovecot/line.js';

interface Row {
  readonly name: string;
  readonly lines: readonly string[];
  /** Result of the last line. */
  readonly want: LineResult;
  readonly warns?: number;
}

const ROWS: readonly Row[] = [
  { name: 'key = value', lines: ['mail_location = maildir:~/Maildir'], want: { type: 'keyvalue', key: 'mail_location', value: 'maildir:~/Maildir' } },
  { name: 'no blanks around =', lines: ['a=b'], want: { type: 'keyvalue', key: 'a', value: 'b' } },
  { name: 'tabs and leading blanks', lines: ['\t  a\t=\tb c\t'], want: { type: 'keyvalue', key: 'a', value: 'b c' } },
  { name: 'empty value', lines: ['a ='], want: { type: 'keyvalue', key: 'a', value: '' } },
  { name: 'blank line', lines: ['   '], want: { type: 'skip' } },
  { name: 'comment line', lines: ['  # hello'], want: { type: 'skip' } },
  { name: 'comment after value', lines: ['a = b # c'], want: { type: 'keyvalue', key: 'a', value: 'b' } },
  { name: 'glued # still a comment, warns', lines: ['a = b#c'], want: { type: 'keyvalue', key: 'a', value: 'b' }, warns: 1 },
  { name: '# inside double quotes', lines: ['a = "b # c"'], want: { type: 'keyvalue', key: 'a', value: 'b # c' } },
  { name: '# after a quoted value', lines: ["a = 'x y'#c"], want: { type: 'keyvalue', key: 'a', value: 'x y' }, warns: 1 },
  { name: 'double quotes unescaped', lines: ['a = "x\\"y\\\\z\\n"'], want: { type: 'keyvalue', key: 'a', value: 'x"y\\zn' } },
  { name: 'single quotes unescaped', lines: ["a = 'it\\'s'"], want: { type: 'keyvalue', key: 'a', value: "it's" } },
  { name: 'quotes keep blanks', lines: ['a = "  x  "'], want: { type: 'keyvalue', key: 'a', value: '  x  ' } },
  { name: 'unbalanced quote kept', lines: ['a = "abc'], want: { type: 'keyvalue', key: 'a', value: '"abc' } },
  { name: 'lone quote is empty', lines: ['a = "'], want: { type: 'keyvalue', key: 'a', value: '' } },
  { name: 'quote pair then text kept', lines: ['a = "x" y'], want: { type: 'keyvalue', key: 'a', value: '"x" y' } },
  { name: '<file', lines: ['ssl_cert = </etc/ssl/c.pem'], want: { type: 'keyfile', key: 'ssl_cert', value: '/etc/ssl/c.pem' } },
  { name: '< blank file', lines: ['ssl_cert = <  rel.pem'], want: { type: 'keyfile', key: 'ssl_cert', value: 'rel.pem' } },
  { name: '$variable', lines: ['mail_plugins = $mail_plugins quota'], want: { type: 'keyvariable', key: 'mail_plugins', value: '$mail_plugins quota' } },
  { name: 'quoted $ is plain', lines: ["a = '$b'"], want: { type: 'keyvalue', key: 'a', value: '$b' } },
  { name: 'continuation', lines: ['a = b \\', '   c'], want: { type: 'keyvalue', key: 'a', value: 'b c' } },
  { name: 'continuation three lines', lines: ['a = 1\\', '2 \\', '3'], want: { type: 'keyvalue', key: 'a', value: '1 2 3' } },
  { name: 'blank line drops continuation', lines: ['a = b \\', '', '  c'], want: { type: 'error', message: "Expecting '{'" } },
  { name: 'section', lines: ['service imap {'], want: { type: 'section-begin', key: 'service', value: 'imap' } },
  { name: 'section without name', lines: ['passdb {'], want: { type: 'section-begin', key: 'passdb', value: '' } },
  { name: 'quoted section name', lines: ['mailbox "Sent Messages" {'], want: { type: 'section-begin', key: 'mailbox', value: 'Sent Messages' } },
  { name: 'quoted section name unescaped', lines: ['mailbox "a\\\\b" {'], want: { type: 'section-begin', key: 'mailbox', value: 'a\\b' } },
  { name: "single quotes are not quotes in names", lines: ["mailbox 'ab' {"], want: { type: 'section-begin', key: 'mailbox', value: "'ab'" } },
  { name: "single-quoted name with blank", lines: ["mailbox 'a b' {"], want: { type: 'error', message: "Expecting '{'" } },
  { name: 'backslash does not protect a quote in names', lines: ['mailbox "a\\"b" {'], want: { type: 'error', message: "Expecting '{'" } },
  { name: 'section end', lines: ['  }  '], want: { type: 'section-end' } },
  { name: 'garbage after {', lines: ['x { mode = 0666 }'], want: { type: 'error', message: "Garbage after '{'" } },
  { name: 'bare word', lines: ['foo'], want: { type: 'error', message: "Expecting '{'" } },
  { name: 'two names', lines: ['service x y {'], want: { type: 'error', message: "Expecting '{'" } },
  { name: '= without key', lines: ['=foo'], want: { type: 'error', message: "Missing key name ('=' at the beginning of line)" } },
  { name: '!include', lines: ['!include conf.d/*.conf'], want: { type: 'include', value: 'conf.d/*.conf', ignoreMissing: false } },
  { name: '!include_try', lines: ['!include_try local.conf'], want: { type: 'include', value: 'local.conf', ignoreMissing: true } },
  { name: '%% and % kept verbatim', lines: ['a = %Lu %%u %{user}'], want: { type: 'keyvalue', key: 'a', value: '%Lu %%u %{user}' } },
];

for (const row of ROWS) {
  test(`line: ${row.name}`, () => {
    const state = { pending: '' };
    let warns = 0;
    let r: LineResult = { type: 'skip' };
    for (const l of row.lines) r = classifyLine(l, state, () => { warns++; });
    assert.deepEqual(r, row.want);
    assert.equal(warns, row.warns ?? 0);
  });
}

test('unescapeDovecot drops each backslash and keeps the next character', () => {
  assert.equal(unescapeDovecot('a\\nb\\\\c\\'), 'anb\\c\\');
});
