/* Next-hop forms (transport(5)): domain, domain:port, [host], [host]:port, address literals, lists. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseDestination, NextHopError, parseNextHop, parseNextHops, parsePort } from '../../../../mta/delivery/smtp/nexthop.js';

test('next-hop forms', () => {
  const cases: Array<[string, object]> = [
    ['example.com', { text: 'example.com', host: 'example.com', port: 25, mx: true }],
    ['example.com:2525', { text: 'example.com:2525', host: 'example.com', port: 2525, mx: true }],
    ['[mail.example.com]', { text: '[mail.example.com]', host: 'mail.example.com', port: 25, mx: false }],
    ['[mail.example.com]:submission', { text: '[mail.example.com]:submission', host: 'mail.example.com', port: 587, mx: false }],
    ['[192.0.2.1]:587', { text: '[192.0.2.1]:587', host: '192.0.2.1', port: 587, mx: false, literal: 4 }],
    ['[ipv6:2001:db8::1]', { text: '[ipv6:2001:db8::1]', host: '2001:db8::1', port: 25, mx: false, literal: 6 }],
    ['[::1]:2525', { text: '[::1]:2525', host: '::1', port: 2525, mx: false, literal: 6 }],
    ['192.0.2.7', { text: '192.0.2.7', host: '192.0.2.7', port: 25, mx: false, literal: 4 }],
  ];
  for (const [input, want] of cases) assert.deepEqual(parseNextHop(input, 25), want, input);
});

test('malformed next hops are errors', () => {
  for (const bad of ['[host', '[host]x', '[]', 'host:nosuchservice', 'host:0', 'host:70000']) {
    assert.throws(() => parseNextHop(bad, 25), NextHopError, bad);
  }
});

test('lists, ports and the destination choice', () => {
  assert.deepEqual(parseNextHops('[a.test]:587, [b.test]:587', 25).map((h) => h.host), ['a.test', 'b.test']);
  assert.equal(parsePort('smtp'), 25);
  assert.equal(parsePort('submissions'), 465);
  assert.equal(parsePort('x'), undefined);
  assert.equal(chooseDestination('example.com', '[relay]', 'u@x.test'), 'example.com');
  assert.equal(chooseDestination('', '[relay]:587', 'u@x.test'), '[relay]:587');
  assert.equal(chooseDestination('', '', 'u@x.test'), 'x.test');
});
