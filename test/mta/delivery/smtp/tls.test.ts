/*
 * STARTTLS against fake servers: opportunistic TLS, the plaintext retry after a broken handshake,
 * mandatory levels (encrypt, verify, secure), smtp_tls_CAfile, smtp_tls_policy_maps, refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSelfSigned } from '../../../../shared/tls/selfsigned.js';
import { startFakeSmtp } from '../../../helpers/smtp-sink.js';
import { tempDir } from '../../../helpers/tmp.js';
import { harness, request } from './harness.js';

const cert = makeSelfSigned({ commonName: 'ex.test', bits: 2048 });
const tls = { key: cert.keyPem, cert: cert.certPem };

test('may: STARTTLS used when offered, TLS line logged, EHLO repeated', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.20'] } });
  const srv = await startFakeSmtp(t, { host: '127.0.0.20', port: h.port, starttls: 'ok', tls });
  const out = await h.agent({ smtp_tls_security_level: 'may' }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.equal(out[0]!.kind, 'delivered');
  assert.deepEqual(srv.commands.slice(0, 3), ['EHLO client.test', 'STARTTLS', 'EHLO client.test']);
  assert.ok(h.logs.some((l) => new RegExp(`^Untrusted TLS connection established to ex\\.test\\[127\\.0\\.0\\.20\\]:${h.port}: TLSv1\\.[23] with cipher \\S+`).test(l)), h.logs.join('\n'));
});

test('may: a broken handshake is retried without TLS on a new connection', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.21'] } });
  let n = 0;
  const srv = await startFakeSmtp(t, { host: '127.0.0.21', port: h.port, starttls: 'broken', ehlo: () => (n++, undefined) });
  const out = await h.agent({ smtp_tls_security_level: 'may' }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.equal(out[0]!.kind, 'delivered', JSON.stringify(out));
  assert.equal(srv.connections, 2);
  assert.equal(srv.commands.filter((c) => c === 'STARTTLS').length, 1);
  assert.ok(h.logs.some((l) => l.startsWith(`SSL_connect error to ex.test[127.0.0.21]:${h.port}: `)));
  assert.ok(h.logs.some((l) => l.startsWith('warning: ') && l.includes('retrying the delivery without TLS')));
});

test('may: a refused STARTTLS continues in plaintext; encrypt defers', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.22'] } });
  await startFakeSmtp(t, { host: '127.0.0.22', port: h.port, starttls: '454 4.7.0 TLS not available due to local problem' });
  const a = await h.agent({ smtp_tls_security_level: 'may' }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.equal(a[0]!.kind, 'delivered');
  const b = await h.agent({ smtp_tls_security_level: 'encrypt' }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.deepEqual([b[0]!.kind, b[0]!.dsnStatus, b[0]!.kind !== 'delivered' && b[0]!.reason], [
    'deferred', '4.7.0', 'TLS is required, but host ex.test[127.0.0.22] refused to start TLS: 454 4.7.0 TLS not available due to local problem',
  ]);
});

test('encrypt: not offered, or a broken handshake, defers', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.23'] }, 'ex2.test': { A: ['127.0.0.24'] } });
  await startFakeSmtp(t, { host: '127.0.0.23', port: h.port });
  await startFakeSmtp(t, { host: '127.0.0.24', port: h.port, starttls: 'broken' });
  const agent = h.agent({ smtp_tls_security_level: 'encrypt' });
  const a = await agent.deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.deepEqual([a[0]!.kind, a[0]!.dsnStatus, a[0]!.kind !== 'delivered' && a[0]!.reason], ['deferred', '4.7.4', 'TLS is required, but was not offered by host ex.test[127.0.0.23]']);
  const b = await agent.deliver(request({ nexthop: `ex2.test:${h.port}`, to: ['a@ex2.test'] }));
  assert.deepEqual([b[0]!.kind, b[0]!.dsnStatus, b[0]!.kind !== 'delivered' && b[0]!.reason], ['deferred', '4.7.5', 'Cannot start TLS: handshake failure']);
});

test('verify and secure: trust from smtp_tls_CAfile, names from the match lists', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.25'] }, 'other.test': { A: ['127.0.0.25'] } });
  await startFakeSmtp(t, { host: '127.0.0.25', port: h.port, starttls: 'ok', tls });
  const dir = tempDir(t);
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, cert.certPem);
  const untrusted = await h.agent({ smtp_tls_security_level: 'verify' }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.deepEqual([untrusted[0]!.kind, untrusted[0]!.dsnStatus, untrusted[0]!.kind !== 'delivered' && untrusted[0]!.reason], ['deferred', '4.7.5', 'Server certificate not trusted']);
  const ok = await h.agent({ smtp_tls_security_level: 'verify', smtp_tls_CAfile: ca }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.equal(ok[0]!.kind, 'delivered', JSON.stringify(ok));
  assert.ok(h.logs.some((l) => l.startsWith(`Verified TLS connection established to ex.test[127.0.0.25]:${h.port}`)));
  const CApath = await h.agent({ smtp_tls_security_level: 'secure', smtp_tls_CApath: dir }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.equal(CApath[0]!.kind, 'delivered');
  const wrongName = await h.agent({ smtp_tls_security_level: 'secure', smtp_tls_CAfile: ca }).deliver(request({ nexthop: `other.test:${h.port}`, to: ['a@other.test'] }));
  assert.deepEqual([wrongName[0]!.kind, wrongName[0]!.kind !== 'delivered' && wrongName[0]!.reason], ['deferred', 'Server certificate not verified']);
});

test('smtp_tls_policy_maps overrides the default level per destination', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.26'] } });
  await startFakeSmtp(t, { host: '127.0.0.26', port: h.port });
  const agent = h.agent({ smtp_tls_security_level: 'none', smtp_tls_policy_maps: `inline:{ {ex.test:${h.port} = encrypt protocols=>=TLSv1.2} }` });
  const out = await agent.deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.deepEqual([out[0]!.kind, out[0]!.dsnStatus], ['deferred', '4.7.4']);
  const bad = await h.agent({ smtp_tls_policy_maps: `inline:{ {ex.test:${h.port} = bogus} }` }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.deepEqual([bad[0]!.kind, bad[0]!.kind !== 'delivered' && bad[0]!.reason], ['deferred', 'invalid TLS security level: "bogus"']);
});
