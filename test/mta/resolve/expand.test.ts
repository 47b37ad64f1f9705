/*
 * virtual_alias_maps and alias_maps expansion (virtual(5), aliases(5)), recursion and expansion
 * limits, @domain catch-alls, @otherdomain results, propagate_unmatched_extensions, and the
 * canonical maps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testResolver } from './config-helper.js';
import { expandAliases, expandRecipient, expandVirtual, splitAliasTargets } from '../../../mta/resolve/expand.js';
import { createCanonicalizer } from '../../../mta/resolve/canonical.js';

const VIRTUAL =
  'inline:{ {a@v.test=b@v.test, c@else.test}, {b@v.test=real@mx.example.test}, {self@v.test=self@v.test, copy@else.test}, ' +
  '{@catch.test=all@mx.example.test}, {x@catch.test=x-special@else.test}, {u@other.test=@new.test}, {loop1@v.test=loop2@v.test}, ' +
  '{loop2@v.test=loop1@v.test}, {bare@v.test=postmaster}, {localuser=lu@else.test}, {ext@v.test=target@else.test} }';

const r = testResolver({ virtual_alias_domains: 'v.test catch.test other.test', virtual_alias_maps: VIRTUAL, recipient_delimiter: '+', virtual_alias_recursion_limit: '20', virtual_alias_expansion_limit: '50' });

const cases: [string, string[] | string][] = [
  ['a@v.test', ['real@mx.example.test', 'c@else.test']],
  ['self@v.test', ['self@v.test', 'copy@else.test']],
  ['nobody@catch.test', ['all@mx.example.test']],
  ['x@catch.test', ['x-special@else.test']],
  ['u@other.test', ['u@new.test']],
  ['bare@v.test', ['postmaster@mx.example.test']],
  ['localuser@mx.example.test', ['lu@else.test']],
  ['localuser@remote.test', ['localuser@remote.test']],
  ['ext+tag@v.test', ['target+tag@else.test']],
  ['unrelated@else.test', ['unrelated@else.test']],
  ['loop1@v.test', 'error'],
];

for (const [input, expected] of cases) {
  test(`virtual expansion ${input}`, () => {
    const got = expandVirtual(r, input);
    if (expected === 'error') {
      assert.equal(got.kind, 'error');
      if (got.kind === 'error') {
        assert.equal(got.dsn, '4.6.0');
        assert.match(got.logDetail ?? '', /unreasonable virtual_alias_maps map nesting/);
      }
    } else assert.deepEqual(got, { kind: 'addresses', addresses: expected });
  });
}

test('expansion size limit', () => {
  const many = Array.from({ length: 60 }, (_, i) => `m${i}@else.test`).join(', ');
  const big = testResolver({ virtual_alias_maps: `inline:{ {big@mx.example.test=${many}} }`, virtual_alias_expansion_limit: '50' });
  const got = expandVirtual(big, 'big@mx.example.test');
  assert.equal(got.kind, 'error');
});

test('extension not propagated when virtual is not in propagate_unmatched_extensions', () => {
  const np = testResolver({ virtual_alias_maps: 'inline:{ {ext@v.test=target@else.test} }', recipient_delimiter: '+', propagate_unmatched_extensions: 'canonical' });
  assert.deepEqual(expandVirtual(np, 'ext+tag@v.test'), { kind: 'addresses', addresses: ['target@else.test'] });
});

test('aliases: local class only, recursion, self reference, unsupported targets', () => {
  const a = testResolver({
    alias_maps: 'inline:{ {postmaster=root}, {root=admin, /var/log/root.mail}, {admin=admin, |/usr/bin/procmail, "|/bin/x a,b"}, {list=:include:/etc/list, other@else.test} }',
  });
  const got = expandAliases(a, ['postmaster@mx.example.test', 'postmaster@else.test', 'list@localhost']);
  assert.equal(got.kind, 'addresses');
  if (got.kind !== 'addresses') return;
  assert.deepEqual(got.addresses, ['admin@mx.example.test', 'postmaster@else.test', 'other@else.test']);
  assert.deepEqual(got.unsupported?.map((u) => u.target).sort(), ['/var/log/root.mail', ':include:/etc/list', '|/bin/x a,b', '|/usr/bin/procmail']);
  const both = testResolver({ virtual_alias_maps: 'inline:{ {info@mx.example.test=postmaster} }', alias_maps: 'inline:{ {postmaster=boss} }' });
  assert.deepEqual(expandRecipient(both, 'info@mx.example.test'), { kind: 'addresses', addresses: ['boss@mx.example.test'] });
  assert.deepEqual(expandRecipient(both, 'info@mx.example.test', { aliases: false }), { kind: 'addresses', addresses: ['postmaster@mx.example.test'] });
});

test('alias target splitting', () => {
  assert.deepEqual(splitAliasTargets('a, b c,"|cmd x, y", /f, :include:/l'), ['a', 'b', 'c', '|cmd x, y', '/f', ':include:/l']);
});

test('canonical maps: sender, recipient, classes, extensions', () => {
  const c = createCanonicalizer(
    testResolver({
      recipient_delimiter: '+',
      canonical_maps: 'inline:{ {joe@mx.example.test=Joe.User@example.test}, {@old.test=@new.test} }',
      sender_canonical_maps: 'inline:{ {www=webmaster@example.test} }',
      recipient_canonical_maps: 'inline:{ {r@x.test=r2@x.test} }',
    }),
  );
  assert.equal(c.sender('joe'), 'Joe.User@example.test');
  assert.equal(c.sender('joe+a@mx.example.test'), 'Joe.User+a@example.test');
  assert.equal(c.sender('www@mx.example.test'), 'webmaster@example.test');
  assert.equal(c.recipient('www@mx.example.test'), 'www@mx.example.test');
  assert.equal(c.recipient('r@x.test'), 'r2@x.test');
  assert.equal(c.recipient('someone@old.test'), 'someone@new.test');
  assert.equal(c.sender(''), '');
  const limited = createCanonicalizer(testResolver({ canonical_classes: 'envelope_recipient', canonical_maps: 'inline:{ {joe@mx.example.test=j@x.test} }' }));
  assert.equal(limited.sender('joe@mx.example.test'), 'joe@mx.example.test');
  assert.equal(limited.recipient('joe@mx.example.test'), 'j@x.test');
});
