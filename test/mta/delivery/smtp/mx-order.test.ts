/* MX ordering, null MX, loop truncation, address limits and inet_protocols (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNullMx, orderAddresses, orderMx, parseInetProtocols, targets, truncateSelf } from '../../../../mta/delivery/smtp/mx-order.js';

const seq = (...xs: number[]) => {
  let i = 0;
  return () => xs[i++ % xs.length]!;
};

test('MX records are sorted by preference; equal preferences are shuffled', () => {
  const recs = [
    { exchange: 'c.test', priority: 20 },
    { exchange: 'a.test', priority: 10 },
    { exchange: 'b.test', priority: 10 },
    { exchange: 'd.test', priority: 5 },
  ];
  assert.deepEqual(orderMx(recs, () => 0.99).map((r) => r.exchange), ['d.test', 'a.test', 'b.test', 'c.test']);
  assert.deepEqual(orderMx(recs, () => 0).map((r) => r.exchange), ['d.test', 'b.test', 'a.test', 'c.test']);
  // Both orders of the equal pair occur over many draws.
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) seen.add(orderMx(recs).map((r) => r.exchange).join(','));
  assert.equal(seen.size, 2);
  // Duplicate exchanges and "." entries are dropped.
  assert.deepEqual(orderMx([{ exchange: 'a.test.', priority: 1 }, { exchange: 'A.test', priority: 1 }, { exchange: '', priority: 0 }], seq(0.5)).length, 1);
});

test('null MX (RFC 7505)', () => {
  assert.equal(isNullMx([{ exchange: '', priority: 0 }]), true);
  assert.equal(isNullMx([{ exchange: '.', priority: 0 }]), true);
  assert.equal(isNullMx([{ exchange: '', priority: 0 }, { exchange: 'mx.test', priority: 10 }]), false);
  assert.equal(isNullMx([{ exchange: 'mx.test', priority: 0 }]), false);
});

test('loop detection keeps only better MX hosts', () => {
  const hosts = [
    { host: 'mx1', pref: 10, addrs: ['192.0.2.1'] },
    { host: 'me', pref: 20, addrs: ['198.51.100.7'] },
    { host: 'mx3', pref: 30, addrs: ['192.0.2.3'] },
  ];
  const own = (a: string) => a === '198.51.100.7';
  assert.deepEqual(truncateSelf(hosts, own), { kind: 'ok', hosts: [hosts[0]] });
  assert.deepEqual(truncateSelf(hosts.slice(1), own), { kind: 'loop' });
  assert.deepEqual(truncateSelf(hosts, () => false), { kind: 'ok', hosts });
});

test('address ordering, limits and protocols', () => {
  assert.deepEqual(orderAddresses(['1.1.1.1', '2.2.2.2'], ['::1'], { randomize: false, balance: true }), ['::1', '1.1.1.1', '2.2.2.2']);
  assert.deepEqual(orderAddresses(['1.1.1.1'], [], { randomize: false, balance: true }), ['1.1.1.1']);
  const hosts = [
    { host: 'a', pref: 10, addrs: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] },
    { host: 'b', pref: 20, addrs: ['10.0.0.4', '10.0.0.1', '10.0.0.5'] },
  ];
  assert.deepEqual(targets(hosts, 4).map((t) => t.addr), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
  assert.equal(targets(hosts, 0).length, 5);
  assert.deepEqual(parseInetProtocols(['all']), { v4: true, v6: true });
  assert.deepEqual(parseInetProtocols(['ipv4']), { v4: true, v6: false });
  assert.deepEqual(parseInetProtocols(['ipv6']), { v4: false, v6: true });
  assert.deepEqual(parseInetProtocols(['ipv4', 'ipv6']), { v4: true, v6: true });
});
