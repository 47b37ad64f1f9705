/* Tables for sequence sets, dates, FETCH attributes, sections, SEARCH keys and the formatter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandSequenceSet, parseSequenceSet, STAR } from '../../../../mda/imap/proto/sequence-set.js';
import { formatImapDateTime, parseImapDate, parseImapDateTime } from '../../../../mda/imap/proto/dates.js';
import { parseFetchAttributes } from '../../../../mda/imap/proto/fetch-attributes.js';
import { parseSearchProgram } from '../../../../mda/imap/proto/search-keys.js';
import { formatSection } from '../../../../mda/imap/proto/section.js';
import { ImapCommandParser } from '../../../../mda/imap/proto/command-parser.js';
import {
  continuationResponse,
  formatAstring,
  formatNstring,
  formatStringForHumans,
  taggedResponse,
  untaggedResponse,
  withTiming,
} from '../../../../mda/imap/proto/formatter.js';
import type { ImapArg } from '../../../../mda/imap/proto/values.js';

function argsOf(line: string): readonly ImapArg[] {
  const p = new ImapCommandParser();
  p.push(`t X ${line}\r\n`);
  const r = p.next();
  assert.ok(r.kind === 'command', JSON.stringify(r));
  return r.command.args;
}

test('sequence sets', () => {
  assert.deepEqual(parseSequenceSet('1:3,7,*'), { type: 'ranges', ranges: [{ start: 1, end: 3 }, { start: 7, end: 7 }, { start: STAR, end: STAR }] });
  assert.deepEqual(parseSequenceSet('$'), { type: 'saved' });
  assert.deepEqual(expandSequenceSet(parseSequenceSet('5:3,*,9'), 6), [3, 4, 5, 6]);
  for (const bad of ['0', '1:0', 'x', '1,$', '', '1,,2', '99999999999']) {
    assert.throws(() => parseSequenceSet(bad), { message: 'Invalid messageset' }, bad);
  }
});

test('dates and date-times', () => {
  assert.deepEqual(parseImapDate('1-Feb-1994'), { year: 1994, month: 2, day: 1 });
  assert.equal(parseImapDate('1-Foo-1994'), undefined);
  const dt = parseImapDateTime('17-Jul-1996 02:44:25 -0700');
  assert.equal(dt?.time, Date.UTC(1996, 6, 17, 9, 44, 25));
  assert.equal(formatImapDateTime(dt!.time, -420), '17-Jul-1996 02:44:25 -0700');
  assert.equal(parseImapDateTime(' 7-Jul-1996 02:44:25 +0000')?.day, 7);
});

test('FETCH attributes: macros, sections, partials, BINARY', () => {
  assert.deepEqual(parseFetchAttributes(argsOf('FAST')[0]).map((a) => (a.type === 'simple' ? a.name : a.type)), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  const atts = parseFetchAttributes(argsOf('(UID BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> BODY[] BINARY[1]<5.5> BINARY.SIZE[2] BODY[TEXT]<10>)')[0]);
  assert.deepEqual(atts[0], { type: 'simple', name: 'UID' });
  const b = atts[1]!;
  assert.ok(b.type === 'body');
  assert.equal(b.peek, true);
  assert.deepEqual(b.section, { part: [1, 2], kind: 'HEADER.FIELDS', fields: ['From', 'To'] });
  assert.deepEqual(b.partial, { offset: 0, length: 100 });
  assert.equal(formatSection(b.section), '1.2.HEADER.FIELDS (FROM TO)');
  assert.deepEqual(atts[2], { type: 'body', peek: false, section: { part: [], kind: '', fields: undefined }, partial: undefined });
  assert.deepEqual(atts[3], { type: 'binary', peek: false, part: [1], partial: { offset: 5, length: 5 } });
  assert.deepEqual(atts[4], { type: 'binary.size', part: [2] });
  assert.deepEqual(atts[5]!.type === 'body' && atts[5]!.partial, { offset: 10, length: undefined });
});

test('FETCH attribute errors carry Dovecot texts', () => {
  const cases: [string, string][] = [
    ['(BODYX)', 'Unknown parameter: BODYX'],
    ['BODY[1.HEADER.FIELDS]', 'Invalid BODY[..] section'],
    ['BODY[HEADER.FIELDS ()]', 'Invalid BODY[..] section'],
    ['BODY[MIME]', 'Invalid BODY[..] section'],
    ['"FLAGS"', 'Invalid arguments.'],
  ];
  for (const [line, text] of cases) {
    const a = argsOf(line);
    assert.throws(() => parseFetchAttributes(a.length === 1 ? a[0] : { type: 'list', items: a }), { message: text }, line);
  }
});

test('SEARCH keys as a typed tree', () => {
  const p = parseSearchProgram(argsOf('CHARSET UTF-8 OR (FROM "a b" UNSEEN) NOT 1:5 SINCE 1-Feb-2024 UID $ LARGER 100 MODSEQ 7'));
  assert.equal(p.charset, 'UTF-8');
  assert.ok(p.key.op === 'and');
  const [or, uid, larger, modseq] = p.key.keys;
  assert.deepEqual(or, {
    op: 'or',
    a: { op: 'and', keys: [{ op: 'header', field: 'From', value: 'a b' }, { op: 'flag', flag: '\\Seen', set: false }] },
    b: { op: 'not', key: { op: 'seqset', set: { type: 'ranges', ranges: [{ start: 1, end: 5 }] } } },
  });
  assert.deepEqual(p.key.keys.length, 5);
  void uid;
  void larger;
  void modseq;
  assert.deepEqual(p.key.keys[1], { op: 'date', field: 'internal', cmp: 'since', date: Date.UTC(2024, 1, 1) });
  assert.deepEqual(p.key.keys[2], { op: 'uid', set: { type: 'saved' } });
  assert.deepEqual(p.key.keys[4], { op: 'modseq', modseq: 7n, entry: undefined });
  assert.throws(() => parseSearchProgram(argsOf('FOO')), { message: 'Unknown argument FOO' });
  assert.throws(() => parseSearchProgram(argsOf('OR 1')), { message: 'Missing argument' });
});

test('formatter: Dovecot quoting choices', () => {
  assert.equal(formatNstring(null), 'NIL');
  assert.equal(formatNstring('plain'), '"plain"');
  assert.equal(formatNstring('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(formatNstring('""""\\'), '{5}\r\n""""\\');
  assert.equal(formatNstring('line\r\nbreak'), '{11}\r\nline\r\nbreak');
  assert.equal(formatNstring('caf\xc3\xa9'), '{5}\r\ncaf\xc3\xa9');
  assert.equal(formatAstring('INBOX'), 'INBOX');
  assert.equal(formatAstring('NIL'), '"NIL"');
  assert.equal(formatAstring(''), '""');
  assert.equal(formatAstring('a b'), '"a b"');
  assert.equal(formatStringForHumans('  Hello\r\n\tworld  '), '{11}\r\nHello world');
  assert.equal(formatStringForHumans('simple'), '"simple"');
  assert.equal(formatStringForHumans('   '), '""');
  assert.equal(formatStringForHumans('a\0b'), '{3}\r\na\x80b');
});

test('formatter: responses', () => {
  assert.equal(taggedResponse('a1', 'OK', 'Append completed.', { name: 'APPENDUID', args: '1 2' }), 'a1 OK [APPENDUID 1 2] Append completed.\r\n');
  assert.equal(untaggedResponse('OK', 'Flags permitted.', { name: 'PERMANENTFLAGS', args: '(\\Seen \\*)' }), '* OK [PERMANENTFLAGS (\\Seen \\*)] Flags permitted.\r\n');
  assert.equal(untaggedResponse(undefined, '3 EXISTS'), '* 3 EXISTS\r\n');
  assert.equal(continuationResponse('OK'), '+ OK\r\n');
  assert.equal(withTiming('Fetch completed.', '0.001 + 0.000 secs'), 'Fetch completed (0.001 + 0.000 secs).');
  assert.equal(withTiming('Error in IMAP command FETCH: Invalid messageset', '0.001 + 0.000 secs'), 'Error in IMAP command FETCH: Invalid messageset (0.001 + 0.000 secs).');
});
