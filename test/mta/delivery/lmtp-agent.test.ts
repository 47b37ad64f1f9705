/*
 * The LMTP agent against a scripted server: Postfix's command shapes (LHLO $myhostname, SIZE only
 * when offered, pipelined MAIL/RCPT/DATA in one write), per-recipient 2xx/4xx/5xx at RCPT and after
 * the final dot, dot-stuffing, connection errors worded as Postfix's, connection reuse with RSET.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { LmtpAgent, type LmtpAgentOptions } from '../../../mta/delivery/lmtp/agent.js';
import { parseLmtpTarget, endpointName } from '../../../mta/delivery/lmtp/target.js';
import { DotStuffer } from '../../../mta/delivery/lmtp/dot-stuff.js';
import { ReplyParser, replyOneLine, dsnOf } from '../../../mta/delivery/lmtp/reply.js';
import type { DeliveryReport, DeliveryRequest } from '../../../mta/delivery/api.js';
import { tempDir } from '../../helpers/tmp.js';
import { startFakeLmtp } from './fake-lmtp.js';

const T = 5000;
function opts(queueDirectory: string, over: Partial<LmtpAgentOptions> = {}): LmtpAgentOptions {
  return {
    transport: 'lmtp', queueDirectory, myhostname: 'mx.test.example', lhloName: 'mx.test.example', defaultPort: 24,
    timeouts: { connect: T, lhlo: T, mail: T, rcpt: T, dataInit: T, dataXfer: T, dataDone: T, rset: T, quit: T },
    cacheTimeLimit: 0, reuseTimeLimit: 300_000, reuseCountLimit: 0, ...over,
  };
}
const BODY = 'Subject: t\n\n.leading dot\nline\n';
function req(nexthop: string, rcpts: string[], over: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    queueId: 'ABC123', sender: 's@example.org', transport: 'lmtp', nexthop,
    recipients: rcpts.map((address, index) => ({ index, address })),
    size: BODY.length, arrivalTime: Date.now(), content: () => Readable.from([Buffer.from(BODY)]), ...over,
  };
}

test('targets: unix (absolute and queue-relative), inet forms, relay names', () => {
  assert.deepEqual(parseLmtpTarget('unix:private/dovecot-lmtp', '/var/spool/postfix'), { kind: 'unix', path: '/var/spool/postfix/private/dovecot-lmtp', display: 'private/dovecot-lmtp' });
  assert.deepEqual(parseLmtpTarget('unix:/run/x', '/q'), { kind: 'unix', path: '/run/x', display: '/run/x' });
  assert.deepEqual(parseLmtpTarget('inet:127.0.0.1:2424', '/q'), { kind: 'inet', host: '127.0.0.1', port: 2424 });
  assert.deepEqual(parseLmtpTarget('inet:[::1]:24', '/q'), { kind: 'inet', host: '::1', port: 24 });
  assert.deepEqual(parseLmtpTarget('mail.test:25', '/q'), { kind: 'inet', host: 'mail.test', port: 25 });
  assert.deepEqual(parseLmtpTarget('[10.0.0.1]', '/q'), { kind: 'inet', host: '10.0.0.1', port: 24 });
  assert.throws(() => parseLmtpTarget('inet:h:99999', '/q'));
  assert.equal(endpointName(parseLmtpTarget('unix:private/dovecot-lmtp', '/q'), 'mx.example.test'), 'mx.example.test[private/dovecot-lmtp]');
  assert.equal(endpointName(parseLmtpTarget('inet:127.0.0.1:24', '/q'), 'mx'), '127.0.0.1[127.0.0.1]:24');
});

test('dot-stuffing and line ends across chunk boundaries', () => {
  const cases: Array<[string[], string]> = [
    [['a\nb\n'], 'a\r\nb\r\n.\r\n'],
    [['.x\r', '\n..y'], '..x\r\n...y\r\n.\r\n'],
    [['a\r\n', '.'], 'a\r\n..\r\n.\r\n'],
    [[''], '.\r\n'],
    [['x\ry\n'], 'x\r\ny\r\n.\r\n'],
  ];
  for (const [chunks, want] of cases) {
    const d = new DotStuffer();
    const out = Buffer.concat([...chunks.map((c) => d.push(Buffer.from(c))), d.end()]).toString();
    assert.equal(out, want, JSON.stringify(chunks));
  }
});

test('reply parsing: multi-line, enhanced codes, one-line form', () => {
  const p = new ReplyParser();
  assert.equal(p.push('250-first'), undefined);
  const r = p.push('250 2.0.0 last')!;
  assert.equal(r.code, 250);
  const q = new ReplyParser().push('550 5.1.1 <x@y> User doesn\'t exist')!;
  assert.equal(dsnOf(q), '5.1.1');
  assert.equal(replyOneLine(q), '550 5.1.1 <x@y> User doesn\'t exist');
  assert.equal(dsnOf(new ReplyParser().push('451 try later')!), '4.0.0');
  assert.throws(() => new ReplyParser().push('hello'));
});

test('per-recipient RCPT and DATA replies, pipelined in one write, no SIZE unless offered', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'lmtp');
  const srv = await startFakeLmtp(sock, {
    rcpt: (a) => (a.startsWith('nouser') ? "550 5.1.1 <nouser@test.example> User doesn't exist: nouser@test.example" : a.startsWith('later') ? '451 4.3.0 try later' : '250 2.1.5 OK'),
    dataDone: (a) => (a.startsWith('quota') ? '552 5.2.2 <quota@test.example> Quota exceeded' : a.startsWith('tmp') ? '452 4.2.2 Mailbox busy' : `250 2.0.0 <${a}> Saved`),
  });
  t.after(() => srv.close());
  const agent = new LmtpAgent(opts(dir));
  t.after(() => agent.close());
  const report: DeliveryReport = {};
  const out = await agent.deliver(req(`unix:${sock}`, ['u1@test.example', 'nouser@test.example', 'later@test.example', 'quota@test.example', 'tmp@test.example'], { report }));
  assert.deepEqual(out.map((o) => [o.kind, o.dsnStatus]), [['delivered', '2.0.0'], ['bounced', '5.1.1'], ['deferred', '4.3.0'], ['bounced', '5.2.2'], ['deferred', '4.2.2']]);
  assert.equal(out[0]!.kind === 'delivered' && out[0]!.reply, '250 2.0.0 <u1@test.example> Saved');
  assert.equal(out[1]!.kind === 'bounced' && out[1]!.reason,
    `host mx.test.example[${sock}] said: 550 5.1.1 <nouser@test.example> User doesn't exist: nouser@test.example (in reply to RCPT TO command)`);
  assert.equal(out[3]!.kind === 'bounced' && out[3]!.reason, `host mx.test.example[${sock}] said: 552 5.2.2 <quota@test.example> Quota exceeded (in reply to end of DATA command)`);
  assert.equal(out[0]!.relay, `mx.test.example[${sock}]`);
  assert.ok(report.setupDoneAt !== undefined && report.siteFailure === undefined);
  const cmds = srv.commands[0]!;
  assert.equal(cmds[0], 'LHLO mx.test.example');
  assert.equal(cmds[1], 'MAIL FROM:<s@example.org>');
  // MAIL, the five RCPTs and DATA arrived in one write.
  assert.ok(srv.reads[0]!.some((r) => r.startsWith('MAIL FROM:') && r.endsWith('DATA\r\n')), JSON.stringify(srv.reads[0]));
  assert.equal(srv.bodies[0], 'Subject: t\r\n\r\n..leading dot\r\nline\r\n'.replace('..leading', '..leading'));
});

test('SIZE, DSN parameters only when offered; no pipelining means one command at a time', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'lmtp');
  const srv = await startFakeLmtp(sock, { capabilities: ['SIZE 1000000', 'DSN', 'ENHANCEDSTATUSCODES'] });
  t.after(() => srv.close());
  const agent = new LmtpAgent(opts(dir));
  t.after(() => agent.close());
  const r = req(`unix:${sock}`, ['a@test.example'], { envid: 'env1', ret: 'HDRS' });
  r.recipients[0]!.notify = ['SUCCESS', 'FAILURE'];
  r.recipients[0]!.orcpt = 'rfc822;A@test.example';
  const out = await agent.deliver(r);
  assert.equal(out[0]!.kind, 'delivered');
  assert.equal(srv.commands[0]![1], `MAIL FROM:<s@example.org> SIZE=${BODY.length} RET=HDRS ENVID=env1`);
  assert.equal(srv.commands[0]![2], 'RCPT TO:<a@test.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;A@test.example');
  assert.ok(srv.reads[0]!.every((x) => (x.match(/\r\n/g) ?? []).length <= 1 || x.includes('Subject')), 'not pipelined');
});

test('message above the server SIZE is bounced without sending', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'lmtp');
  const srv = await startFakeLmtp(sock, { capabilities: ['SIZE 10'] });
  t.after(() => srv.close());
  const agent = new LmtpAgent(opts(dir));
  t.after(() => agent.close());
  const out = await agent.deliver(req(`unix:${sock}`, ['a@test.example']));
  assert.deepEqual(out[0], { index: 0, kind: 'bounced', dsnStatus: '5.3.4', relay: `mx.test.example[${sock}]`, reason: `message size ${BODY.length} exceeds size limit 10 of server mx.test.example[${sock}]` });
});

test('connect failures defer everything with Postfix reasons and relay=none, marked as site failures', async (t) => {
  const dir = tempDir(t);
  const agent = new LmtpAgent(opts(dir));
  const report: DeliveryReport = {};
  const out = await agent.deliver(req('unix:private/dovecot-lmtp', ['a@test.example', 'b@test.example'], { report }));
  assert.deepEqual(out[1], { index: 1, kind: 'deferred', dsnStatus: '4.4.1', relay: 'none', reason: 'connect to mx.test.example[private/dovecot-lmtp]: No such file or directory' });
  assert.equal(report.siteFailure, true);
  const srv = await startFakeLmtp({ port: 0, host: '127.0.0.1' });
  const port = srv.port;
  await srv.close();
  const out2 = await agent.deliver(req(`inet:127.0.0.1:${port}`, ['a@test.example']));
  assert.equal(out2[0]!.kind === 'deferred' && out2[0]!.reason, `connect to 127.0.0.1[127.0.0.1]:${port}: Connection refused`);
});

test('greeting refusal and MAIL FROM rejection apply to all recipients', async (t) => {
  const dir = tempDir(t);
  const s1 = await startFakeLmtp(join(dir, 'a'), { greeting: '554 5.3.2 go away' });
  const s2 = await startFakeLmtp(join(dir, 'b'), { mail: '451 4.3.0 Temporary failure' });
  t.after(() => s1.close());
  t.after(() => s2.close());
  const agent = new LmtpAgent(opts(dir));
  const a = await agent.deliver(req(`unix:${join(dir, 'a')}`, ['x@test.example']));
  assert.equal(a[0]!.kind === 'deferred' && a[0]!.reason, `host mx.test.example[${join(dir, 'a')}] refused to talk to me: 554 5.3.2 go away`);
  const b = await agent.deliver(req(`unix:${join(dir, 'b')}`, ['x@test.example', 'y@test.example']));
  assert.deepEqual(b.map((o) => o.kind), ['deferred', 'deferred']);
  assert.match(b[1]!.kind === 'deferred' ? b[1]!.reason : '', /said: 451 4\.3\.0 Temporary failure \(in reply to MAIL FROM command\)$/);
});

test('timeout waiting for the end-of-data replies: deferred, may be sent more than once', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'lmtp');
  const srv = await startFakeLmtp(sock, { stallAtDataEnd: true });
  t.after(() => srv.close());
  const agent = new LmtpAgent(opts(dir, { timeouts: { connect: T, lhlo: T, mail: T, rcpt: T, dataInit: T, dataXfer: T, dataDone: 200, rset: T, quit: T } }));
  const out = await agent.deliver(req(`unix:${sock}`, ['a@test.example']));
  assert.deepEqual(out[0], { index: 0, kind: 'deferred', dsnStatus: '4.4.2', relay: `mx.test.example[${sock}]`,
    reason: `conversation with mx.test.example[${sock}] timed out while sending end of data -- message may be sent more than once` });
});

test('connection cache: a second delivery reuses the connection after RSET', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'lmtp');
  const srv = await startFakeLmtp(sock);
  t.after(() => srv.close());
  const agent = new LmtpAgent(opts(dir, { cacheTimeLimit: 2000 }));
  t.after(() => agent.close());
  await agent.deliver(req(`unix:${sock}`, ['a@test.example']));
  await agent.deliver(req(`unix:${sock}`, ['b@test.example']));
  assert.equal(srv.commands.length, 1);
  assert.ok(srv.commands[0]!.includes('RSET'));
  await agent.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(srv.commands[0]!.at(-1), 'QUIT');
});
