/* The MTA parameter tables (honoured and accepted-but-ignored) agree with the Postfix 3.7.11 catalogue. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MTA_ACCEPTED_PARAMS, MTA_PARAMS, isHonoured } from '../../mta/params.js';
import { POSTFIX_PARAM_DEFAULTS } from '../../shared/config/postfix/param-catalogue.js';

const catalogue = new Map(POSTFIX_PARAM_DEFAULTS);

test('every MTA parameter is a Postfix parameter with the same default text', () => {
  for (const p of [...MTA_PARAMS, ...MTA_ACCEPTED_PARAMS]) {
    assert.ok(catalogue.has(p.name), p.name);
    assert.equal(p.default, catalogue.get(p.name), p.name);
  }
});

test('the reference §13 parameters are honoured', () => {
  for (const n of ['compatibility_level', 'myhostname', 'mydestination', 'relay_domains', 'smtpd_relay_restrictions', 'maximal_queue_lifetime', 'smtpd_timeout', 'smtpd_tls_security_level', 'smtpd_sasl_type', 'virtual_transport']) {
    assert.ok(isHonoured(n), n);
  }
  assert.equal(MTA_PARAMS.find((p) => p.name === 'maximal_queue_lifetime')?.unit, 'd');
  assert.equal(MTA_PARAMS.find((p) => p.name === 'delay_warning_time')?.unit, 'h');
});

test('catalogue is sorted and complete', () => {
  const names = POSTFIX_PARAM_DEFAULTS.map(([n]) => n);
  assert.ok(names.length > 800);
  assert.deepEqual([...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))), names);
});
