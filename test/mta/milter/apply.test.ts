import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyModifications, internalize, replacementBody, type ApplyMessage } from '../../../mta/milter/apply.js';
import type { MilterModification } from '../../../mta/milter/codec.js';

const h = (text: string) => ({ name: text.slice(0, text.indexOf(':')), raw: Buffer.from(text) });
const MSG: ApplyMessage = {
  sender: 'a@example.com',
  recipients: [{ address: 'b@example.org' }, { address: 'c-rewritten@example.org', original: 'c@example.org' }],
  headers: [
    h('Received: from client (ours)'),
    h('Received: from upstream'),
    h('From: a@example.com'),
    h('X-Tag: one'),
    h('Subject: hi\n  folded'),
    h('X-tag: two'),
  ],
  body: Buffer.from('body\r\n'),
};
const texts = (mods: MilterModification[], o = {}) => applyModifications(MSG, mods, o).headers.map((x) => x.raw.toString());
const v = (s: string) => Buffer.from(s);
const ORIGINAL = MSG.headers.map((x) => x.raw.toString());

// Expected header lists after one modification (cleanup_milter.c semantics).
const HEADER_CASES: Array<[string, MilterModification[], string[]]> = [
  ['ADDHEADER appends, with one space', [{ kind: 'addheader', name: 'X-New', value: v('1') }], [...ORIGINAL, 'X-New: 1']],
  ['two ADDHEADERs keep their order', [{ kind: 'addheader', name: 'X-1', value: v('a') }, { kind: 'addheader', name: 'X-2', value: v('b') }], [...ORIGINAL, 'X-1: a', 'X-2: b']],
  ['INSHEADER 0 goes above our Received:', [{ kind: 'insheader', index: 0, name: 'X-Top', value: v('t') }], ['X-Top: t', ...ORIGINAL]],
  ['INSHEADER 1 goes right after our Received:', [{ kind: 'insheader', index: 1, name: 'DKIM-Signature', value: v('s') }], [ORIGINAL[0]!, 'DKIM-Signature: s', ...ORIGINAL.slice(1)]],
  ['INSHEADER past the end appends', [{ kind: 'insheader', index: 99, name: 'X-End', value: v('e') }], [...ORIGINAL, 'X-End: e']],
  ['CHGHEADER Received 1 is the first one the milter saw', [{ kind: 'chgheader', index: 1, name: 'Received', value: v('changed') }], [ORIGINAL[0]!, 'Received: changed', ...ORIGINAL.slice(2)]],
  ['CHGHEADER index 0 is index 1', [{ kind: 'chgheader', index: 0, name: 'received', value: v('changed') }], [ORIGINAL[0]!, 'received: changed', ...ORIGINAL.slice(2)]],
  ['CHGHEADER counts same-name headers case-insensitively', [{ kind: 'chgheader', index: 2, name: 'X-TAG', value: v('2!') }], [...ORIGINAL.slice(0, 5), 'X-TAG: 2!']],
  ['CHGHEADER replaces a folded header whole', [{ kind: 'chgheader', index: 1, name: 'Subject', value: v('new\r\n\tline') }], [...ORIGINAL.slice(0, 4), 'Subject: new\n\tline', ORIGINAL[5]!]],
  ['CHGHEADER of a missing instance appends', [{ kind: 'chgheader', index: 3, name: 'X-Tag', value: v('three') }], [...ORIGINAL, 'X-Tag: three']],
  ['CHGHEADER with an empty value deletes', [{ kind: 'chgheader', index: 1, name: 'X-Tag', value: v('') }], [...ORIGINAL.slice(0, 3), ...ORIGINAL.slice(4)]],
  ['deleting a missing instance does nothing', [{ kind: 'chgheader', index: 5, name: 'X-Tag', value: v('') }], ORIGINAL],
  ['our own Received: cannot be deleted by index', [{ kind: 'chgheader', index: 2, name: 'Received', value: v('') }], ORIGINAL],
  [
    'after an insert above our Received:, it becomes an ordinary header',
    [{ kind: 'insheader', index: 0, name: 'X-Top', value: v('t') }, { kind: 'chgheader', index: 1, name: 'Received', value: v('') }],
    ['X-Top: t', ...ORIGINAL.slice(1)],
  ],
];

