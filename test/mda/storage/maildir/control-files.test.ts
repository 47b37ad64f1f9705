/* Table tests for dovecot-uidlist, dovecot-keywords, subscriptions and uidvalidity codecs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  effectiveNextUid, formatUidlist, formatUidlistRecord, parseUidlist, UidlistSyntaxError,
} from '../../../../mda/storage/maildir/uidlist-format.js';
import {
  formatKeywords, formatSubscriptions, formatUidValidityHex, isValidKeyword, parseKeywords, parseSubscriptions,
  parseUidValidityFile, tabEscape, tabUnescape,
} from '../../../../mda/storage/maildir/control-files.js';

const OBSERVED = '3 V1795801190 N4 Gac68c91066c0096b1b22000083ecc375\n1 :1795801224.M80539P12012.mail,S=342,W=354\n'
  + '2 :1795801234.M521942P12012.mail,S=343,W=355\n3 :1795801244.M960615P12012.mail,S=343,W=355\n';

test('uidlist v3 as Dovecot writes it parses and formats byte for byte', () => {
  const d = parseUidlist(OBSERVED);
  assert.equal(d.version, 3);
  assert.equal(d.uidValidity, 1795801190);
  assert.equal(d.nextUid, 4);
  assert.equal(d.guid, 'ac68c91066c0096b1b22000083ecc375');
  assert.deepEqual(d.records.map((r) => [r.uid, r.basename]), [
    [1, '1795801224.M80539P12012.mail,S=342,W=354'], [2, '1795801234.M521942P12012.mail,S=343,W=355'], [3, '1795801244.M960615P12012.mail,S=343,W=355']]);
  assert.equal(formatUidlist(d, d.records), OBSERVED);
  assert.equal(d.partialTail, false);
});

test('uidlist: N not rewritten on append; next uid is max(N, last+1); never lowered on format', () => {
  const d = parseUidlist('3 V5 N1 G00000000000000000000000000000000\n1 :a\n2 :b\n3 :c\n');
  assert.equal(d.nextUid, 1);
  assert.equal(effectiveNextUid(d), 4);
  assert.match(formatUidlist(d, d.records), /^3 V5 N4 G0{32}\n/);
  const high = parseUidlist('3 V5 N90 G00000000000000000000000000000000\n1 :a\n');
  assert.match(formatUidlist(high, []), /^3 V5 N90 /);
});

test('uidlist: extension fields, version 1, partial tail', () => {
  const d = parseUidlist('3 V7 N3 Gabc P%08Xu%08Xv\n1 W120 S100 PUID1-7 :foo\n2 GXYZ :bar,S=1\n3 :baz');
  assert.equal(d.headerExt.get('P'), '%08Xu%08Xv');
  assert.equal(d.records[0]!.ext.get('W'), '120');
  assert.equal(d.records[0]!.ext.get('P'), 'UID1-7');
  assert.equal(d.records[1]!.basename, 'bar,S=1');
  assert.equal(d.records.length, 2);
  assert.equal(d.partialTail, true);
  assert.equal(formatUidlistRecord(d.records[0]!), '1 W120 S100 PUID1-7 :foo\n');
  const v1 = parseUidlist('1 1700000000 5\n1 1700000000.1_0.host:2,S\n4 1700000001.2_0.host\n');
  assert.equal(v1.version, 1);
  assert.deepEqual(v1.records.map((r) => [r.uid, r.basename]), [[1, '1700000000.1_0.host'], [4, '1700000001.2_0.host']]);
});

test('uidlist: what Dovecot calls corruption is refused', () => {
  const bad = [
    '2 V1 N1\n',
    '3 V1 N1 G0\n0 :a\n',
    '3 V1 N1 G0\n2 :a\n2 :b\n',
    '3 V1 N1 G0\n3 :a\n2 :b\n',
    '3 V1 N1 G0\n4294967295 :a\n',
    '3 V1 N1 G0\n1 :a/b\n',
    '3 V1 N1 G0\n1 x1 :a\n',
    '3 N1 G0\n',
    '3 V1 N1 G0\n1 a\n',
    '3 V1 N1 G0',
  ];
  for (const text of bad) assert.throws(() => parseUidlist(text), UidlistSyntaxError, JSON.stringify(text));
});

test('dovecot-keywords', () => {
  assert.deepEqual(parseKeywords('0 $Junk\n1 project\n'), ['$Junk', 'project']);
  const sparse = parseKeywords('2 c\n0 a\nbroken\n30 toohigh\n');
  assert.equal(sparse[0], 'a');
  assert.equal(sparse[1], undefined);
  assert.equal(sparse[2], 'c');
  assert.equal(formatKeywords(['$Junk', 'project']), '0 $Junk\n1 project\n');
  assert.equal(formatKeywords(sparse), '0 a\n2 c\n');
  for (const ok of ['$Junk', 'NonJunk', '$Label1', 'a.b']) assert.equal(isValidKeyword(ok), true, ok);
  for (const no of ['', 'a b', 'a(b', '\\Seen', 'x]', 'a"b', 'x{1}', 'a%', 'a*']) assert.equal(isValidKeyword(no), false, no);
});

test('subscriptions v2 with TAB separator, v1 plain, tab escaping', () => {
  const text = 'V\t2\n\nWork\tSub\nEntw&APw-rfe\nINBOX\n';
  assert.deepEqual(parseSubscriptions(text, '.'), [['Work', 'Sub'], ['Entw&APw-rfe'], ['INBOX']]);
  assert.equal(formatSubscriptions([['Work', 'Sub'], ['Entw&APw-rfe'], ['INBOX']]), text);
  assert.deepEqual(parseSubscriptions('INBOX\nWork.Sub\n', '.'), [['INBOX'], ['Work', 'Sub']]);
  assert.equal(tabEscape('a\tb\x01\n'), 'a\x01tb\x011\x01n');
  assert.equal(tabUnescape(tabEscape('a\tb\x01\r\n')), 'a\tb\x01\r\n');
});

test('dovecot-uidvalidity hex', () => {
  assert.equal(parseUidValidityFile('6b09c068'), 0x6b09c068);
  assert.equal(parseUidValidityFile('6b09c068\n'), 0x6b09c068);
  assert.equal(parseUidValidityFile('zz'), undefined);
  assert.equal(formatUidValidityHex(0x6b09c068), '6b09c068');
  assert.equal(formatUidValidityHex(5), '00000005');
});
