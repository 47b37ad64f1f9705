/* The master(8) log events the daemon writes, as observed from Postfix 3.7.11's master. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mtaEvents } from '../../mta/log-events.js';
import { outcomeLines, delaysOf } from '../../mta/delivery/log-outcome.js';

test('master events', () => {
  assert.equal(mtaEvents.master.started('3.7.11', '/tmp/pfx/etc'), 'daemon started -- version 3.7.11, configuration /tmp/pfx/etc');
  assert.equal(mtaEvents.master.reload('3.7.11', '/etc/postfix'), 'reload -- version 3.7.11, configuration /etc/postfix');
  assert.equal(mtaEvents.master.terminating(15), 'terminating on signal 15');
});

test('delivery outcome lines: delays a/b/c/d and orig_to', () => {
  const t = { arrival: 0, active: 10, dispatched: 20, setupDone: 60, done: 110 };
  assert.deepEqual(delaysOf(t), { delay: 0.11, delays: [0.01, 0.01, 0.04, 0.05] });
  const lines = outcomeLines('74E7120E224', [{ index: 0, address: 'u6@test.example', originalAddress: 'alias@test.example' }],
    [{ index: 0, kind: 'delivered', dsnStatus: '2.0.0', reply: '250 2.0.0 rcpt 1 saved', relay: '127.0.0.1[127.0.0.1]:24' }], t);
  assert.deepEqual(lines, ['74E7120E224: to=<u6@test.example>, orig_to=<alias@test.example>, relay=127.0.0.1[127.0.0.1]:24, delay=0.11, delays=0.01/0.01/0.04/0.05, dsn=2.0.0, status=sent (250 2.0.0 rcpt 1 saved)']);
});
