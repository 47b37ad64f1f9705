import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SMFIC, SMFIP, type MilterCommand, type MilterReply } from '../../../mta/milter/codec.js';
import { DEFAULT_MILTER_SETTINGS, MilterSession, checkReplyCode, type MilterSettings } from '../../../mta/milter/client.js';
import { macroLookup } from '../../../mta/milter/macros.js';
import { continueAll, startFakeMilter, type FakeMilterOptions } from './fake-milter.js';
import { tempDir } from '../../helpers/tmp.js';
import type { TestContext } from 'node:test';

const LOOKUP = macroLookup({ j: 'mx.example', daemonName: 'mx.example', daemonAddr: '127.0.0.1', v: 'Postfix 3.7.11', clientName: 'localhost', clientPtr: 'localhost', clientAddr: '127.0.0.1', queueId: 'ABC123' });
const CLIENT = { hostname: 'localhost', address: '127.0.0.1', port: 4242, family: 'inet' as const };

function settings(o: Partial<MilterSettings> = {}): MilterSettings {
  return { ...DEFAULT_MILTER_SETTINGS, commandTimeout: 2, contentTimeout: 2, connectTimeout: 2, ...o };
}

async function session(t: TestContext, fake: FakeMilterOptions, s: Partial<MilterSettings> = {}) {
  const fm = await startFakeMilter(t, fake);
  const warnings: string[] = [];
  const m = new MilterSession(fm.spec, settings(s), LOOKUP, { warn: (w) => warnings.push(w) });
  return { fm, m, warnings };
}

/** Script: answer `kind` to the given command, continue to the rest. */
const on = (kind: MilterCommand['kind'], replies: MilterReply[]) => (c: MilterCommand) => (c.kind === kind ? replies : continueAll(c));

const HEADERS = [
  { name: 'From', raw: Buffer.from('From: a@example.com') },
  { name: 'Subject', raw: Buffer.from('Subject:  two spaces\n\tfolded') },
];
const BODY = Buffer.from('line 1\r\n\r\nline 3\r\n');

test('a full session: the packet sequence, macros, header value with one leading space eaten', async (t) => {
  const { fm, m } = await session(t, {});
  assert.deepEqual(await m.connect(CLIENT), { action: 'continue' });
  assert.deepEqual(await m.helo('client.example'), { action: 'continue' });
  assert.deepEqual(await m.envfrom(['<a@example.com>', 'SIZE=10']), { action: 'continue' });
  assert.deepEqual(await m.envrcpt(['<b@example.org>']), { action: 'continue' });
  assert.deepEqual(await m.data(), { action: 'continue' });
  assert.deepEqual(await m.message(HEADERS, BODY), { result: { action: 'continue' }, modifications: [] });
  await m.abort();
  await m.quit();
  await fm.closed(1);
  const seq = fm.connections[0]!;
  assert.deepEqual(seq[0], { kind: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff });
  assert.deepEqual(seq[1], { kind: 'macro', forCode: SMFIC.CONNECT, macros: [['j', 'mx.example'], ['{daemon_name}', 'mx.example'], ['{daemon_addr}', '127.0.0.1'], ['v', 'Postfix 3.7.11'], ['_', 'localhost [127.0.0.1]']] });
  assert.deepEqual(seq[2], { kind: 'connect', hostname: 'localhost', family: 'inet', port: 4242, address: '127.0.0.1' });
  assert.deepEqual(seq[3], { kind: 'macro', forCode: SMFIC.HELO, macros: [] });
  const headers = seq.filter((c) => c.kind === 'header');
  assert.deepEqual(headers, [
    { kind: 'header', name: 'From', value: Buffer.from('a@example.com') },
    { kind: 'header', name: 'Subject', value: Buffer.from(' two spaces\n\tfolded') },
  ]);
  assert.deepEqual(seq.map((c) => c.kind), ['optneg', 'macro', 'connect', 'macro', 'helo', 'macro', 'mail', 'macro', 'rcpt', 'macro', 'data', 'macro', 'header', 'macro', 'header', 'macro', 'eoh', 'macro', 'body', 'macro', 'bodyeob', 'abort', 'quit']);
});

