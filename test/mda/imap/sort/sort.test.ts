/*
 * Table tests for the pure SORT pieces: i;unicode-casemap (cases checked against Dovecot 2.3.19's
 * SEARCH and SORT), base subject extraction (RFC 5256 §2.1 in Dovecot's variant), the Date: parser,
 * the sort-criteria parser and the ordering rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseSubjectOfDecoded } from '../../../../mda/imap/sort/base-subject.js';
import { casemap } from '../../../../mda/imap/sort/casemap.js';
import { parseSentDate } from '../../../../mda/imap/sort/sent-date.js';
import { parseSortProgram } from '../../../../mda/imap/sort/sort-program.js';
import { sortItems } from '../../../../mda/imap/sort/sort.js';
import { atom, list, quoted } from '../../../../mda/imap/proto/values.js';
import { ImapSyntaxError } from '../../../../mda/imap/proto/errors.js';

test('casemap: titlecase then one level of decomposition (as Dovecot)', () => {
  const cases: [string, string][] = [
    ['abc', 'ABC'],
    ['Café', 'CAFE\u0301'],
    ['ǖber', '\u00dc\u0304BER'],
    ['über', 'U\u0308BER'],
    ['ﬁne', 'fiNE'],
    ['Ⅻ', 'XII'],
    ['ǆemal', '\u01c5EMAL'],
    ['Straße', 'STRAßE'],
    ['\u212b', '\u00c5'],
    ['한', '\u1112\u1161\u11ab'],
    ['ı', 'I'],
  ];
  for (const [input, want] of cases) assert.equal(casemap(input), want, input);
  // Dovecot: SEARCH SUBJECT "cafe" finds "Café" (substring), "uber" does not find "ǖber".
  assert.ok(casemap('Café').includes(casemap('cafe')));
  assert.ok(!casemap('ǖber').includes(casemap('uber')));
});

test('base subject (RFC 5256 §2.1, Dovecot variant)', () => {
  const cases: [string, string, boolean][] = [
    ['Hello', 'HELLO', false],
    ['Re: Hello', 'HELLO', true],
    ['RE: re: Fwd:  hello', 'HELLO', true],
    ['[list] Re: hello', 'HELLO', true],
    ['Re: [list] hello', 'HELLO', true],
    ['Re [x]: hello', 'HELLO', true],
    ['hello (fwd)', 'HELLO', true],
    ['hello (fwd) (FWD)  ', 'HELLO', true],
    ['[Fwd: hello]', 'HELLO', true],
    ['[Fwd: Re: hello (fwd)]', 'HELLO', true],
    ['[only blob]', '[ONLY BLOB]', false],
    ['AW: Re: x', 'AW: RE: X', false],
    ['Fw: x', 'X', true],
    ['  spaced\t\tout  ', 'SPACED OUT', false],
    ['', '', false],
  ];
  for (const [input, base, rf] of cases) {
    const r = baseSubjectOfDecoded(input);
    assert.deepEqual([r.base, r.replyOrForward], [base, rf], input);
  }
});

test('Date: header as Dovecot parses it (seconds, or undefined)', () => {
  const cases: [string, number | undefined][] = [
    ['Mon, 05 Feb 2024 12:42:32 +0000', Date.UTC(2024, 1, 5, 12, 42, 32) / 1000],
    ['5 Feb 2024 12:42 +0100', Date.UTC(2024, 1, 5, 11, 42) / 1000],
    ['4 Mar 24 09:05 GMT (Greenwich)', Date.UTC(2024, 2, 4, 9, 5) / 1000],
    ['4 Mar 99 09:05 EST', Date.UTC(1999, 2, 4, 14, 5) / 1000],
    ['4 Mar 2024 09.05.07', Date.UTC(2024, 2, 4, 9, 5, 7) / 1000],
    ['2024-03-04T09:05:00Z', undefined],
    ['next Tuesday, after lunch', undefined],
    ['Mon, 30 Feb 2024 25:61:60 +2500', undefined],
    ['Wed, 31 Dec 1969 23:59:59 +0000', undefined],
    ['Sun, 7 Feb 2106 06:28:16 +0000', undefined],
    ['Mon, 05 Feb 1899 12:42:32 +0000', undefined],
  ];
  for (const [input, want] of cases) assert.equal(parseSentDate(input), want, input);
});

test('sort criteria parser (Dovecot texts)', () => {
  assert.deepEqual(parseSortProgram([atom('reverse'), atom('date'), atom('SUBJECT')]), [{ key: 'DATE', reverse: true }, { key: 'SUBJECT', reverse: false }]);
  assert.deepEqual(parseSortProgram([atom('REVERSE'), atom('REVERSE'), quoted('to')]), [{ key: 'TO', reverse: false }]);
  assert.deepEqual(parseSortProgram([atom('SIZE'), atom('REVERSE'), atom('SIZE')]), [{ key: 'SIZE', reverse: false }]);
  const bad: [Parameters<typeof parseSortProgram>[0], string][] = [
    [[], 'Empty sort program.'],
    [[atom('NOSUCH')], 'Unknown sort argument: NOSUCH'],
    [[atom('DATE'), atom('REVERSE')], 'Sort list ends with REVERSE.'],
    [[atom('DATE'), list(atom('X'))], 'Invalid sort list argument.'],
  ];
  for (const [items, text] of bad) assert.throws(() => parseSortProgram(items), (e: unknown) => e instanceof ImapSyntaxError && e.message === text);
});

test('ordering: keys in turn, REVERSE per key, ties by sequence ascending', () => {
  const items = [
    { seq: 1, values: ['B', 5] },
    { seq: 2, values: ['A', 5] },
    { seq: 3, values: ['B', 7] },
    { seq: 4, values: ['A', 5] },
  ];
  const order = (p: Parameters<typeof sortItems>[0]) => sortItems(p, items).map((i) => i.seq);
  assert.deepEqual(order([{ key: 'SUBJECT', reverse: false }, { key: 'SIZE', reverse: false }]), [2, 4, 1, 3]);
  assert.deepEqual(order([{ key: 'SUBJECT', reverse: true }, { key: 'SIZE', reverse: true }]), [3, 1, 2, 4]);
  assert.deepEqual(order([{ key: 'SUBJECT', reverse: true }]), [1, 3, 2, 4]);
  // Code point order, not locale order: "Éa" (after casemap E + U+0301 + A) sorts after "EZ".
  assert.deepEqual(sortItems([{ key: 'SUBJECT', reverse: false }], [{ seq: 1, values: [casemap('Éa')] }, { seq: 2, values: ['EZ'] }]).map((i) => i.seq), [2, 1]);
});
