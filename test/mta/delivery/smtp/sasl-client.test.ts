/* SASL client pieces: password-map key order, credentials, mechanism choice, exchanges. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { answerChallenge, chooseMechanism, initialCommand, parseCredentials, passwordKeys } from '../../../../mta/delivery/smtp/sasl-client.js';

test('password map keys', () => {
  assert.deepEqual(passwordKeys({ sender: 'a@x.test', senderDependent: false, host: 'relay.test', nexthopText: '[relay.test]:587' }), ['relay.test', '[relay.test]:587']);
  assert.deepEqual(passwordKeys({ sender: 'a@x.test', senderDependent: true, host: 'relay.test', nexthopText: '[relay.test]:587' }), ['a@x.test', '@x.test', 'relay.test', '[relay.test]:587']);
  assert.deepEqual(passwordKeys({ sender: '', senderDependent: true, host: 'r', nexthopText: 'r' }), ['r']);
  assert.deepEqual(parseCredentials('user@x:pa:ss'), { username: 'user@x', password: 'pa:ss' });
});

test('mechanism choice honours smtp_sasl_security_options and the filter', () => {
  assert.equal(chooseMechanism(['PLAIN', 'LOGIN'], ['noplaintext', 'noanonymous'], []), undefined);
  assert.equal(chooseMechanism(['PLAIN', 'LOGIN', 'CRAM-MD5'], ['noplaintext'], []), 'CRAM-MD5');
  assert.equal(chooseMechanism(['LOGIN', 'PLAIN'], ['noanonymous'], []), 'PLAIN');
  assert.equal(chooseMechanism(['login', 'plain'], ['noanonymous'], ['login']), 'LOGIN');
});

test('exchanges', () => {
  const c = { username: 'u', password: 'p' };
  assert.equal(initialCommand('PLAIN', c), `AUTH PLAIN ${Buffer.from('\0u\0p').toString('base64')}`);
  assert.equal(initialCommand('LOGIN', c), 'AUTH LOGIN');
  assert.equal(answerChallenge('LOGIN', 0, 'VXNlcm5hbWU6', c), Buffer.from('u').toString('base64'));
  assert.equal(answerChallenge('LOGIN', 1, 'UGFzc3dvcmQ6', c), Buffer.from('p').toString('base64'));
  const ch = Buffer.from('<1.2@x>').toString('base64');
  const want = `u ${createHmac('md5', 'p').update('<1.2@x>').digest('hex')}`;
  assert.equal(Buffer.from(answerChallenge('CRAM-MD5', 0, ch, c)!, 'base64').toString(), want);
});
