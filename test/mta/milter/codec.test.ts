import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeCommand,
  decodeReply,
  encodeCommand,
  encodePacket,
  encodeReply,
  MilterPacketTooLargeError,
  MilterProtocolError,
  PacketReader,
  SMFIC,
  SMFIR,
  type MilterCommand,
  type MilterReply,
} from '../../../mta/milter/codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const z = (s: string): string => Buffer.from(`${s}\0`, 'latin1').toString('hex');

// Each command: its value and its exact wire bytes (length, code, data).
const COMMANDS: Array<[string, MilterCommand, string]> = [
  ['OPTNEG v6 all actions, all flags', { kind: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff }, '0000000d 4f 00000006 000001ff 001fffff'],
  ['MACRO connect', { kind: 'macro', forCode: SMFIC.CONNECT, macros: [['j', 'mx'], ['{daemon_name}', 'mx']] }, `00000018 44 43 ${z('j')}${z('mx')}${z('{daemon_name}')}${z('mx')}`],
  ['MACRO with no pairs (Postfix sends it)', { kind: 'macro', forCode: SMFIC.HELO, macros: [] }, '00000002 44 48'],
  ['CONNECT inet', { kind: 'connect', hostname: 'localhost', family: 'inet', port: 25, address: '127.0.0.1' }, `00000018 43 ${z('localhost')} 34 0019 ${z('127.0.0.1')}`],
  ['CONNECT inet6', { kind: 'connect', hostname: '[::1]', family: 'inet6', port: 587, address: '::1' }, `0000000e 43 ${z('[::1]')} 36 024b ${z('::1')}`],
  ['CONNECT unix', { kind: 'connect', hostname: 'localhost', family: 'unix', port: 0, address: '/run/x' }, `00000015 43 ${z('localhost')} 4c 0000 ${z('/run/x')}`],
  ['CONNECT unknown family has no port/address', { kind: 'connect', hostname: 'h', family: 'unknown' }, `00000004 43 ${z('h')} 55`],
  ['HELO', { kind: 'helo', name: 'client.example' }, `00000010 48 ${z('client.example')}`],
  ['MAIL with ESMTP args', { kind: 'mail', args: ['<a@b>', 'SIZE=100'] }, `00000010 4d ${z('<a@b>')}${z('SIZE=100')}`],
  ['RCPT', { kind: 'rcpt', args: ['<c@d>', 'NOTIFY=NEVER'] }, `00000014 52 ${z('<c@d>')}${z('NOTIFY=NEVER')}`],
  ['DATA', { kind: 'data' }, '00000001 54'],
  ['HEADER (value bytes kept)', { kind: 'header', name: 'Subject', value: Buffer.from('h\xe9\n  x', 'latin1') }, `00000010 4c ${z('Subject')} 68e90a202078 00`],
  ['EOH', { kind: 'eoh' }, '00000001 4e'],
  ['BODY', { kind: 'body', chunk: Buffer.from('a\r\n') }, '00000004 42 610d0a'],
  ['BODYEOB', { kind: 'bodyeob' }, '00000001 45'],
  ['ABORT', { kind: 'abort' }, '00000001 41'],
  ['QUIT', { kind: 'quit' }, '00000001 51'],
  ['QUIT_NC', { kind: 'quit_nc' }, '00000001 4b'],
  ['UNKNOWN', { kind: 'unknown', line: 'XFOO bar' }, `0000000a 55 ${z('XFOO bar')}`],
];

for (const [name, cmd, wire] of COMMANDS) {
  test(`command ${name}: encode and decode`, () => {
    const bytes = encodeCommand(cmd);
    assert.equal(bytes.toString('hex'), hex(wire).toString('hex'));
    const r = new PacketReader(1 << 20);
    r.push(bytes);
    assert.deepEqual(decodeCommand(r.next()!), cmd);
    assert.equal(r.next(), undefined);
  });
}