test('connect-stage answers: ACCEPT closes and accepts the session; REJECT/TEMPFAIL/REPLYCODE stick', async (t) => {
  const cases: Array<[MilterReply, unknown]> = [
    [{ kind: 'accept' }, { action: 'continue' }],
    [{ kind: 'reject' }, { action: 'reply', reply: '550 5.7.1 Command rejected' }],
    [{ kind: 'tempfail' }, { action: 'reply', reply: '451 4.7.1 Service unavailable - try again later' }],
    [{ kind: 'replycode', text: '554 5.7.1 go away 100%%' }, { action: 'reply', reply: '554 5.7.1 go away 100%' }],
    [{ kind: 'shutdown' }, { action: 'shutdown' }],
  ];
  for (const [r, want] of cases) {
    const { fm, m } = await session(t, { script: on('connect', [r]) });
    assert.deepEqual(await m.connect(CLIENT), want, r.kind);
    // Later events are not sent and repeat the session verdict.
    assert.deepEqual(await m.helo('x'), want, `${r.kind} helo`);
    assert.deepEqual(await m.envfrom(['<a@b>']), want, `${r.kind} mail`);
    await m.quit();
    await fm.closed(1);
    assert.deepEqual(fm.connections[0]!.map((c) => c.kind), ['optneg', 'macro', 'connect'], r.kind);
  }
});

test('DISCARD at connect is ignored with a warning; at MAIL it discards the message', async (t) => {
  const a = await session(t, { script: on('connect', [{ kind: 'discard' }]) });
  assert.deepEqual(await a.m.connect(CLIENT), { action: 'continue' });
  assert.match(a.warnings.join(), /DISCARD action is not allowed for connect or helo/);
  const b = await session(t, { script: on('mail', [{ kind: 'discard' }]) });
  await b.m.connect(CLIENT);
  assert.deepEqual(await b.m.envfrom(['<a@b>']), { action: 'discard' });
  // accept_msg: RCPT and DATA are no longer sent; after abort the next transaction is.
  assert.deepEqual(await b.m.envrcpt(['<c@d>']), { action: 'continue' });
  await b.m.abort();
  await b.m.envfrom(['<e@f>']);
  await b.m.quit();
  await b.fm.closed(1);
  assert.deepEqual(b.fm.connections[0]!.filter((c) => c.kind !== 'macro').map((c) => c.kind), ['optneg', 'connect', 'mail', 'abort', 'mail', 'quit']);
});

test('REJECT, TEMPFAIL and REPLYCODE at RCPT answer that command only', async (t) => {
  let n = 0;
  const replies: MilterReply[] = [{ kind: 'reject' }, { kind: 'tempfail' }, { kind: 'replycode', text: '550-5.1.1 first\r\n550 5.1.1 second' }];
  const { m } = await session(t, { script: (c) => (c.kind === 'rcpt' ? [replies[n++] ?? { kind: 'continue' }] : continueAll(c)) });
  await m.connect(CLIENT);
  await m.envfrom(['<a@b>']);
  assert.deepEqual(await m.envrcpt(['<1@x>']), { action: 'reply', reply: '550 5.7.1 Command rejected' });
  assert.deepEqual(await m.envrcpt(['<2@x>']), { action: 'reply', reply: '451 4.7.1 Service unavailable - try again later' });
  assert.deepEqual(await m.envrcpt(['<3@x>']), { action: 'reply', reply: '550-5.1.1 first\r\n550 5.1.1 second' });
  assert.deepEqual(await m.envrcpt(['<4@x>']), { action: 'continue' });
  await m.quit();
});

test('a malformed REPLYCODE is a configuration error (451 4.3.5)', async (t) => {
  const { m, warnings } = await session(t, { script: on('mail', [{ kind: 'replycode', text: '250 ok' }]) });
  await m.connect(CLIENT);
  assert.deepEqual(await m.envfrom(['<a@b>']), { action: 'reply', reply: '451 4.3.5 Server configuration problem - try again later' });
  assert.match(warnings.join(), /malformed reply: 250 ok/);
  assert.equal(m.currentState, 'error');
});

test('PROGRESS keeps the MTA waiting; SKIP stops further body chunks', async (t) => {
  const { fm, m } = await session(t, {
    script: (c) => (c.kind === 'eoh' ? [{ kind: 'progress' }, { kind: 'progress' }, { kind: 'continue' }] : c.kind === 'body' ? [{ kind: 'skip' }] : continueAll(c)),
  });
  await m.connect(CLIENT);
  await m.envfrom(['<a@b>']);
  await m.envrcpt(['<c@d>']);
  await m.data();
  const big = Buffer.alloc(65535 * 2 + 10, 0x61);
  const r = await m.message(HEADERS, big);
  assert.deepEqual(r.result, { action: 'continue' });
  await m.quit();
  await fm.closed(1);
  const bodies = fm.connections[0]!.filter((c): c is Extract<MilterCommand, { kind: 'body' }> => c.kind === 'body');
  assert.equal(bodies.length, 1, 'after SKIP the remaining chunks are not sent');
  assert.equal(bodies[0]!.chunk.length, 65535);
  assert.ok(fm.connections[0]!.some((c) => c.kind === 'bodyeob'));
});

