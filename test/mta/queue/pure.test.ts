/*
 * Pure queue logic: queue-ID shapes (reference/postfix.md §6.2), the backoff table (§6.4),
 * record validation, body segmentation and outcome application.
 * (The backoff code lives in mta/qmgr/backoff.ts; its table is tested here with the queue.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  base52, createQueueIdGenerator, decodeBase52, isValidQueueId, LONG_ID_ALPHABET, longQueueId, shortQueueId,
} from '../../../mta/queue/queue-id.js';
import { backoffDelaySeconds, lifetimeExpired, nextAttemptAfterDeferral } from '../../../mta/qmgr/backoff.js';
import { decodeRecord, encodeRecord, newRecord, RecordError } from '../../../mta/queue/record.js';
import { segments } from '../../../mta/queue/body.js';
import { applyOutcomes, ADMIN_EXPIRED_REASON } from '../../../mta/queue/outcomes.js';
import { DEFAULT_RETRY } from '../../../mta/queue/settings.js';

test('long-ID alphabet: 52 characters, digits and consonants only', () => {
  assert.equal(LONG_ID_ALPHABET.length, 52);
  assert.equal(new Set(LONG_ID_ALPHABET).size, 52);
  assert.doesNotMatch(LONG_ID_ALPHABET, /[AEIOUaeiou]/);
  assert.equal(decodeBase52(base52(1795801359)), 1795801359);
  assert.equal(base52(0, 4), '0000');
});

test('short queue IDs: 5 hex digits of microseconds, then the counter', () => {
  assert.equal(shortQueueId(0xa7455, 0x10e479), 'A745520E479');
  assert.equal(shortQueueId(5, 0), '00005100000');
  for (const [usec, c] of [[0, 0], [999999, 123456789], [42, 0xffffff]] as const) {
    assert.match(shortQueueId(usec, c), /^[0-9A-F]{11}$/);
  }
});

test('long queue IDs: ≥6 digits of seconds, 4 of microseconds, z, then the counter', () => {
  // The documented example 3Pt2mN2VXxznjll decodes to a 2011 timestamp with this layout.
  assert.equal(decodeBase52('3Pt2mN'), 1300631508);
  const id = longQueueId(1300631508, decodeBase52('2VXx'), 0);
  assert.equal(id.slice(0, 11), '3Pt2mN2VXxz');
  assert.match(longQueueId(1795801359, 999999, 7), /^[0-9B-Zb-z]{6}[0-9B-Zb-z]{4}z[0-9B-Zb-z]{4}$/);
});

test('the generator skips IDs still in the queue', () => {
  const gen = createQueueIdGenerator({ long: false, clockMs: () => 1795801359123.456, seed: 0 });
  const taken = new Set<string>();
  const first = gen.next(() => false);
  taken.add(first);
  const gen2 = createQueueIdGenerator({ long: false, clockMs: () => 1795801359123.456, seed: 0 });
  const second = gen2.next((id) => taken.has(id));
  assert.notEqual(second, first);
  assert.equal(first.slice(0, 5), (123456).toString(16).toUpperCase().padStart(5, '0'));
});

test('processes with their own slot never produce the same queue ID, across the wrap-around too', () => {
  // Same clock and same seed in every process: only the slot keeps them apart.
  for (const long of [false, true]) {
    for (const count of [2, 3, 7]) {
      const seen = new Map<string, number>();
      for (let index = 0; index < count; index++) {
        // Seeds near the top of the counter range, so each generator wraps around inside the loop.
        const gen = createQueueIdGenerator({ long, clockMs: () => 1795801359123.456, seed: 0x7fffffff - 50, slot: { index, count } });
        for (let i = 0; i < 200; i++) {
          const id = gen.next(() => false);
          const other = seen.get(id);
          assert.equal(other, undefined, `long=${long} count=${count}: ${id} from slots ${other} and ${index}`);
          seen.set(id, index);
        }
      }
      assert.equal(seen.size, count * 200);
    }
  }
  // The counter part of a short ID stays 6 hex digits whatever the slot.
  const gen = createQueueIdGenerator({ long: false, clockMs: () => 1795801359123.456, seed: 0xf00000 - 3, slot: { index: 6, count: 7 } });
  for (let i = 0; i < 10; i++) assert.match(gen.next(() => false), /^[0-9A-F]{5}[1-9A-F][0-9A-F]{5}$/);
});

test('queue IDs from administrators are checked like mail_queue_id_ok', () => {
  for (const ok of ['A745520E479', '3Pt2mN2VXxznjll', 'abc_1']) assert.ok(isValidQueueId(ok), ok);
  for (const bad of ['', 'bad/id', '../x', 'X1 X2', 'a'.repeat(256), 'é']) assert.ok(!isValidQueueId(bad), bad);
});

test('backoff table (reference §6.4: about 0, 5, 10, 20, 40, 80 min, then every 4000 s)', () => {
  const s = { minimalBackoffTime: 300, maximalBackoffTime: 4000 };
  const table: Array<[number, number]> = [
    [0, 300], [1, 300], [299, 300], [300, 300], [600, 600], [1200, 1200], [2400, 2400],
    [3999, 3999], [4000, 4000], [4800, 4000], [86400, 4000], [-5, 300],
  ];
  for (const [age, delay] of table) assert.equal(backoffDelaySeconds(age, s), delay, `age ${age}`);
  // Attempt times in message age, starting with the first attempt at arrival.
  let now = 0;
  const ages: number[] = [];
  for (let i = 0; i < 7; i++) {
    now = nextAttemptAfterDeferral(now, 0, s);
    ages.push(now / 1000);
  }
  assert.deepEqual(ages, [300, 600, 1200, 2400, 4800, 8800, 12800]);
  assert.equal(backoffDelaySeconds(10, { minimalBackoffTime: 600, maximalBackoffTime: 100 }), 600, 'max below min');
});

test('queue lifetime: null sender uses bounce_queue_lifetime; 0 means one attempt', () => {
  const s = { maximalQueueLifetime: 5 * 86400, bounceQueueLifetime: 86400 };
  assert.equal(lifetimeExpired(2 * 86400_000, 0, 'a@b', s), false);
  assert.equal(lifetimeExpired(2 * 86400_000, 0, '', s), true);
  assert.equal(lifetimeExpired(5 * 86400_000, 0, 'a@b', s), true);
  assert.equal(lifetimeExpired(0, 0, 'a@b', { maximalQueueLifetime: 0, bounceQueueLifetime: 0 }), true);
});

const sample = () =>
  newRecord('A745520E479', {
    sender: 'alice@virt.test',
    recipients: [
      { address: 'a@x.test', orcpt: 'rfc822;A@x.test', notify: ['FAILURE', 'DELAY'] },
      { address: 'b@y.test' },
      { address: 'c@z.test', notify: ['SUCCESS'] },
    ],
    envid: 'env123',
    ret: 'HDRS',
    attrs: { client_name: 'mail.example', client_address: '192.0.2.1', protocol: 'ESMTP' },
  }, 1_000_000, 329, 1);

test('records round-trip and bad bytes are refused with a reason', () => {
  const r = sample();
  assert.deepEqual(decodeRecord(encodeRecord(r), r.id), r);
  const bad: Array<[string | Buffer, RegExp]> = [
    [Buffer.from([0xff, 0x00, 0x13]), /JSON/],
    ['{}', /record version/],
    [JSON.stringify({ ...r, queue: 'maildrop' }), /queue name/],
    [JSON.stringify({ ...r, recipients: [] }), /recipients/],
    [JSON.stringify({ ...r, recipients: [{ address: 'x', status: 'done' }] }), /result of a done recipient/],
    [JSON.stringify({ ...r, id: '../etc' }), /queue id/],
  ];
  for (const [bytes, why] of bad) {
    assert.throws(() => decodeRecord(typeof bytes === 'string' ? Buffer.from(bytes) : bytes), (e: unknown) => e instanceof RecordError && why.test((e as Error).message));
  }
  assert.throws(() => decodeRecord(encodeRecord(r), 'OTHER'), /stored under/);
});

test('body segmentation regroups chunks without joining the whole message', () => {
  const chunks = [Buffer.from('ab'), Buffer.from('cdefg'), Buffer.from('h'), Buffer.from('ijklmnopq')];
  const segs = [...segments(chunks, 4)].map((b) => Buffer.from(b).toString());
  assert.deepEqual(segs, ['abcd', 'efgh', 'ijkl', 'mnop', 'q']);
  const big = Buffer.alloc(10);
  const parts = [...segments(big, 4)];
  assert.equal(parts[0]!.buffer, big.buffer, 'a large chunk is sliced, not copied');
  assert.deepEqual([...segments([], 4)], []);
});

test('outcomes: delivered/bounced are done, a deferral moves the message to deferred with backoff', () => {
  const r = { ...sample(), queue: 'active' as const };
  const now = 1_000_000 + 100_000;
  const res = applyOutcomes(r, [
    { index: 0, kind: 'delivered', dsnStatus: '2.0.0', reply: '250 2.0.0 Ok', relay: 'mx[192.0.2.2]:25' },
    { index: 1, kind: 'deferred', dsnStatus: '4.4.1', reason: 'connect to y.test: Connection refused' },
    { index: 2, kind: 'bounced', dsnStatus: '5.1.1', reason: 'host said: 550 5.1.1 no such user' },
    { index: 7, kind: 'delivered', dsnStatus: '2.0.0', reply: 'x' },
  ], now, DEFAULT_RETRY);
  assert.equal(res.disposition, 'deferred');
  assert.equal(res.ignored, 1);
  assert.equal(res.record.queue, 'deferred');
  assert.equal(res.record.attempts, 1);
  assert.equal(res.record.nextAttempt, now + 300_000);
  assert.deepEqual(res.record.recipients.map((x) => [x.status, x.result, x.dsnStatus]), [
    ['done', 'delivered', '2.0.0'], ['pending', undefined, '4.4.1'], ['done', 'bounced', '5.1.1'],
  ]);
  assert.equal(r.recipients[0]!.status, 'pending', 'the input record is not modified');

  const fin = applyOutcomes(res.record, [{ index: 1, kind: 'delivered', dsnStatus: '2.0.0', reply: 'ok' }], now + 400_000, DEFAULT_RETRY);
  assert.equal(fin.disposition, 'dsn-pending', 'a bounce is owed');
  assert.equal(fin.record.dsnPending, true);

  const quiet = applyOutcomes({ ...sample(), recipients: [{ address: 'q@x', status: 'pending' }] },
    [{ index: 0, kind: 'delivered', dsnStatus: '2.0.0', reply: 'ok' }], now, DEFAULT_RETRY);
  assert.equal(quiet.disposition, 'removed');
});

test('outcomes: expiry by lifetime or postsuper -e returns pending recipients, hold does not expire', () => {
  const base = { ...sample(), queue: 'active' as const };
  const old = applyOutcomes(base, [{ index: 1, kind: 'deferred', dsnStatus: '4.4.1', reason: 'Connection refused' }],
    1_000_000 + 5 * 86400_000, DEFAULT_RETRY);
  assert.equal(old.disposition, 'dsn-pending');
  assert.deepEqual(old.record.recipients.map((x) => [x.result, x.reason, x.dsnStatus]), [
    ['expired', ADMIN_EXPIRED_REASON, '4.0.0'], ['expired', 'Connection refused', '4.4.1'], ['expired', ADMIN_EXPIRED_REASON, '4.0.0'],
  ]);
  const forced = applyOutcomes({ ...base, forcedExpire: true }, [], 1_000_001, DEFAULT_RETRY);
  assert.equal(forced.disposition, 'dsn-pending');
  const held = applyOutcomes({ ...base, queue: 'hold', forcedExpire: true },
    [{ index: 0, kind: 'deferred', dsnStatus: '4.4.1', reason: 'r' }], 1_000_001, DEFAULT_RETRY);
  assert.equal(held.disposition, 'held');
  assert.equal(held.record.queue, 'hold');
  const partial = applyOutcomes(base, [{ index: 0, kind: 'delivered', dsnStatus: '2.0.0', reply: 'ok' }], 1_000_001, DEFAULT_RETRY, false);
  assert.equal(partial.disposition, 'active');
});
