/* Next hop → addresses with an in-memory DNS: fall-back to A, null MX, NXDOMAIN, SERVFAIL, loops, limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsError, type SmtpDns } from '../../../../mta/delivery/smtp/dns.js';
import { parseNextHop } from '../../../../mta/delivery/smtp/nexthop.js';
import { resolveRoute, type RouteOptions } from '../../../../mta/delivery/smtp/route.js';

type Z = Record<string, { MX?: Array<[number, string]>; A?: string[]; AAAA?: string[]; fail?: boolean }>;
function memDns(z: Z): SmtpDns {
  return {
    async mx(n) {
      const e = z[n];
      if (e?.fail) throw new DnsError('temp', n, 'MX');
      if (!e?.MX) throw new DnsError('notfound', n, 'MX');
      return e.MX.map(([priority, exchange]) => ({ priority, exchange }));
    },
    async addrs(n, f) {
      const e = z[n];
      if (e?.fail) throw new DnsError('temp', n, f === 4 ? 'A' : 'AAAA');
      const a = f === 4 ? e?.A : e?.AAAA;
      if (!a || a.length === 0) throw new DnsError('notfound', n, f === 4 ? 'A' : 'AAAA');
      return a;
    },
  };
}

const zone: Z = {
  'ex.test': { MX: [[20, 'mx2.ex.test'], [10, 'mx1.ex.test']] },
  'mx1.ex.test': { A: ['10.0.0.1', '10.0.0.2'], AAAA: ['fd00::1'] },
  'mx2.ex.test': { A: ['10.0.0.3'] },
  'nomx.test': { A: ['10.0.0.9'] },
  'null.test': { MX: [[0, '']] },
  'temp.test': { fail: true },
  'self.test': { MX: [[10, 'me.test'], [20, 'mx2.ex.test']] },
  'me.test': { A: ['198.51.100.7'] },
  'lame.test': { MX: [[10, 'noaddr.test']] },
};
const opts = (o: Partial<RouteOptions> = {}): RouteOptions => ({
  dns: memDns(zone), protocols: { v4: true, v6: true }, addressLimit: 5, isOwn: (a) => a === '198.51.100.7',
  defaultPort: 25, randomize: false, balance: true, ...o,
});

test('MX hosts in preference order, addresses interleaved, address limit', async () => {
  const r = await resolveRoute(parseNextHop('ex.test', 25), opts());
  assert.deepEqual(r.kind === 'targets' && r.targets.map((t) => `${t.host}/${t.addr}`), ['mx1.ex.test/fd00::1', 'mx1.ex.test/10.0.0.1', 'mx1.ex.test/10.0.0.2', 'mx2.ex.test/10.0.0.3']);
  const l = await resolveRoute(parseNextHop('ex.test', 25), opts({ addressLimit: 2, protocols: { v4: true, v6: false } }));
  assert.deepEqual(l.kind === 'targets' && l.targets.map((t) => t.addr), ['10.0.0.1', '10.0.0.2']);
});

test('no MX: the domain itself; [host]: no MX lookup; literals: no DNS', async () => {
  const r = await resolveRoute(parseNextHop('nomx.test', 25), opts());
  assert.deepEqual(r.kind === 'targets' && r.targets.map((t) => t.addr), ['10.0.0.9']);
  const b = await resolveRoute(parseNextHop('[mx2.ex.test]:587', 25), opts());
  assert.deepEqual(b.kind === 'targets' && b.targets.map((t) => `${t.host}/${t.addr}`), ['mx2.ex.test/10.0.0.3']);
  const lit = await resolveRoute(parseNextHop('[192.0.2.1]', 25), opts());
  assert.deepEqual(lit.kind === 'targets' && lit.targets.map((t) => t.addr), ['192.0.2.1']);
});

test('failures with Postfix texts', async () => {
  assert.deepEqual(await resolveRoute(parseNextHop('null.test', 25), opts()), {
    kind: 'fail', permanent: true, dsn: '5.1.0', reason: 'Domain null.test does not accept mail (nullMX)',
  });
  assert.deepEqual(await resolveRoute(parseNextHop('nosuch.test', 25), opts({ protocols: { v4: true, v6: false } })), {
    kind: 'fail', permanent: true, dsn: '5.4.4', reason: 'Host or domain name not found. Name service error for name=nosuch.test type=A: Host not found',
  });
  assert.deepEqual(await resolveRoute(parseNextHop('temp.test', 25), opts()), {
    kind: 'fail', permanent: false, dsn: '4.4.3', reason: 'Host or domain name not found. Name service error for name=temp.test type=MX: Host not found, try again',
  });
  const lame = await resolveRoute(parseNextHop('lame.test', 25), opts({ protocols: { v4: true, v6: false } }));
  assert.equal(lame.kind === 'fail' && lame.reason, 'Host or domain name not found. Name service error for name=noaddr.test type=A: Host not found');
});

test('loop detection: own address as MX', async () => {
  const r = await resolveRoute(parseNextHop('self.test', 25), opts({ isOwn: (a) => a === '10.0.0.3' }));
  assert.deepEqual(r.kind === 'targets' && r.targets.map((t) => t.addr), ['198.51.100.7']);
  assert.deepEqual(await resolveRoute(parseNextHop('self.test', 25), opts()), {
    kind: 'fail', permanent: true, dsn: '5.4.6', reason: 'mail for self.test loops back to myself',
  });
  // Not on other ports (content filters on loopback).
  const f = await resolveRoute(parseNextHop('[me.test]:10025', 25), opts());
  assert.equal(f.kind, 'targets');
});
