/* Lists, booleans, time and size values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitList, splitListBraced, parseBool, parseTime, parseSize, ValueSyntaxError } from '../../../../shared/config/postfix/values.js';

const lists: Array<[string, string[]]> = [
  ['a, b c,,d\n\te', ['a', 'b', 'c', 'd', 'e']],
  ['', []],
  ['  hash:/etc/aliases, nis:mail.aliases ', ['hash:/etc/aliases', 'nis:mail.aliases']],
];
for (const [v, want] of lists) test(`splitList ${JSON.stringify(v)}`, () => assert.deepEqual(splitList(v), want));

const braced: Array<[string, string[]]> = [
  ['permit_mynetworks, { check_policy_service { inet:127.0.0.1:10023, timeout=10s } }, reject', ['permit_mynetworks', 'check_policy_service { inet:127.0.0.1:10023, timeout=10s }', 'reject']],
  ['a {b c} d', ['a', 'b c', 'd']],
  ['x{y z}w v', ['x{y z}w', 'v']],
];
for (const [v, want] of braced) test(`splitListBraced ${JSON.stringify(v)}`, () => assert.deepEqual(splitListBraced(v), want));
test('splitListBraced unbalanced', () => assert.throws(() => splitListBraced('a { b'), ValueSyntaxError));

test('booleans', () => {
  assert.equal(parseBool('yes'), true);
  assert.equal(parseBool('NO'), false);
  assert.throws(() => parseBool('true', 'biff'), /bad boolean configuration: biff = true/);
});

const times: Array<[string, 's' | 'm' | 'h' | 'd' | 'w', number]> = [
  ['300s', 's', 300], ['300', 's', 300], ['5d', 's', 432000], ['5', 'd', 432000], ['4h', 'd', 14400], ['2w', 's', 1209600], ['10m', 's', 600], ['0h', 'h', 0],
];
for (const [v, unit, want] of times) test(`time ${v} (${unit})`, () => assert.equal(parseTime(v, unit), want));
test('bad time', () => assert.throws(() => parseTime('5x'), ValueSyntaxError));
test('size', () => {
  assert.equal(parseSize('10240000'), 10240000);
  assert.throws(() => parseSize('10k'), ValueSyntaxError);
});
