/* DNSBL query names, null MX, reply filters (RFC 5782, RFC 7505, postconf(5) reject_rbl_client). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsblQueryName, isNullMx, rblFilterMatches } from '../../../mta/dns/names.js';
import { createStaticDnsClient } from '../../../mta/dns/static-dns.js';

test('dnsbl query names', () => {
  assert.equal(dnsblQueryName('192.0.2.1', 'zen.example'), '1.2.0.192.zen.example');
  assert.equal(dnsblQueryName('::ffff:192.0.2.1', 'z'), '1.2.0.192.z');
  assert.equal(dnsblQueryName('2001:db8::1', 'z'), `1.0.0.0.${'0.'.repeat(20)}8.b.d.0.1.0.0.2.z`);
  assert.equal(dnsblQueryName('nope', 'z'), undefined);
});

test('null MX and filters', () => {
  assert.equal(isNullMx([{ exchange: '', priority: 0 }]), true);
  assert.equal(isNullMx([{ exchange: 'mx', priority: 0 }]), false);
  assert.equal(rblFilterMatches('127.0.0.[2..11]', '127.0.0.10'), true);
  assert.equal(rblFilterMatches('127.0.0.[2;4]', '127.0.0.3'), false);
  assert.equal(rblFilterMatches('127.0.0.2', '127.0.0.2'), true);
});

test('static zone: NXDOMAIN, NODATA, retry', async () => {
  const dns = createStaticDnsClient({ a: { 'a.example': ['192.0.2.1'] }, retry: ['slow.example'] });
  assert.deepEqual(await dns.a('A.example.'), { status: 'ok', records: ['192.0.2.1'] });
  assert.deepEqual(await dns.mx('a.example'), { status: 'notfound', records: [] });
  assert.deepEqual(await dns.mx('b.example'), { status: 'notfound', records: [], nxdomain: true });
  assert.equal((await dns.a('slow.example')).status, 'retry');
});
