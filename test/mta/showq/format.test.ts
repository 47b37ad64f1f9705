/* mailq / postqueue -j layouts against the listing observed from Postfix 3.7.11 (reference/postfix.md §5.2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asctime, formatJsonLine, formatMailq, jsonQuote, type ShowqMessage } from '../../../mta/showq/format.js';

// 17:42:39 local time on Fri Nov 27 2026, whatever the machine's zone.
const arrival = Math.floor(new Date(2026, 10, 27, 17, 42, 39).getTime() / 1000);

const deferred: ShowqMessage = {
  queueName: 'deferred',
  queueId: 'A745520E479',
  arrivalTime: arrival,
  size: 329,
  forcedExpire: false,
  sender: 'alice@virt.test',
  recipients: [
    { address: 'alice@virt.test', delayReason: 'connect to mx.example.test[private/dovecot-lmtp]: No such file or directory' },
    { address: 'bob@gmail.com', delayReason: 'connect to 127.0.0.1[127.0.0.1]:19999: Connection refused' },
  ],
};

test('asctime', () => {
  assert.equal(asctime(arrival), 'Fri Nov 27 17:42:39 2026');
  assert.equal(asctime(Math.floor(new Date(2026, 0, 5, 1, 2, 3).getTime() / 1000)), 'Mon Jan  5 01:02:03 2026');
});

test('mailq listing matches the observed layout byte for byte', () => {
  const second: ShowqMessage = { ...deferred, queueId: 'B12345678AB', size: 400, recipients: [{ address: 'c@d.test', delayReason: '' }] };
  const want = [
    '-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------',
    'A745520E479     329 Fri Nov 27 17:42:39  alice@virt.test',
    ' (connect to mx.example.test[private/dovecot-lmtp]: No such file or directory)',
    '                                         alice@virt.test',
    '                   (connect to 127.0.0.1[127.0.0.1]:19999: Connection refused)',
    '                                         bob@gmail.com',
    '',
    'B12345678AB     400 Fri Nov 27 17:42:39  alice@virt.test',
    '                                         c@d.test',
    '',
    '-- 0 Kbytes in 2 Requests.',
    '',
  ].join('\n');
  assert.equal(formatMailq([deferred, second]), want);
});

test('status suffixes, null sender, reason changes, singular summary', () => {
  const m: ShowqMessage = {
    ...deferred,
    queueName: 'hold',
    forcedExpire: true,
    sender: '',
    size: 2048,
    recipients: [
      { address: 'a@x', delayReason: 'r1' },
      { address: 'b@x', delayReason: 'r1' },
      { address: 'c@x', delayReason: '' },
    ],
  };
  const lines = formatMailq([m]).split('\n');
  assert.equal(lines[1], 'A745520E479!#    2048 Fri Nov 27 17:42:39  MAILER-DAEMON');
  assert.equal(lines[2], `${' '.repeat(74)}(r1)`);
  assert.equal(lines[5], `${' '.repeat(58)}(reason unavailable)`);
  assert.equal(lines.at(-2), '-- 2 Kbytes in 1 Request.');
  assert.equal(formatMailq([{ ...m, queueName: 'active', forcedExpire: false }]).split('\n')[1]?.slice(0, 12), 'A745520E479*');
  assert.equal(formatMailq([]), 'Mail queue is empty\n');
});

test('long queue IDs widen the columns', () => {
  const lines = formatMailq([{ ...deferred, queueId: '3Pt2mN2VXxznjll', recipients: [] }], true).split('\n');
  assert.equal(lines[0], '----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------');
  assert.equal(lines[1], '3Pt2mN2VXxznjll        329 Fri Nov 27 17:42:39 alice@virt.test');
});

test('postqueue -j line: member order, spacing, omitted empty reason, escaping', () => {
  assert.equal(
    formatJsonLine({ ...deferred, recipients: [deferred.recipients[1]!, { address: 'x@y', delayReason: '' }] }),
    `{"queue_name": "deferred", "queue_id": "A745520E479", "arrival_time": ${arrival}, "message_size": 329, ` +
      '"forced_expire": false, "sender": "alice@virt.test", "recipients": [{"address": "bob@gmail.com", ' +
      '"delay_reason": "connect to 127.0.0.1[127.0.0.1]:19999: Connection refused"}, {"address": "x@y"}]}',
  );
  assert.equal(jsonQuote('a"b\\c\n\t\x01é'), '"a\\"b\\\\c\\n\\t\\u0001é"');
});
