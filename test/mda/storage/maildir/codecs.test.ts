/* Table tests for the pure maildir codecs: modified UTF-7, filenames and flags, line endings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMutf7, encodeMutf7, Mutf7Error } from '../../../../mda/storage/maildir/mutf7.js';
import {
  compareForUidOrder, decodeFlagLetters, encodeFlagLetters, escapeHostname, filenameSize, formatFilename,
  formatUniqueBase, parseFilename, withSizes, MaildirNameError,
} from '../../../../mda/storage/maildir/filename.js';
import { crlfToLf, lfToCrlf, virtualSize } from '../../../../mda/storage/maildir/eol.js';

test('modified UTF-7 round trips (RFC 3501 5.1.3 and Dovecot observations)', () => {
  const table: [string, string][] = [
    ['INBOX', 'INBOX'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['A&B', 'A&-B'],
    ['&', '&-'],
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['Отправленные', '&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-'],
    ['😀', '&2D3eAA-'],
    ['a b', 'a b'],
    ['é&é', '&AOk-&-&AOk-'],
  ];
  for (const [utf8, enc] of table) {
    assert.equal(encodeMutf7(utf8), enc, utf8);
    assert.equal(decodeMutf7(enc), utf8, enc);
  }
});

test('modified UTF-7 rejects malformed input', () => {
  for (const bad of ['&', '&AOk', '&AOl-', '&AGE-', '&2D0-', '&3gA-', '&AOk-&AOk-', 'ü', '&!!-', '&-\x01']) {
    assert.throws(() => decodeMutf7(bad), Mutf7Error, JSON.stringify(bad));
  }
});

test('filename parsing: Dovecot, Courier, procmail and odd names', () => {
  const table: [string, { base: string; letters: string; extra: string; size?: number; vsize?: number; hasInfo: boolean }][] = [
    ['1795801224.M80539P12012.mail,S=342,W=354:2,FS', { base: '1795801224.M80539P12012.mail,S=342,W=354', letters: 'FS', extra: '', size: 342, vsize: 354, hasInfo: true }],
    ['1795801244.M960615P12012.mail,S=343,W=355', { base: '1795801244.M960615P12012.mail,S=343,W=355', letters: '', extra: '', size: 343, vsize: 355, hasInfo: false }],
    ['1700000000.12345_0.otherhost', { base: '1700000000.12345_0.otherhost', letters: '', extra: '', hasInfo: false }],
    ['1700000002.12347_0.otherhost,S=22:2,Sa', { base: '1700000002.12347_0.otherhost,S=22', letters: 'Sa', extra: '', size: 22, hasInfo: true }],
    ['1700000004.1_0.otherhost:2,XS', { base: '1700000004.1_0.otherhost', letters: 'XS', extra: '', hasInfo: true }],
    ['1.2.h:2,S,custom=1', { base: '1.2.h', letters: 'S', extra: ',custom=1', hasInfo: true }],
    ['1.2.h:1,experimental', { base: '1.2.h', letters: '', extra: '', hasInfo: true }],
    ['1.2.h,S=12x:2,', { base: '1.2.h,S=12x', letters: '', extra: '', hasInfo: true }],
    ['1.2.h,W=9,S=7', { base: '1.2.h,W=9,S=7', letters: '', extra: '', size: 7, vsize: 9, hasInfo: false }],
  ];
  for (const [name, want] of table) {
    const p = parseFilename(name);
    assert.equal(p.base, want.base, name);
    assert.equal(p.letters, want.letters, name);
    assert.equal(p.extra, want.extra, name);
    assert.equal(p.hasInfo, want.hasInfo, name);
    assert.equal(p.size, want.size, `${name} S`);
    assert.equal(p.vsize, want.vsize, `${name} W`);
  }
  for (const bad of ['', 'a/b', 'x\0y']) assert.throws(() => parseFilename(bad), MaildirNameError);
  assert.equal(filenameSize('1.M2P3.h,S=100,W=104:2,S', 'W'), 104);
});

test('flag letters decode and encode in Dovecot order, unknown letters kept', () => {
  assert.deepEqual(decodeFlagLetters('FS'), { system: ['\\Flagged', '\\Seen'], keywords: [], other: '' });
  assert.deepEqual(decodeFlagLetters('Rab'), { system: ['\\Answered'], keywords: [0, 1], other: '' });
  assert.deepEqual(decodeFlagLetters('DFPRSTz'), { system: ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'], keywords: [25], other: 'P' });
  assert.deepEqual(decodeFlagLetters('XS'), { system: ['\\Seen'], keywords: [], other: 'X' });
  assert.equal(encodeFlagLetters(['\\Seen', '\\Draft'], []), 'DS');
  assert.equal(encodeFlagLetters(['\\Seen', '\\Answered', '\\Deleted', '\\Flagged', '\\Draft'], [1, 0], 'P'), 'DFPRSTab');
  assert.equal(encodeFlagLetters([], [2, 2]), 'c');
  assert.equal(encodeFlagLetters(['\\Seen'], [], 'X'), 'SX');
  assert.throws(() => encodeFlagLetters([], [26]), RangeError);
  assert.equal(formatFilename('1.M2P3.h,S=1,W=2', 'FS'), '1.M2P3.h,S=1,W=2:2,FS');
  assert.equal(formatFilename('1.2.h', 'S', ',x'), '1.2.h:2,S,x');
});

test('unique base names and hostname escaping', () => {
  assert.equal(formatUniqueBase(1795801224, 80539, 12012, 'mail'), '1795801224.M80539P12012.mail');
  assert.equal(escapeHostname('a/b:c'), 'a\\057b\\072c');
  assert.equal(withSizes('1.M2P3.h', 342, 354), '1.M2P3.h,S=342,W=354');
});

test('UID order of new files follows maildir_filename_sort_cmp', () => {
  const names = ['1700000001.M5P1.h', '1700000000.M900P1.h', '1700000001.M40P1.h', '1700000000.12345_0.x', '1700000001.M40P1.g:2,S'];
  const sorted = [...names].sort(compareForUidOrder);
  assert.deepEqual(sorted, ['1700000000.12345_0.x', '1700000000.M900P1.h', '1700000001.M5P1.h', '1700000001.M40P1.g:2,S', '1700000001.M40P1.h']);
});

test('line endings: CRLF to LF, virtual size, LF to CRLF', () => {
  const table: [string, string, number][] = [
    ['a\r\nb\r\n', 'a\nb\n', 6],
    ['a\nb\n', 'a\nb\n', 6],
    ['a\r\r\nb', 'a\r\nb', 4],
    ['bare\rcr\r\n', 'bare\rcr\n', 9],
    ['', '', 0],
  ];
  for (const [input, lf, vsize] of table) {
    const out = crlfToLf(Buffer.from(input, 'latin1'));
    assert.equal(out.toString('latin1'), lf, JSON.stringify(input));
    assert.equal(virtualSize(out), vsize, JSON.stringify(input));
    assert.equal(lfToCrlf(out).length, vsize, JSON.stringify(input));
  }
  assert.equal(lfToCrlf(Buffer.from('\nx'), true).toString(), '\nx');
  assert.equal(lfToCrlf(Buffer.from('\nx'), false).toString(), '\r\nx');
});