for (const [name, mods, want] of HEADER_CASES) {
  test(`headers: ${name}`, () => assert.deepEqual(texts(mods), want));
}

test('headers: HDR_LEADSPC means the value carries its own space', () => {
  assert.deepEqual(texts([{ kind: 'addheader', name: 'X-A', value: v(' spaced') }, { kind: 'addheader', name: 'X-B', value: v('tight') }], { leadingSpace: true }).slice(-2), ['X-A: spaced', 'X-B:tight']);
});

test('headers: hiddenHeaders 0 (nothing hidden) lets CHGHEADER reach the first header', () => {
  assert.deepEqual(texts([{ kind: 'chgheader', index: 1, name: 'Received', value: v('x') }], { hiddenHeaders: 0 })[0], 'Received: x');
});

test('body: REPLBODY chunks replace the body, CRLF/LF lines stored with CRLF', () => {
  const r = applyModifications(MSG, [{ kind: 'replbody', chunk: v('one\r\ntw') }, { kind: 'replbody', chunk: v('o\nthree') }]);
  assert.equal(r.bodyReplaced, true);
  assert.equal(r.body.toString(), 'one\r\ntwo\r\nthree\r\n');
  assert.equal(replacementBody(v('a\r\r\n')).toString(), 'a\r\r\n', 'one CR before LF is the line end; another CR stays');
  assert.equal(replacementBody(v('')).length, 0);
  assert.equal(applyModifications(MSG, []).body, MSG.body);
});

test('envelope: CHGFROM, ADDRCPT(_PAR), DELRCPT', () => {
  const r = applyModifications(MSG, [
    { kind: 'chgfrom', sender: '<new@example.com>', args: 'SIZE=1' },
    { kind: 'addrcpt', rcpt: '<d@example.net>' },
    { kind: 'addrcpt_par', rcpt: '<e@example.net>', args: 'NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;e+2Bx@example.net XFOO=1' },
    { kind: 'addrcpt_par', rcpt: '<>', args: '' },
    { kind: 'delrcpt', rcpt: '<c@example.org>' },
    { kind: 'delrcpt', rcpt: 'nobody@example.org' },
  ]);
  assert.equal(r.sender, 'new@example.com');
  assert.deepEqual(r.recipients, [
    { address: 'b@example.org' },
    { address: 'd@example.net', original: 'd@example.net', fromMilter: true },
    { address: 'e@example.net', original: 'e@example.net', fromMilter: true, orcpt: 'rfc822;e+x@example.net', notify: ['SUCCESS', 'FAILURE'] },
  ]);
  assert.deepEqual(r.warnings, [
    'cleanup_chg_from: ignoring ESMTP arguments "SIZE=1"',
    'ignoring ESMTP argument from MILTER: "XFOO=1"',
    'ignoring attempt from Milter to add null recipient',
  ]);
});

test('envelope: DELRCPT matches the original address, deleting every expansion of it', () => {
  const msg: ApplyMessage = { ...MSG, recipients: [{ address: 'x1@example.org', original: 'list@example.org' }, { address: 'x2@example.org', original: 'list@example.org' }, { address: 'list@example.org', original: 'other@example.org' }] };
  assert.deepEqual(applyModifications(msg, [{ kind: 'delrcpt', rcpt: '<list@example.org>' }]).recipients, [{ address: 'list@example.org', original: 'other@example.org' }]);
});

test('internalize: brackets, quoted local parts, source routes', () => {
  const cases: Array<[string, string]> = [
    ['<a@b>', 'a@b'],
    ['a@b', 'a@b'],
    [' <a@b> ', 'a@b'],
    ['<>', ''],
    ['<"john doe"@b>', 'john doe@b'],
    ['<"a\\"q"@b>', 'a"q@b'],
    ['<@relay1,@relay2:user@dom>', 'user@dom'],
    ['Name <n@x>', 'n@x'],
  ];
  for (const [ext, want] of cases) assert.equal(internalize(ext), want, ext);
});