test('body is sent in chunks of at most 65535 bytes, split across body() calls', async (t) => {
  const { fm, m } = await session(t, {});
  await m.connect(CLIENT);
  await m.envfrom(['<a@b>']);
  await m.data();
  await m.header(HEADERS[0]!);
  await m.eoh();
  await m.body(Buffer.alloc(40000, 0x61));
  await m.body(Buffer.alloc(40000, 0x62));
  await m.eom();
  await m.quit();
  await fm.closed(1);
  const sizes = fm.connections[0]!.flatMap((c) => (c.kind === 'body' ? [c.chunk.length] : []));
  assert.deepEqual(sizes, [65535, 14465]);
});

test('QUARANTINE at end of message holds it, with the modifications', async (t) => {
  const { m } = await session(t, {
    script: on('bodyeob', [{ kind: 'addheader', name: 'X-Scanned', value: Buffer.from('yes') }, { kind: 'quarantine', reason: 'suspicious' }, { kind: 'continue' }]),
  });
  await m.connect(CLIENT);
  await m.envfrom(['<a@b>']);
  await m.data();
  const r = await m.message(HEADERS, BODY);
  assert.deepEqual(r, { result: { action: 'hold', reason: 'suspicious' }, modifications: [{ kind: 'addheader', name: 'X-Scanned', value: Buffer.from('yes') }] });
});

test('every modification kind is collected in order at end of message', async (t) => {
  const mods: MilterReply[] = [
    { kind: 'addheader', name: 'X-A', value: Buffer.from('1') },
    { kind: 'insheader', index: 0, name: 'X-B', value: Buffer.from('2') },
    { kind: 'chgheader', index: 1, name: 'Subject', value: Buffer.from('new') },
    { kind: 'chgheader', index: 1, name: 'X-Gone', value: Buffer.alloc(0) },
    { kind: 'addrcpt', rcpt: '<new@x>' },
    { kind: 'addrcpt_par', rcpt: '<par@x>', args: 'NOTIFY=NEVER' },
    { kind: 'delrcpt', rcpt: '<old@x>' },
    { kind: 'chgfrom', sender: '<s@x>', args: '' },
    { kind: 'replbody', chunk: Buffer.from('new ') },
    { kind: 'replbody', chunk: Buffer.from('body\r\n') },
  ];
  const { m } = await session(t, { script: on('bodyeob', [...mods, { kind: 'accept' }]) });
  await m.connect(CLIENT);
  await m.envfrom(['<a@b>']);
  await m.data();
  const r = await m.message(HEADERS, BODY);
  assert.deepEqual(r.result, { action: 'continue' });
  assert.deepEqual(r.modifications, mods);
  assert.equal(m.currentState, 'envelope');
});

