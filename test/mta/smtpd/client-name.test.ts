/*
 * The client host name smtpd logs and checks (smtpd_peer.c): reverse name, confirmed by a forward
 * lookup, else `unknown`; and the system resolver against the system's own answer (getent, which
 * goes through the same getnameinfo/nsswitch path as Postfix).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ClientNameCache, clientHostname, normaliseAddr, systemResolver, type HostResolver } from '../../../mta/smtpd/client-name.js';

function stub(ptr: Record<string, string[]>, a: Record<string, string[]>): HostResolver {
  return {
    reverse: async (addr) => {
      const names = ptr[addr];
      if (names === undefined) throw Object.assign(new Error('no PTR'), { code: 'ENOTFOUND' });
      return names;
    },
    forward: async (name) => a[name] ?? [],
  };
}

test('clientHostname: the first reverse name whose forward lookup gives the address back', async () => {
  const r = stub(
    {
      '192.0.2.1': ['mail.example.com.'],
      '192.0.2.2': ['forged.example.com'],
      '192.0.2.3': ['bad_name!', 'ok.example.net'],
      '192.0.2.4': [],
      '2001:db8::1': ['v6.example.org'],
    },
    {
      'mail.example.com': ['192.0.2.1'],
      'forged.example.com': ['198.51.100.7'],
      'ok.example.net': ['::ffff:192.0.2.3'],
      'v6.example.org': ['2001:db8::1'],
    },
  );
  const cases: [string, string][] = [
    ['192.0.2.1', 'mail.example.com'], // trailing dot dropped
    ['192.0.2.2', 'unknown'], // forward lookup does not confirm
    ['192.0.2.3', 'ok.example.net'], // invalid name skipped; IPv4-mapped forward answer matches
    ['192.0.2.4', 'unknown'], // no names
    ['192.0.2.9', 'unknown'], // reverse lookup fails
    ['2001:db8::1', 'v6.example.org'],
  ];
  for (const [addr, want] of cases) assert.equal(await clientHostname(addr, r), want, addr);
});

test('clientHostname: a lookup that never answers gives unknown after the timeout', async () => {
  const hang: HostResolver = { reverse: () => new Promise(() => undefined), forward: async () => [] };
  assert.equal(await clientHostname('192.0.2.1', hang, 20), 'unknown');
});

test('normaliseAddr reports IPv4-mapped IPv6 as IPv4, as Postfix does', () => {
  const cases: [string, string][] = [
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['::1', '::1'],
    ['192.0.2.1', '192.0.2.1'],
  ];
  for (const [a, want] of cases) assert.equal(normaliseAddr(a), want);
});

test('the system resolver names 127.0.0.1 as getent (getnameinfo through nsswitch) does', async () => {
  const g = spawnSync('getent', ['hosts', '127.0.0.1'], { encoding: 'utf8' });
  assert.equal(g.status, 0, 'getent hosts 127.0.0.1 answers on any Debian (files in nsswitch.conf)');
  const first = g.stdout.trim().split(/\s+/)[1];
  assert.ok(first !== undefined && first !== '');
  assert.deepEqual(await systemResolver.reverse('127.0.0.1'), [first]);
  assert.equal(await clientHostname('127.0.0.1', systemResolver), first);
});

test('ClientNameCache: one lookup per address for CLIENT_NAME_TTL_MS, shared while in flight, bounded', async () => {
  let reverses = 0;
  let release: (() => void) | undefined;
  let gate: Promise<void> = Promise.resolve();
  const counting: HostResolver = {
    reverse: async (a) => {
      reverses++;
      await gate;
      return a === '192.0.2.1' ? ['mail.example.test'] : [];
    },
    forward: async (n) => (n === 'mail.example.test' ? ['192.0.2.1'] : []),
  };
  let now = 1_000;
  const cache = new ClientNameCache(counting, () => now, 5_000, 2);
  // Three connections while the first lookup runs: one lookup.
  gate = new Promise<void>((r) => { release = r; });
  const three = [cache.lookup('192.0.2.1'), cache.lookup('192.0.2.1'), cache.lookup('192.0.2.1')];
  release!();
  assert.deepEqual(await Promise.all(three), ['mail.example.test', 'mail.example.test', 'mail.example.test']);
  assert.equal(reverses, 1);
  // [time, address, expected name, expected reverse lookups so far]
  const steps: Array<[number, string, string, number]> = [
    [5_999, '192.0.2.1', 'mail.example.test', 1], // within 5 s of the lookup's end
    [6_000, '192.0.2.1', 'mail.example.test', 2], // expired: looked up again
    [6_001, '192.0.2.9', 'unknown', 3], // `unknown` is an answer like a name
    [6_002, '192.0.2.9', 'unknown', 3],
    [6_003, '192.0.2.7', 'unknown', 4], // a third address: the oldest entry (192.0.2.1) goes
    [6_004, '192.0.2.1', 'mail.example.test', 5],
  ];
  for (const [t, addr, want, lookups] of steps) {
    now = t;
    assert.equal(await cache.lookup(addr), want, `${addr} at ${t}`);
    assert.equal(reverses, lookups, `${addr} at ${t}: lookups`);
  }
});
