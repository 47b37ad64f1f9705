/* Pure tables: line classification, sequencing replies, EHLO keyword order, envelope syntax. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyLine, sequenceError, type CommandName, type SequenceFacts } from '../../../mta/smtpd/state.js';
import { ehloKeywords } from '../../../mta/smtpd/ehlo.js';
import { extractAddress, parseMailArgs, parseRcptArgs, tokenize } from '../../../mta/smtpd/envelope-syntax.js';
import { replyText } from '../../../shared/proto/smtp-reply.js';

test('classifyLine', () => {
  const cases: [string, string][] = [
    ['', 'empty'], ['   ', 'empty'], ['NOOP', 'command:NOOP:'], ['noop x y', 'command:NOOP:x y'],
    ['Subject: hi', 'forbidden'], ['GET / HTTP/1.0', 'forbidden'], ['post x', 'forbidden'], ['CONNECT a:1', 'forbidden'],
    ['.', 'forbidden'], ['1abc', 'forbidden'], ['HELP', 'unknown:HELP'], ['NO\0OP', 'unknown:NO'],
    ['MAIL FROM:<a@b>', 'command:MAIL:FROM:<a@b>'], ['  RSET', 'command:RSET:'],
  ];
  for (const [line, want] of cases) {
    const c = classifyLine(line);
    const got = c.kind === 'command' ? `command:${c.name}:${c.args}` : c.kind === 'unknown' ? `unknown:${c.name}` : c.kind;
    assert.equal(got, want, JSON.stringify(line));
  }
});

test('sequenceError table', () => {
  const base: SequenceFacts = { state: 'idle', heloRequired: false, heloSeen: false, bdatUsed: false, needTls: false };
  const cases: [CommandName, Partial<SequenceFacts>, string | undefined][] = [
    ['MAIL', {}, undefined],
    ['MAIL', { heloRequired: true }, '503 5.5.1 Error: send HELO/EHLO first'],
    ['MAIL', { state: 'mail' }, '503 5.5.1 Error: nested MAIL command'],
    ['MAIL', { bdatUsed: true }, '503 5.5.1 Error: MAIL after BDAT'],
    ['RCPT', {}, '503 5.5.1 Error: need MAIL command'],
    ['RCPT', { state: 'rcpt', bdatUsed: true }, '503 5.5.1 Error: RCPT after BDAT'],
    ['DATA', {}, '503 5.5.1 Error: need RCPT command'],
    ['DATA', { state: 'mail' }, '554 5.5.1 Error: no valid recipients'],
    ['DATA', { state: 'rcpt', bdatUsed: true }, '503 5.5.1 Error: DATA after BDAT'],
    ['DATA', { state: 'rcpt' }, undefined],
    ['ETRN', { state: 'mail' }, '503 Error: MAIL transaction in progress'],
    ['MAIL', { needTls: true }, '530 5.7.0 Must issue a STARTTLS command first'],
    ['EHLO', { needTls: true }, undefined], ['NOOP', { needTls: true }, undefined], ['QUIT', { needTls: true }, undefined],
    ['AUTH', { needTls: true }, '530 5.7.0 Must issue a STARTTLS command first'],
  ];
  for (const [cmd, f, want] of cases) {
    const r = sequenceError(cmd, { ...base, ...f });
    assert.equal(r ? replyText(r) : undefined, want, `${cmd} ${JSON.stringify(f)}`);
  }
});

test('EHLO keywords in Postfix order', () => {
  const f = { myhostname: 'h', sizeLimit: 10240000, disableVrfy: false, offerStarttls: true, authMechanisms: ['PLAIN', 'LOGIN'], brokenSaslAuthClients: true, smtputf8Enable: true, discard: [] };
  assert.deepEqual(ehloKeywords(f), ['PIPELINING', 'SIZE 10240000', 'VRFY', 'ETRN', 'STARTTLS', 'AUTH PLAIN LOGIN', 'AUTH=PLAIN LOGIN', 'ENHANCEDSTATUSCODES', '8BITMIME', 'DSN', 'SMTPUTF8', 'CHUNKING']);
  assert.deepEqual(ehloKeywords({ ...f, sizeLimit: 0, disableVrfy: true, offerStarttls: false, authMechanisms: undefined, discard: ['auth', 'CHUNKING'] }),
    ['PIPELINING', 'SIZE', 'ETRN', 'ENHANCEDSTATUSCODES', '8BITMIME', 'DSN', 'SMTPUTF8']);
});

test('address extraction as Postfix smtpd', () => {
  const cases: [string, string | undefined][] = [
    ['<a@b.c>', 'a@b.c'], ['a@b.c', 'a@b.c'], ['<>', ''], ['<@r1,@r2:u@d.e>', 'u@d.e'], ['<"a b"@c.d>', '"a b"@c.d'],
    ['<a b@c>', undefined], ['<a@b.c', undefined], ['<a@>', undefined], ['<root>', 'root'], ['<u@[1.2.3.4]>', 'u@[1.2.3.4]'],
  ];
  for (const [inp, want] of cases) assert.equal(extractAddress(inp), want, inp);
  assert.deepEqual(tokenize('FROM:<a b@c> SIZE=1'), ['FROM:', '<a b@c>', 'SIZE=1']);
  assert.deepEqual(tokenize('FROM: <a@c>'), ['FROM:', '<a@c>']);
});

test('MAIL/RCPT parameters', () => {
  assert.deepEqual(parseMailArgs('FROM:<a@b> SIZE=10 BODY=8bitmime RET=hdrs ENVID=x+2By SMTPUTF8', { smtputf8Enable: true }),
    { sender: 'a@b', size: 10, body: '8BITMIME', ret: 'HDRS', envid: 'x+y', smtputf8: true });
  const err = (f: () => unknown) => { try { f(); return 'none'; } catch (e) { return replyText((e as { reply: never }).reply); } };
  assert.equal(err(() => parseMailArgs('FROM:<a@b> SMTPUTF8', { smtputf8Enable: false })), '555 5.5.4 Unsupported option: SMTPUTF8');
  assert.equal(err(() => parseMailArgs('FROM:<a@b> SIZE=1x', { smtputf8Enable: true })), '501 5.5.4 Bad message size syntax');
  assert.equal(err(() => parseRcptArgs('TO:<a@b> NOTIFY=NEVER,SUCCESS')), '501 5.5.4 Error: Bad NOTIFY parameter syntax');
  assert.deepEqual(parseRcptArgs('TO:<a@b> NOTIFY=success,delay ORCPT=rfc822;a+40b'), { address: 'a@b', notify: ['SUCCESS', 'DELAY'], orcpt: 'rfc822;a+40b' });
});
