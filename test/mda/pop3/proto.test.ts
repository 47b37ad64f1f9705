/* Pure POP3 pieces: argument parsing, the RETR/TOP encoder, UIDL formatting, the bounded line reader, settings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLineCount, parseMsgnum } from '../../../mda/pop3/proto/numbers.js';
import { encodeMessageForPop3 } from '../../../mda/pop3/proto/fetch-encode.js';
import { checkUidlFormat, formatUidl } from '../../../mda/pop3/proto/uidl.js';
import { LineSplitter } from '../../../mda/pop3/line-splitter.js';
import { pop3SettingsFromText, POP3_SETTING_DEFAULTS } from '../../../mda/pop3/settings.js';
import { decodeBase64 } from '../../../mda/pop3/login.js';

test('message numbers: Dovecot 2.3.19 replies (observed)', () => {
  const table: [string, boolean, string | [bigint, string]][] = [
    ['2', false, [2n, '']],
    ['01', false, [1n, '']],
    ['x', false, '-ERR Invalid message number: x'],
    ['', false, '-ERR Invalid message number: '],
    ['+1', false, '-ERR Invalid message number: +1'],
    ['1 2', false, '-ERR Noise after message number:  2'],
    ['1x', false, '-ERR Noise after message number: x'],
    ['1 ', false, '-ERR Noise after message number:  '],
    ['4294967295', false, [4294967295n, '']],
    ['4294967296', false, '-ERR Message number too large: 4294967296'],
    ['99999999999999999999999', false, '-ERR Message number too large: 99999999999999999999999'],
    ['1', true, '-ERR Noise after message number: '],
    ['1 0', true, [1n, '0']],
    ['1  0', true, [1n, '0']],
  ];
  for (const [input, thenSpace, want] of table) {
    const r = parseMsgnum(input, thenSpace);
    if (typeof want === 'string') assert.deepEqual(r, { ok: false, reply: want }, input);
    else assert.deepEqual(r, { ok: true, value: want[0], rest: want[1] }, input);
  }
});

test('TOP line counts', () => {
  assert.deepEqual(parseLineCount('0'), { ok: true, value: 0n, rest: '' });
  assert.deepEqual(parseLineCount('18446744073709551615'), { ok: true, value: 18446744073709551615n, rest: '' });
  assert.deepEqual(parseLineCount('18446744073709551616'), { ok: false, reply: '-ERR Size too large: 18446744073709551616' });
  assert.deepEqual(parseLineCount('x'), { ok: false, reply: '-ERR Invalid size: x' });
  assert.deepEqual(parseLineCount('-1'), { ok: false, reply: '-ERR Invalid size: -1' });
  assert.deepEqual(parseLineCount('0 x'), { ok: false, reply: '-ERR Noise after size:  x' });
});

test('RETR/TOP encoding: CRLF, dot-stuffing, final line end, TOP n', () => {
  const enc = (s: string, n?: number) => encodeMessageForPop3(Buffer.from(s, 'latin1'), n === undefined ? undefined : BigInt(n)).toString('latin1');
  const table: [string, number | undefined, string][] = [
    ['A: 1\n\nbody\n', undefined, 'A: 1\r\n\r\nbody\r\n'],
    ['A: 1\r\n\r\nbody\r\n', undefined, 'A: 1\r\n\r\nbody\r\n'],
    ['A: 1\n\n.\n', undefined, 'A: 1\r\n\r\n..\r\n'],
    ['A: 1\n\nx\n.', undefined, 'A: 1\r\n\r\nx\r\n..\r\n'],
    ['A: 1\n\n..a\n...\n', undefined, 'A: 1\r\n\r\n...a\r\n....\r\n'],
    ['.A: 1\n\nb', undefined, '.A: 1\r\n\r\nb\r\n'],
    ['', undefined, '\r\n'],
    ['A: 1\n\nbare\rcr\n', undefined, 'A: 1\r\n\r\nbare\rcr\r\n'],
    ['A: 1\r\r\n', undefined, 'A: 1\r\r\n'],
    ['A: 1\nB: 2\n\nl1\nl2\nl3\n', 0, 'A: 1\r\nB: 2\r\n\r\n'],
    ['A: 1\nB: 2\n\nl1\nl2\nl3\n', 2, 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n'],
    ['A: 1\nB: 2\n\nl1\nl2\nl3\n', 100, 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n'],
    ['A: 1\nB: 2\n', 0, 'A: 1\r\nB: 2\r\n'],
    ['A: 1\nB: 2', 0, 'A: 1\r\nB: 2\r\n'],
    ['\nbody\n', 0, '\r\n'],
    ['A: 1\n\n.\nx\n', 1, 'A: 1\r\n\r\n..\r\n'],
  ];
  for (const [input, n, want] of table) assert.equal(enc(input, n), want, JSON.stringify([input, n]));
});

test('UIDL: default format, P field wins, %g/%f, invalid formats', () => {
  const m = { uid: 1, guid: '1700000000.M1P2.host', pop3Uidl: undefined };
  assert.equal(formatUidl('%08Xu%08Xv', m, 0x6b09c066), '000000016b09c066');
  assert.equal(formatUidl('%08Xu%08Xv', { ...m, uid: 0x1f }, 1795808378), '0000001f6b09dc7a');
  assert.equal(formatUidl('%08Xu%08Xv', { ...m, pop3Uidl: 'UID123-courier' }, 1), 'UID123-courier');
  assert.equal(formatUidl('%g', m, 1), '1700000000.M1P2.host');
  assert.equal(formatUidl('%{uidvalidity}-%{uid}', m, 7), '7-1');
  assert.equal(formatUidl('%v.%u', m, 7), '7.1');
  assert.throws(() => checkUidlFormat('static'), /Invalid pop3_uidl_format/);
  assert.throws(() => checkUidlFormat('%m'), /not supported/);
  checkUidlFormat(POP3_SETTING_DEFAULTS.pop3_uidl_format);
});

test('line splitter: CRLF/LF, bound with line end included, unfinished overflow, NUL kept', () => {
  const sp = new LineSplitter();
  sp.push(Buffer.from('USER a\r\nPASS b\nNO'));
  assert.deepEqual(sp.next(100), { kind: 'line', line: Buffer.from('USER a') });
  assert.deepEqual(sp.next(100), { kind: 'line', line: Buffer.from('PASS b') });
  assert.deepEqual(sp.next(100), { kind: 'none' });
  sp.push(Buffer.from('OP\r\n'));
  assert.deepEqual(sp.next(100), { kind: 'line', line: Buffer.from('NOOP') });
  const exact = new LineSplitter();
  exact.push(Buffer.from(`${'a'.repeat(8)}\r\n`));
  assert.equal(exact.next(10).kind, 'line');
  const over = new LineSplitter();
  over.push(Buffer.from(`${'a'.repeat(9)}\r\n`));
  assert.equal(over.next(10).kind, 'overflow');
  const unfinished = new LineSplitter();
  unfinished.push(Buffer.from('a'.repeat(10)));
  assert.equal(unfinished.next(10).kind, 'overflow');
  const nul = new LineSplitter();
  nul.push(Buffer.from('US\0ER\n'));
  assert.deepEqual(nul.next(10), { kind: 'line', line: Buffer.from('US\0ER') });
});

test('strict base64 for SASL', () => {
  assert.deepEqual(decodeBase64('AHUxAHNlY3JldA=='), Buffer.from('\0u1\0secret'));
  assert.deepEqual(decodeBase64('AHUxAHNlY3JldA'), Buffer.from('\0u1\0secret'));
  assert.deepEqual(decodeBase64(''), Buffer.alloc(0));
  assert.equal(decodeBase64('!!!'), undefined);
  assert.equal(decodeBase64('AHUx AHNl'), undefined);
  assert.equal(decodeBase64('A'), undefined);
});

test('settings: defaults as config text, typed values, bad values named', () => {
  const s = pop3SettingsFromText();
  assert.equal(s.pop3_uidl_format, '%08Xu%08Xv');
  assert.equal(s.postern_pop3_max_line_length, 2048);
  assert.equal(s.postern_pop3_login_idle_timeout, 180_000);
  assert.equal(s.pop3_lock_session, false);
  assert.throws(() => pop3SettingsFromText({ pop3_lock_session: 'maybe' }), /pop3_lock_session/);
  assert.throws(() => pop3SettingsFromText({ pop3_delete_type: 'shred' }), /pop3_delete_type/);
});