const REPLIES: Array<[string, MilterReply, string]> = [
  ['OPTNEG with symbol lists', { kind: 'optneg', version: 6, actions: 0x1ff, protocol: 0x100000, symlists: [{ stage: 2, macros: '{mail_addr} i' }] }, `0000001f 4f 00000006 000001ff 00100000 00000002 ${z('{mail_addr} i')}`],
  ['ACCEPT', { kind: 'accept' }, '00000001 61'],
  ['CONTINUE', { kind: 'continue' }, '00000001 63'],
  ['DISCARD', { kind: 'discard' }, '00000001 64'],
  ['REJECT', { kind: 'reject' }, '00000001 72'],
  ['TEMPFAIL', { kind: 'tempfail' }, '00000001 74'],
  ['SKIP', { kind: 'skip' }, '00000001 73'],
  ['PROGRESS', { kind: 'progress' }, '00000001 70'],
  ['SHUTDOWN', { kind: 'shutdown' }, '00000001 34'],
  ['CONN_FAIL', { kind: 'conn_fail' }, '00000001 66'],
  ['REPLYCODE', { kind: 'replycode', text: '554 5.7.1 no' }, `0000000e 79 ${z('554 5.7.1 no')}`],
  ['QUARANTINE', { kind: 'quarantine', reason: 'virus' }, `00000007 71 ${z('virus')}`],
  ['ADDHEADER', { kind: 'addheader', name: 'X-A', value: Buffer.from('1') }, `00000007 68 ${z('X-A')}${z('1')}`],
  ['INSHEADER', { kind: 'insheader', index: 0, name: 'X-A', value: Buffer.from('1') }, `0000000b 69 00000000 ${z('X-A')}${z('1')}`],
  ['CHGHEADER (empty value deletes)', { kind: 'chgheader', index: 2, name: 'X-A', value: Buffer.alloc(0) }, `0000000a 6d 00000002 ${z('X-A')}00`],
  ['ADDRCPT', { kind: 'addrcpt', rcpt: '<x@y>' }, `00000007 2b ${z('<x@y>')}`],
  ['ADDRCPT_PAR with args', { kind: 'addrcpt_par', rcpt: '<x@y>', args: 'NOTIFY=NEVER' }, `00000014 32 ${z('<x@y>')}${z('NOTIFY=NEVER')}`],
  ['ADDRCPT_PAR without args', { kind: 'addrcpt_par', rcpt: '<x@y>', args: '' }, `00000007 32 ${z('<x@y>')}`],
  ['DELRCPT', { kind: 'delrcpt', rcpt: '<x@y>' }, `00000007 2d ${z('<x@y>')}`],
  ['REPLBODY', { kind: 'replbody', chunk: Buffer.from('new\r\n') }, '00000006 62 6e65770d0a'],
  ['CHGFROM with args', { kind: 'chgfrom', sender: '<s@t>', args: 'SIZE=1' }, `0000000e 65 ${z('<s@t>')}${z('SIZE=1')}`],
  ['CHGFROM without args', { kind: 'chgfrom', sender: '<>', args: '' }, `00000004 65 ${z('<>')}`],
  ['SETSYMLIST', { kind: 'setsymlist', stage: 0, macros: 'j _' }, `00000009 6c 00000000 ${z('j _')}`],
];

for (const [name, reply, wire] of REPLIES) {
  test(`reply ${name}: encode and decode`, () => {
    const bytes = encodeReply(reply);
    assert.equal(bytes.toString('hex'), hex(wire).toString('hex'));
    const r = new PacketReader(1 << 20);
    r.push(bytes);
    assert.deepEqual(decodeReply(r.next()!), reply);
  });
}

test('reader reassembles packets split anywhere and several in one chunk', () => {
  const all = Buffer.concat([encodeReply({ kind: 'continue' }), encodeReply({ kind: 'replycode', text: '451 4.3.0 x' }), encodeReply({ kind: 'accept' })]);
  for (let cut = 0; cut <= all.length; cut++) {
    const r = new PacketReader(1024);
    r.push(all.subarray(0, cut));
    const got: MilterReply[] = [];
    for (let p = r.next(); p; p = r.next()) got.push(decodeReply(p));
    r.push(all.subarray(cut));
    for (let p = r.next(); p; p = r.next()) got.push(decodeReply(p));
    assert.deepEqual(got.map((g) => g.kind), ['continue', 'replycode', 'accept'], `cut at ${cut}`);
    assert.equal(r.pending, 0);
  }
});

test('reader refuses a packet over the limit as soon as the length is in', () => {
  const r = new PacketReader(100);
  assert.throws(() => r.push(hex('00000065')), (e: unknown) => e instanceof MilterPacketTooLargeError && e.length === 101 && e.limit === 100);
  const ok = new PacketReader(100);
  ok.push(encodePacket(SMFIR.REPLBODY, Buffer.alloc(99)));
  assert.equal(ok.next()!.data.length, 99);
});

test('reader refuses a zero length', () => {
  assert.throws(() => new PacketReader(100).push(hex('00000000')), MilterProtocolError);
});

const BAD: Array<[string, number, string, RegExp]> = [
  ['CONTINUE followed by data', SMFIR.CONTINUE, '00', /followed by 1 data bytes/],
  ['ADDHEADER without NUL', SMFIR.ADDHEADER, '5841', /missing string null terminator/],
  ['CHGHEADER short index', SMFIR.CHGHEADER, '0000', /too short for network long/],
  ['ADDRCPT with left-over data', SMFIR.ADDRCPT, '610062', /left-over data 1 bytes/],
  ['DELRCPT with trailing bytes after string', SMFIR.DELRCPT, '61000000', /left-over data 2 bytes/],
  ['unknown reply code', 0x7a, '', /unknown filter reply/],
  ['OPTNEG too short', SMFIC.OPTNEG, '00000006', /too short/],
];
for (const [name, code, data, re] of BAD) {
  test(`reply decode error: ${name}`, () => {
    assert.throws(() => decodeReply({ code, data: hex(data) }), (e: unknown) => e instanceof MilterProtocolError && re.test(e.message));
  });
}

test('encodeCommand refuses a body chunk over 65535 bytes', () => {
  assert.throws(() => encodeCommand({ kind: 'body', chunk: Buffer.alloc(65536) }), RangeError);
});