test('REPLBODY after another modification following REPLBODY is refused (Postfix cannot mix them)', async (t) => {
  const { m, warnings } = await session(t, {
    script: on('bodyeob', [{ kind: 'replbody', chunk: Buffer.from('a') }, { kind: 'addheader', name: 'X', value: Buffer.from('1') }, { kind: 'replbody', chunk: Buffer.from('b') }, { kind: 'continue' }]),
  });
  await m.connect(CLIENT);
  await m.envfrom(['<a@b>']);
  const r = await m.message(HEADERS, BODY);
  assert.deepEqual(r.result, { action: 'reply', reply: '451 4.3.5 Server configuration problem - try again later' });
  assert.match(warnings.join(), /body replacement requests can't currently be mixed/);
});

test('a modification before end of message is a protocol error → milter_default_action', async (t) => {
  const { m, warnings } = await session(t, { script: on('rcpt', [{ kind: 'addheader', name: 'X', value: Buffer.from('1') }]) });
  await m.connect(CLIENT);
  await m.envfrom(['<a@b>']);
  assert.deepEqual(await m.envrcpt(['<c@d>']), { action: 'reply', reply: '451 4.7.1 Service unavailable - try again later' });
  assert.match(warnings.join(), /unexpected filter response SMFIR_ADDHEADER after event SMFIC_RCPT/);
  assert.deepEqual(await m.data(), { action: 'reply', reply: '451 4.7.1 Service unavailable - try again later' }, 'sticks');
});

test('milter_default_action on a milter that does not answer, or closes, or is not there', async (t) => {
  const expect: Record<string, unknown> = {
    tempfail: { action: 'reply', reply: '451 4.7.1 Service unavailable - try again later' },
    reject: { action: 'reply', reply: '550 5.5.0 Service unavailable' },
    accept: { action: 'continue' },
    quarantine: { action: 'hold', reason: 'default_action' },
    bogus: { action: 'reply', reply: '451 4.3.5 Server configuration problem - try again later' },
  };
  for (const [action, want] of Object.entries(expect)) {
    const hang = await session(t, { script: (c) => (c.kind === 'mail' ? 'hang' : continueAll(c)) }, { defaultAction: action, commandTimeout: 0.2 });
    await hang.m.connect(CLIENT);
    const t0 = Date.now();
    assert.deepEqual(await hang.m.envfrom(['<a@b>']), want, `${action}: timeout`);
    assert.ok(Date.now() - t0 < 1500);
    assert.match(hang.warnings.join(), /timeout reading from milter/);
    const closing = await session(t, { script: (c) => (c.kind === 'helo' ? 'close' : continueAll(c)) }, { defaultAction: action });
    await closing.m.connect(CLIENT);
    assert.deepEqual(await closing.m.helo('x'), want, `${action}: closed`);
  }
  const gone = new MilterSession('inet:127.0.0.1:1', settings({ defaultAction: 'reject' }), LOOKUP);
  assert.deepEqual(await gone.connect(CLIENT), { action: 'reply', reply: '550 5.5.0 Service unavailable' });
});

test('negotiation: NO* flags skip events but still send their macros; NR_* are not waited for', async (t) => {
  const { fm, m } = await session(t, {
    protocol: SMFIP.NOHELO | SMFIP.NOHDRS | SMFIP.NR_RCPT | SMFIP.NR_EOH | SMFIP.HDR_LEADSPC,
    // A milter that honours NR_* never answers RCPT or EOH; answering would desynchronise.
    script: (c) => (c.kind === 'rcpt' || c.kind === 'eoh' ? [] : continueAll(c)),
  });
  await m.connect(CLIENT);
  await m.helo('x');
  await m.envfrom(['<a@b>']);
  await m.envrcpt(['<c@d>']);
  await m.data();
  const r = await m.message(HEADERS, BODY);
  assert.deepEqual(r.result, { action: 'continue' });
  await m.quit();
  await fm.closed(1);
  const seq = fm.connections[0]!.map((c) => (c.kind === 'macro' ? `D${String.fromCharCode(c.forCode)}` : c.kind));
  assert.deepEqual(seq, ['optneg', 'DC', 'connect', 'DH', 'DM', 'mail', 'DR', 'rcpt', 'DT', 'data', 'DN', 'eoh', 'DB', 'body', 'DE', 'bodyeob', 'quit']);
});

test('HDR_LEADSPC: the header value keeps its leading space', async (t) => {
  const { fm, m } = await session(t, { protocol: SMFIP.HDR_LEADSPC });
  await m.connect(CLIENT);
  await m.envfrom(['<a@b>']);
  await m.message(HEADERS, BODY);
  await m.quit();
  await fm.closed(1);
  assert.deepEqual(fm.connections[0]!.filter((c) => c.kind === 'header').map((c) => (c as { value: Buffer }).value.toString()), [' a@example.com', '  two spaces\n\tfolded']);
});

test('an older milter version is not sent newer events; a newer one is refused', async (t) => {
  const v2 = await session(t, { version: 2 });
  await v2.m.connect(CLIENT);
  await v2.m.envfrom(['<a@b>']);
  assert.deepEqual(await v2.m.data(), { action: 'continue' });
  assert.deepEqual(await v2.m.unknown('XFOO'), { action: 'continue' });
  await v2.m.quit();
  await v2.fm.closed(1);
  assert.ok(!v2.fm.connections[0]!.some((c) => c.kind === 'data' || c.kind === 'unknown' || (c.kind === 'macro' && (c.forCode === SMFIC.DATA || c.forCode === SMFIC.UNKNOWN))));

  const v2conf = await session(t, { version: 2 }, { protocol: '2' });
  await v2conf.m.connect(CLIENT);
  assert.equal(v2conf.m.negotiated?.version, 2);
  await v2conf.m.quit();
  await v2conf.fm.closed(1);
  assert.deepEqual(v2conf.fm.connections[0]![0], { kind: 'optneg', version: 2, actions: 0x1ff, protocol: 0x7f });

  const newer = await session(t, { version: 7 });
  assert.deepEqual(await newer.m.connect(CLIENT), { action: 'reply', reply: '451 4.7.1 Service unavailable - try again later' });
  assert.match(newer.warnings.join(), /protocol version 7 conflict with MTA protocol version 6/);
  const greedy = await session(t, { actions: 0x200 });
  await greedy.m.connect(CLIENT);
  assert.match(greedy.warnings.join(), /request mask 0x200 conflict/);
});

test('milter_protocol: no_header_reply; bad values are configuration errors', async (t) => {
  const nhr = await session(t, { script: (c) => (c.kind === 'header' ? [] : continueAll(c)) }, { protocol: '6 no_header_reply' });
  await nhr.m.connect(CLIENT);
  await nhr.m.quit();
  await nhr.fm.closed(1);
  assert.deepEqual(nhr.fm.connections[0]![0], { kind: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff });
  for (const bad of ['', '5', '6 4', 'x']) {
    const s = await session(t, {}, { protocol: bad });
    assert.deepEqual(await s.m.connect(CLIENT), { action: 'reply', reply: '451 4.3.5 Server configuration problem - try again later' }, bad);
  }
});

test('SETSYMLIST in negotiation replaces our macro list for that stage', async (t) => {
  const { fm, m } = await session(t, { symlists: [{ stage: 2, macros: '{i} {client_addr}' }] });
  await m.connect(CLIENT);
  await m.envfrom(['<a@b>']);
  await m.quit();
  await fm.closed(1);
  assert.deepEqual(fm.connections[0]!.find((c) => c.kind === 'macro' && c.forCode === SMFIC.MAIL), { kind: 'macro', forCode: SMFIC.MAIL, macros: [['{i}', 'ABC123'], ['{client_addr}', '127.0.0.1']] });
});

test('unix: endpoint and the Sendmail form of an unknown client name', async (t) => {
  const dir = tempDir(t);
  const { fm, m } = await session(t, { unix: `${dir}/milter.sock` });
  assert.equal(fm.spec, `unix:${dir}/milter.sock`);
  await m.connect({ hostname: 'unknown', address: '192.0.2.1', port: 25, family: 'inet' });
  await m.unknown('XFOO bar');
  await m.quit();
  await fm.closed(1);
  assert.deepEqual(fm.connections[0]![2], { kind: 'connect', hostname: '[192.0.2.1]', family: 'inet', port: 25, address: '192.0.2.1' });
  assert.deepEqual(fm.connections[0]!.slice(3, 5), [{ kind: 'macro', forCode: SMFIC.UNKNOWN, macros: [] }, { kind: 'unknown', line: 'XFOO bar' }]);
});

test('a packet over the size limit from the milter is a communication error', async (t) => {
  const { m, warnings } = await session(t, { script: on('mail', [{ kind: 'replycode', text: `550 5.7.1 ${'x'.repeat(200)}` }]) }, { maxPacket: 100 });
  await m.connect(CLIENT);
  assert.deepEqual(await m.envfrom(['<a@b>']), { action: 'reply', reply: '451 4.7.1 Service unavailable - try again later' });
  assert.match(warnings.join(), /unreasonable packet length: 212 > 100/);
});

test('checkReplyCode: Postfix validation, % handling, soft_bounce', () => {
  const cases: Array<[string, boolean, string | undefined]> = [
    ['550 5.7.1 no', false, '550 5.7.1 no'],
    ['450 4.7.1 later', false, '450 4.7.1 later'],
    ['550 4.7.1 mismatch', false, undefined],
    ['250 2.0.0 ok', false, undefined],
    ['55 x', false, undefined],
    ['550', false, undefined],
    ['550-first\r\n550 second', false, '550-first\r\n550 second'],
    ['550 5.0.0 100%% sure, 5% off', false, '550 5.0.0 100% sure, 5 off'],
    ['550 100 is a digit after the space', false, undefined],
    ['550 5.7.1 no', true, '450 4.7.1 no'],
    ['550-5.7.1 a\r\n550 5.7.1 b', true, '450-4.7.1 a\r\n450 4.7.1 b'],
  ];
  for (const [text, soft, want] of cases) assert.equal(checkReplyCode(text, soft), want, text);
});
