/* Key search orders against the examples and rules of access(5), virtual(5), transport(5), aliases(5). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accessAddrKeys,
  accessAddressKeys,
  accessHostKeys,
  aliasKeys,
  canonicalKeys,
  transportKeys,
  virtualKeys,
} from '../../../../shared/config/tables/search-order.js';

const cases: [string, () => string[], string[]][] = [
  ['access: plain address, subdomain matching on', () => accessAddressKeys('user@sub.example.com'), ['user@sub.example.com', 'sub.example.com', 'example.com', 'com', 'user@']],
  ['access: subdomain matching off', () => accessAddressKeys('user@sub.example.com', { parentMatchesSubdomains: false }), ['user@sub.example.com', 'sub.example.com', '.example.com', '.com', 'user@']],
  ['access: extension', () => accessAddressKeys('user+foo@example.com', { recipientDelimiter: '+' }), ['user+foo@example.com', 'user@example.com', 'example.com', 'com', 'user+foo@', 'user@']],
  ['access: null sender', () => accessAddressKeys(''), ['<>']],
  ['access: delimiter in first position is no extension', () => accessAddressKeys('+x@a.b', { recipientDelimiter: '+' }), ['+x@a.b', 'a.b', 'b', '+x@']],
  ['access: host', () => accessHostKeys('mail.example.com'), ['mail.example.com', 'example.com', 'com']],
  ['access: IPv4', () => accessAddrKeys('1.2.3.4'), ['1.2.3.4', '1.2.3', '1.2', '1']],
  ['access: IPv6', () => accessAddrKeys('2001:db8::1'), ['2001:db8::1', '2001:db8:', '2001:db8', '2001']],
  ['virtual: remote domain', () => virtualKeys('user@example.com', { localDomain: false }), ['user@example.com', '@example.com']],
  ['virtual: local domain', () => virtualKeys('user@example.com', { localDomain: true }), ['user@example.com', 'user', '@example.com']],
  ['virtual: extension, local', () => virtualKeys('user+foo@example.com', { localDomain: true, recipientDelimiter: '+' }), ['user+foo@example.com', 'user@example.com', 'user+foo', 'user', '@example.com']],
  ['virtual: several delimiters', () => virtualKeys('user-foo@ex.com', { localDomain: false, recipientDelimiter: '+-' }), ['user-foo@ex.com', 'user@ex.com', '@ex.com']],
  ['canonical: same as virtual', () => canonicalKeys('a@b.c', { localDomain: true }), ['a@b.c', 'a', '@b.c']],
  ['transport: default .domain style', () => transportKeys('user+foo@sub.example.com', { recipientDelimiter: '+' }), ['user+foo@sub.example.com', 'user@sub.example.com', 'sub.example.com', '.example.com', '.com', '*']],
  ['transport: parent style', () => transportKeys('u@example.com', { parentMatchesSubdomains: true }), ['u@example.com', 'example.com', 'com', '*']],
  ['aliases: extension', () => aliasKeys('user+foo', '+'), ['user+foo', 'user']],
  ['aliases: no extension', () => aliasKeys('postmaster', '+'), ['postmaster']],
];

for (const [name, fn, want] of cases) {
  test(`search order: ${name}`, () => assert.deepEqual(fn(), want));
}
