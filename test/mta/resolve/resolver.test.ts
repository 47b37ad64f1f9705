/*
 * trivial-rewrite: qualification, address classes (ADDRESS_CLASS_README), transports per class,
 * relayhost, transport_maps (transport(5) update rules, error:/discard:, `*`), list parameters
 * with tables and parent_domain_matches_subdomains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testResolver } from './config-helper.js';
import { tempDir } from '../../helpers/tmp.js';
import { splitDsn, splitTransport, applyTransportEntry } from '../../../mta/resolve/nexthop.js';

test('qualification: myorigin, append_dot_mydomain, trailing dot, bang path', () => {
  const r = testResolver({});
  assert.equal(r.qualify('root'), 'root@mx.example.test');
  assert.equal(r.qualify('root@Host'), 'root@host');
  assert.equal(r.qualify('root@host.example.'), 'root@host.example');
  assert.equal(r.qualify(''), '');
  assert.equal(r.qualify('host!user'), 'user@host');
  const old = testResolver({ append_dot_mydomain: 'yes', myorigin: '$mydomain' });
  assert.equal(old.qualify('root@host'), 'root@host.example.test');
  assert.equal(old.qualify('root'), 'root@example.test');
});

test('Debian myorigin = /etc/mailname reads the file', (t) => {
  const dir = tempDir(t, 'postern-mailname-');
  writeFileSync(join(dir, 'mailname'), 'mailname.example.org\n');
  const r = testResolver({ myorigin: join(dir, 'mailname') });
  assert.equal(r.qualify('someuser'), 'someuser@mailname.example.org');
});

const classCases: [string, Record<string, string>, string, string, string, string][] = [
  // address, config, class, transport, nexthop
  ['u@mx.example.test', {}, 'local', 'local', 'mx.example.test', 'mydestination default'],
  ['u@localhost', {}, 'local', 'local', 'mx.example.test', 'localhost is in mydestination'],
  ['u@[192.0.2.1]', {}, 'local', 'local', 'mx.example.test', 'interface address literal'],
  ['u@[192.0.2.9]', {}, 'default', 'smtp', '[192.0.2.9]', 'other address literal'],
  ['u', {}, 'local', 'local', 'mx.example.test', 'unqualified'],
  ['u@va.test', { virtual_alias_domains: 'va.test' }, 'virtual-alias', 'error', '5.1.1 User unknown in virtual alias table', 'virtual alias'],
  ['u@vm.test', { virtual_mailbox_domains: 'vm.test', virtual_transport: 'lmtp:unix:private/dovecot-lmtp' }, 'virtual-mailbox', 'lmtp', 'unix:private/dovecot-lmtp', 'virtual mailbox to LMTP'],
  ['u@vm.test', { virtual_mailbox_domains: 'vm.test' }, 'virtual-mailbox', 'virtual', 'vm.test', 'virtual default'],
  ['u@vm.test', { virtual_mailbox_maps: 'inline:{ vm.test=x, a@vm.test=y }' }, 'virtual-mailbox', 'virtual', 'vm.test', 'domains default to $virtual_mailbox_maps'],
  ['u@rel.test', { relay_domains: 'rel.test' }, 'relay', 'relay', 'rel.test', 'relay'],
  ['u@sub.rel.test', { relay_domains: 'rel.test' }, 'relay', 'relay', 'sub.rel.test', 'relay_domains matches subdomains'],
  ['u@sub.vm.test', { virtual_mailbox_domains: 'vm.test' }, 'default', 'smtp', 'sub.vm.test', 'virtual_mailbox_domains does not'],
  ['u@sub.vm.test', { virtual_mailbox_domains: '.vm.test' }, 'virtual-mailbox', 'virtual', 'sub.vm.test', '.domain pattern'],
  ['u@rel.test', { relay_domains: 'rel.test', relayhost: '[smart.example]:587' }, 'relay', 'relay', '[smart.example]:587', 'relayhost for relay class'],
  ['u@gmail.com', {}, 'default', 'smtp', 'gmail.com', 'default'],
  ['u@gmail.com', { relayhost: '[smart.example]:587' }, 'default', 'smtp', '[smart.example]:587', 'relayhost'],
  ['u@gmail.com', { relayhost: '[smart.example]', default_transport: 'smtp:[other.example]' }, 'default', 'smtp', '[other.example]', 'transport nexthop beats relayhost'],
  ['u@mx.example.test', { local_transport: 'lmtp:unix:private/dovecot-lmtp' }, 'local', 'lmtp', 'unix:private/dovecot-lmtp', 'local_transport'],
  ['u@rel.test', { relay_domains: 'rel.test, !sub.rel.test' }, 'relay', 'relay', 'rel.test', 'negation does not hit'],
  ['u@sub.rel.test', { relay_domains: '!sub.rel.test, rel.test' }, 'default', 'smtp', 'sub.rel.test', 'negation first'],
  ['u@x.test', { relay_domains: 'inline:{ x.test=ok }' }, 'relay', 'relay', 'x.test', 'table item'],
  ['u@a.x.test', { relay_domains: 'inline:{ x.test=ok }' }, 'relay', 'relay', 'a.x.test', 'table item, parent match'],
  ['u@a.x.test', { mydestination: 'inline:{ x.test=ok }' }, 'default', 'smtp', 'a.x.test', 'mydestination table without parent match'],
  ['u@a.x.test', { mydestination: 'inline:{ .x.test=ok }' }, 'local', 'local', 'mx.example.test', 'mydestination table .parent key'],
  ['u%gmail.com@mx.example.test', {}, 'default', 'smtp', 'gmail.com', 'percent hack routes out'],
];

for (const [address, cfg, cls, transport, nexthop, why] of classCases) {
  test(`resolve ${address}: ${why}`, () => {
    const r = testResolver(cfg).resolve(address);
    assert.deepEqual([r.addressClass, r.transport, r.nexthop], [cls, transport, nexthop]);
  });
}

test('virtual alias class carries an error', () => {
  const r = testResolver({ virtual_alias_domains: 'va.test' }).resolve('u@va.test');
  assert.deepEqual(r.error, { dsn: '5.1.1', text: 'User unknown in virtual alias table' });
});

test('transport_maps (transport(5) search order and update rules)', () => {
  const r = testResolver({
    relay_domains: 'rel.test',
    recipient_delimiter: '+',
    transport_maps:
      'inline:{ {u+x@a.test=smtp:[ext.example]}, {u@a.test=relay:[base.example]}, a.test=lmtp:inet:127.0.0.1:24, .sub.test=smtp:[sub.example], {keep.test=:[gw.example]}, {dom.test=relay:}, {err.test=error:5.1.1 no such user}, {err2.test=error:}, {disc.test=discard:silently}, {rel.test=smtp:[r.example]} }',
  });
  const t = (a: string): string => {
    const x = r.resolve(a);
    return `${x.transport}:${x.nexthop}`;
  };
  assert.equal(t('u+x@a.test'), 'smtp:[ext.example]');
  assert.equal(t('u+y@a.test'), 'relay:[base.example]');
  assert.equal(t('v@a.test'), 'lmtp:inet:127.0.0.1:24');
  assert.equal(t('v@b.sub.test'), 'smtp:[sub.example]');
  assert.equal(t('v@sub.test'), 'smtp:sub.test', '.domain matches subdomains only');
  assert.equal(t('v@keep.test'), 'smtp:[gw.example]', 'empty transport keeps the class transport');
  assert.equal(t('v@dom.test'), 'relay:dom.test', 'empty nexthop resets to the domain');
  assert.equal(t('v@err.test'), 'error:5.1.1 no such user');
  assert.deepEqual(r.resolve('v@err.test').error, { dsn: '5.1.1', text: 'no such user' });
  assert.equal(t('v@err2.test'), 'error:Address is undeliverable');
  assert.equal(t('v@disc.test'), 'discard:silently');
  assert.equal(t('v@rel.test'), 'smtp:[r.example]');
  const star = testResolver({ transport_maps: 'inline:{ {*=smtp:[catch.example]} }' });
  assert.equal(star.resolve('a@anything.test').nexthop, '[catch.example]');
});

test('nexthop helpers', () => {
  assert.deepEqual(splitTransport('smtp:[relay]:587'), { transport: 'smtp', nexthop: '[relay]:587' });
  assert.deepEqual(splitTransport('local'), { transport: 'local', nexthop: '' });
  assert.deepEqual(splitTransport(':x'), { transport: '', nexthop: 'x' });
  assert.deepEqual(applyTransportEntry({ transport: 'smtp', nexthop: 'd' }, ':', 'd'), { transport: 'smtp', nexthop: 'd' });
  assert.deepEqual(splitDsn('4.4.4 later', '5.0.0'), { dsn: '4.4.4', text: 'later' });
  assert.deepEqual(splitDsn('no code', '5.0.0'), { dsn: '5.0.0', text: 'no code' });
});
