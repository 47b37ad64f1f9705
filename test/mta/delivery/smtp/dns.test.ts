/* The loopback DNS responder and nodeDns(): MX (incl. null MX), A, AAAA, NXDOMAIN, NODATA, SERVFAIL. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer } from '../../../helpers/dns-server.js';
import { DnsError, nodeDns } from '../../../../mta/delivery/smtp/dns.js';

test('nodeDns against the loopback responder', async (t) => {
  const srv = await startDnsServer(t, {
    'example.test': { MX: [{ pref: 10, exchange: 'mx1.example.test' }, { pref: 20, exchange: 'mx2.example.test' }], A: ['127.0.0.9'] },
    'mx1.example.test': { A: ['127.0.0.11'], AAAA: ['::1'] },
    'null.test': { MX: [{ pref: 0, exchange: '' }] },
    'nomx.test': { A: ['127.0.0.12'] },
  });
  srv.servfail.add('broken.test');
  const dns = nodeDns({ servers: [srv.address], timeoutMs: 500, tries: 1 });
  const mx = await dns.mx('example.test');
  assert.deepEqual(mx.sort((a, b) => a.priority - b.priority), [
    { exchange: 'mx1.example.test', priority: 10 },
    { exchange: 'mx2.example.test', priority: 20 },
  ]);
  assert.deepEqual(await dns.addrs('mx1.example.test', 4), ['127.0.0.11']);
  assert.deepEqual(await dns.addrs('mx1.example.test', 6), ['::1']);
  const nullMx = await dns.mx('null.test');
  assert.equal(nullMx.length, 1);
  assert.equal(nullMx[0]!.exchange.replace(/\.$/, ''), '');
  await assert.rejects(dns.mx('nomx.test'), (e: unknown) => e instanceof DnsError && e.kind === 'notfound');
  await assert.rejects(dns.mx('nosuch.test'), (e: unknown) => e instanceof DnsError && e.kind === 'notfound'
    && e.message === 'Name service error for name=nosuch.test type=MX: Host not found');
  await assert.rejects(dns.mx('broken.test'), (e: unknown) => e instanceof DnsError && e.kind === 'temp'
    && e.message.endsWith('Host not found, try again'));
  assert.ok(srv.queries.includes('example.test/MX'));
});
