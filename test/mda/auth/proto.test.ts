/*
 * Codecs of the auth-client and auth-master protocols: table tests built from the observed
 * Dovecot 2.3.19 transcripts (reference/transcripts.md §6, §7) and from strescape rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tabEscape, tabUnescape, splitTabEscaped } from '../../../shared/proto/tab-escape.js';
import { parseClientLine, formatClientLine, formatServerLine, parseServerLine, type AuthClientLine, type AuthServerLine } from '../../../shared/proto/dovecot-auth-client.js';
import { parseMasterRequest, formatMasterReply, parseMasterReply, formatMasterRequest, type AuthMasterReply } from '../../../shared/proto/dovecot-auth-master.js';
import { DovecotAuthSyntaxError } from '../../../shared/proto/dovecot-auth-errors.js';

const T = '\t';

test('tab escaping round-trips and matches strescape', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['a\tb', 'a\x01tb'],
    ['line\r\nnext', 'line\x01r\x01nnext'],
    ['\x01', '\x011'],
    ['', ''],
  ];
  for (const [raw, esc] of cases) {
    assert.equal(tabEscape(raw), esc);
    assert.equal(tabUnescape(esc), raw);
  }
  assert.equal(tabUnescape('a\x01xb'), 'axb');
  assert.equal(tabUnescape('end\x01'), 'end');
  assert.deepEqual(splitTabEscaped(`USER${T}1${T}a\x01tb`), ['USER', '1', 'a\tb']);
});

const CLIENT: [string, AuthClientLine][] = [
  [`VERSION${T}1${T}2`, { kind: 'VERSION', major: 1, minor: 2 }],
  [`CPID${T}14220`, { kind: 'CPID', pid: '14220' }],
  [`AUTH${T}1${T}PLAIN${T}service=smtp${T}nologin${T}lip=127.0.0.1${T}rip=127.0.0.2${T}lport=25${T}rport=41000${T}secured${T}resp=AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==`, {
    kind: 'AUTH', id: 1, mech: 'PLAIN', params: {
      service: 'smtp', nologin: true, lip: '127.0.0.1', rip: '127.0.0.2', lport: '25', rport: '41000', secured: true,
      validClientCert: false, noPenalty: false, finalRespOk: false, debug: false, extra: [], resp: 'AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==',
    },
  }],
  [`AUTH${T}4${T}PLAIN${T}service=smtp`, {
    kind: 'AUTH', id: 4, mech: 'PLAIN', params: { service: 'smtp', nologin: false, secured: false, validClientCert: false, noPenalty: false, finalRespOk: false, debug: false, extra: [] },
  }],
  [`CONT${T}3${T}Ym9iQGV4YW1wbGUub3Jn`, { kind: 'CONT', id: 3, data: 'Ym9iQGV4YW1wbGUub3Jn' }],
  ['QUIT', { kind: 'UNKNOWN', command: 'QUIT' }],
];

test('auth-client: client lines parse (transcript §6)', () => {
  for (const [line, want] of CLIENT) assert.deepEqual(parseClientLine(line), want, line);
});

test('auth-client: AUTH params stop at resp=, keep unknown ones, empty resp', () => {
  const l = parseClientLine(`AUTH${T}7${T}LOGIN${T}service=imap${T}session=abc${T}client_id=x${T}resp=${T}ignored=1`);
  assert.equal(l.kind, 'AUTH');
  if (l.kind !== 'AUTH') return;
  assert.equal(l.params.resp, '');
  assert.equal(l.params.session, 'abc');
  assert.deepEqual(l.params.extra, [['client_id', 'x']]);
  assert.equal(parseClientLine(formatClientLine(l)).kind, 'AUTH');
});

const BROKEN = [`AUTH`, `AUTH${T}1`, `AUTH${T}x${T}PLAIN`, `AUTH${T}-1${T}PLAIN`, `AUTH${T}99999999999${T}PLAIN`, `CONT${T}1`, `CONT${T}a${T}b`, `VERSION${T}one${T}2`, `CPID`];

test('auth-client: broken lines throw the typed syntax error', () => {
  for (const line of BROKEN) assert.throws(() => parseClientLine(line), DovecotAuthSyntaxError, line);
});

const SERVER: [AuthServerLine, string][] = [
  [{ kind: 'VERSION', major: 1, minor: 2 }, `VERSION${T}1${T}2`],
  [{ kind: 'MECH', name: 'PLAIN', flags: ['plaintext'] }, `MECH${T}PLAIN${T}plaintext`],
  [{ kind: 'MECH', name: 'CRAM-MD5', flags: ['dictionary', 'active'] }, `MECH${T}CRAM-MD5${T}dictionary${T}active`],
  [{ kind: 'SPID', pid: '8635' }, `SPID${T}8635`],
  [{ kind: 'CUID', cuid: '7' }, `CUID${T}7`],
  [{ kind: 'COOKIE', cookie: '00b40cc5bd4b4b279f4b8fd2c48da268' }, `COOKIE${T}00b40cc5bd4b4b279f4b8fd2c48da268`],
  [{ kind: 'DONE' }, 'DONE'],
  [{ kind: 'OK', id: 1, fields: [['user', 'alice@example.org']] }, `OK${T}1${T}user=alice@example.org`],
  [{ kind: 'FAIL', id: 2, fields: [['user', 'alice@example.org']] }, `FAIL${T}2${T}user=alice@example.org`],
  [{ kind: 'CONT', id: 3, data: 'VXNlcm5hbWU6' }, `CONT${T}3${T}VXNlcm5hbWU6`],
  [{ kind: 'CONT', id: 4, data: '' }, `CONT${T}4${T}`],
  [{ kind: 'FAIL', id: 3, fields: [['reason', 'Unexpected continuation']] }, `FAIL${T}3${T}reason=Unexpected continuation`],
  [{ kind: 'FAIL', id: 5, fields: [['code', 'temp_fail'], ['temp', undefined]] }, `FAIL${T}5${T}code=temp_fail${T}temp`],
  [{ kind: 'FAIL', id: 6, fields: [['reason', 'a\tb']] }, `FAIL${T}6${T}reason=a\x01tb`],
];

test('auth-client: server lines format exactly and parse back', () => {
  for (const [l, wire] of SERVER) {
    assert.equal(formatServerLine(l), wire);
    assert.deepEqual(parseServerLine(wire), l, wire);
  }
  // Observed: OK with a trailing TAB after user=.
  assert.deepEqual(parseServerLine(`OK${T}3${T}user=bob@example.org${T}`), { kind: 'OK', id: 3, fields: [['user', 'bob@example.org']] });
});

test('auth-master: requests parse (transcript §7)', () => {
  assert.deepEqual(parseMasterRequest(`VERSION${T}1${T}0`), { kind: 'VERSION', major: 1, minor: 0 });
  assert.deepEqual(parseMasterRequest(`USER${T}1${T}alice@example.org${T}service=lmtp`), { kind: 'USER', id: 1, user: 'alice@example.org', params: [['service', 'lmtp']] });
  assert.deepEqual(parseMasterRequest(`PASS${T}4${T}alice@example.org${T}service=doveadm`), { kind: 'PASS', id: 4, user: 'alice@example.org', params: [['service', 'doveadm']] });
  assert.deepEqual(parseMasterRequest(`LIST${T}5${T}user=*`), { kind: 'LIST', id: 5, params: [['user', '*']] });
  assert.equal(parseMasterRequest('CACHE-FLUSH').kind, 'UNKNOWN');
  for (const bad of [`USER${T}1`, `USER${T}x${T}u`, `LIST`, `REQUEST${T}1${T}2`]) assert.throws(() => parseMasterRequest(bad), DovecotAuthSyntaxError, bad);
  const r = parseMasterRequest(`USER${T}9${T}a${T}service=imap`);
  assert.equal(formatMasterRequest(r), `USER${T}9${T}a${T}service=imap`);
});

const MASTER_REPLIES: [AuthMasterReply, string][] = [
  [{ kind: 'VERSION', major: 1, minor: 1 }, `VERSION${T}1${T}1`],
  [{ kind: 'SPID', pid: '8635' }, `SPID${T}8635`],
  [{ kind: 'USER', id: 2, user: 'bob@example.org', fields: [['uid', '8'], ['gid', '8'], ['home', '/srv/mail/bob'], ['quota_rule', '*:storage=1M']] },
    `USER${T}2${T}bob@example.org${T}uid=8${T}gid=8${T}home=/srv/mail/bob${T}quota_rule=*:storage=1M`],
  [{ kind: 'NOTFOUND', id: 3 }, `NOTFOUND${T}3`],
  [{ kind: 'PASS', id: 4, fields: [['user', 'alice@example.org']] }, `PASS${T}4${T}user=alice@example.org`],
  [{ kind: 'LIST', id: 5, user: 'alice@example.org' }, `LIST${T}5${T}alice@example.org`],
  [{ kind: 'DONE', id: 5, failed: false }, `DONE${T}5${T}`],
  [{ kind: 'DONE', id: 6, failed: true }, `DONE${T}6${T}fail`],
  [{ kind: 'FAIL', id: 7, fields: [['reason', 'x']] }, `FAIL${T}7${T}reason=x`],
];

test('auth-master: replies format exactly (transcript §7) and parse back', () => {
  for (const [r, wire] of MASTER_REPLIES) {
    assert.equal(formatMasterReply(r), wire);
    assert.deepEqual(parseMasterReply(wire), r, wire);
  }
});
