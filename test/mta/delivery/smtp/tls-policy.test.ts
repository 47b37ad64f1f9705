/* TLS levels, legacy booleans, policy table values and keys, protocol ranges, certificate names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPolicy, expectedNames, nameMatches, parsePolicyValue, parseProtocols, policyKeys, TlsPolicyError, type TlsDefaults } from '../../../../mta/delivery/smtp/tls-policy.js';

const d: TlsDefaults = {
  securityLevel: '', useTls: false, enforceTls: false, enforcePeername: true, mandatoryProtocols: '>=TLSv1',
  verifyCertMatch: ['hostname'], secureCertMatch: ['nexthop', 'dot-nexthop'],
};

test('default level and legacy parameters', () => {
  assert.equal(defaultPolicy(d).level, 'none');
  assert.equal(defaultPolicy({ ...d, useTls: true }).level, 'may');
  assert.equal(defaultPolicy({ ...d, enforceTls: true }).level, 'verify');
  assert.equal(defaultPolicy({ ...d, enforceTls: true, enforcePeername: false }).level, 'encrypt');
  assert.equal(defaultPolicy({ ...d, securityLevel: 'may', enforceTls: true }).level, 'may');
  assert.equal(defaultPolicy({ ...d, securityLevel: 'dane' }).level, 'may');
  assert.equal(defaultPolicy({ ...d, securityLevel: 'encrypt' }).minVersion, 'TLSv1');
  assert.throws(() => defaultPolicy({ ...d, securityLevel: 'bogus' }), TlsPolicyError);
});

test('protocol ranges', () => {
  assert.deepEqual(parseProtocols('>=TLSv1.2'), { min: 'TLSv1.2' });
  assert.deepEqual(parseProtocols('!SSLv2, !SSLv3, !TLSv1, !TLSv1.1'), { min: 'TLSv1.2' });
  assert.deepEqual(parseProtocols('>=TLSv1 <=TLSv1.2'), { min: 'TLSv1', max: 'TLSv1.2' });
  assert.throws(() => parseProtocols('>=TLSv9'), TlsPolicyError);
});

test('policy table values and keys', () => {
  const p = parsePolicyValue('secure match=example.com:.example.com protocols=>=TLSv1.2 ciphers=high', d);
  assert.deepEqual(p, { level: 'secure', match: ['example.com', '.example.com'], minVersion: 'TLSv1.2' });
  assert.deepEqual(parsePolicyValue('fingerprint match=AA:BB|CC:DD', d).match, ['AA:BB', 'CC:DD']);
  assert.deepEqual(parsePolicyValue('verify', d).match, ['hostname']);
  assert.throws(() => parsePolicyValue('may junk', d), TlsPolicyError);
  assert.deepEqual(policyKeys('mail.example.com', 'mail.example.com', true), ['mail.example.com', '.example.com', '.com']);
  assert.deepEqual(policyKeys('[relay.test]:587', 'relay.test', false), ['[relay.test]:587']);
});

test('certificate name matching', () => {
  const want = expectedNames(['hostname', 'dot-nexthop'], { mxHost: 'mx1.example.com', nexthop: 'example.com' });
  assert.equal(nameMatches('mx1.example.com', want), true);
  assert.equal(nameMatches('*.example.com', want), true);
  assert.equal(nameMatches('other.example.com', want), true);
  assert.equal(nameMatches('example.org', want), false);
  assert.equal(nameMatches('*.com', expectedNames(['hostname'], { mxHost: 'a.b.com', nexthop: 'b.com' })), false);
});
