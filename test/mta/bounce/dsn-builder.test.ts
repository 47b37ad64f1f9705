/*
 * The notice builder as tables: line_wrap folding (against the real Postfix sample's lines),
 * remote-MTA parsing, per-recipient reports, headers-only returns (RET=HDRS, bounce_size_limit,
 * delay warnings), and which notices a finished message owes (NOTIFY, null sender, notify_classes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineWrap } from '../../../mta/bounce/line-wrap.js';
import { buildDsn, parseRemoteReason, recipientLine, recipientReport } from '../../../mta/bounce/dsn-builder.js';
import { plannedNotices } from '../../../mta/bounce/notify.js';
import { defaultBounceSettings } from '../../../mta/bounce/settings.js';
import type { QueueRecord, RecipientRecord } from '../../../mta/queue/types.js';

test('lineWrap folds as Postfix (79, indent 4)', () => {
  assert.deepEqual(lineWrap('Diagnostic-Code: X-Postfix; connect to 127.0.0.1[127.0.0.1]:19999: Connection refused'), [
    'Diagnostic-Code: X-Postfix; connect to 127.0.0.1[127.0.0.1]:19999: Connection',
    '    refused',
  ]);
  assert.deepEqual(lineWrap('<carol@far.test>: delivery to this destination is not permitted by the local policy of the administrator of the receiving system'), [
    '<carol@far.test>: delivery to this destination is not permitted by the local',
    '    policy of the administrator of the receiving system',
  ]);
  assert.deepEqual(lineWrap('short'), ['short']);
  assert.deepEqual(lineWrap(`x ${'y'.repeat(100)}`), ['x', `    ${'y'.repeat(100)}`]);
});

test('parseRemoteReason and recipient reports', () => {
  assert.deepEqual(parseRemoteReason('host mx.example.com[192.0.2.1] said: 550 5.1.1 <b@x>: Recipient address rejected: User unknown (in reply to RCPT TO command)'), {
    mta: 'mx.example.com',
    reply: '550 5.1.1 <b@x>: Recipient address rejected: User unknown',
  });
  assert.equal(parseRemoteReason('connect to x[1.2.3.4]:25: Connection refused'), undefined);
  const r: RecipientRecord = { address: 'b@x', originalAddress: 'alias@x', status: 'done', result: 'bounced', dsnStatus: '5.1.1', reason: 'host mx.example.com[192.0.2.1] said: 550 5.1.1 unknown (in reply to RCPT TO command)' };
  assert.equal(recipientLine(r), `<b@x> (expanded from <alias@x>): ${r.reason}`);
  assert.deepEqual(recipientReport('failure', r), [
    'Final-Recipient: rfc822; b@x',
    'Original-Recipient: rfc822;alias@x',
    'Action: failed',
    'Status: 5.1.1',
    'Remote-MTA: dns; mx.example.com',
    'Diagnostic-Code: smtp; 550 5.1.1 unknown',
  ]);
  assert.deepEqual(recipientReport('delay', { address: 'c@x', orcpt: 'rfc822;C@x', status: 'pending', dsnStatus: '4.4.1', reason: 'timeout' }).slice(1, 4), [
    'Original-Recipient: rfc822;C@x',
    'Action: delayed',
    'Status: 4.4.1',
  ]);
});

const rec = (over: Partial<QueueRecord> = {}): QueueRecord => ({
  v: 1, id: 'A745520E479', queue: 'active', arrivalTime: Date.UTC(2026, 10, 27, 17, 42, 39), sender: 'alice@virt.test', size: 40, segments: 1,
  forcedExpire: false, nextAttempt: 0, attempts: 0, attrs: {},
  recipients: [{ address: 'bob@x.test', status: 'done', result: 'bounced', dsnStatus: '5.1.1', reason: 'no' }],
  ...over,
});
const content = Buffer.from('Subject: s\r\nFrom: a@b\r\n\r\nthe body\r\n');
const build = (over: Partial<Parameters<typeof buildDsn>[0]> = {}) =>
  buildDsn({ kind: 'failure', record: rec(), recipients: rec().recipients, content, to: 'alice@virt.test', myhostname: 'mx.example.test', myorigin: 'example.test', now: new Date(Date.UTC(2026, 10, 27, 17, 42, 51)), bounceSizeLimit: 50000, charset: 'utf-8', ...over }).toString();

test('returned message: full, headers only for RET=HDRS, over bounce_size_limit, and for delay warnings', () => {
  const full = build();
  assert.match(full, /boundary="A745520E479\.1795801371\/mx\.example\.test"/);
  assert.match(full, /Content-Description: Undelivered Message\r\nContent-Type: message\/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\nReturn-Path: <alice@virt\.test>\r\nSubject: s\r\nFrom: a@b\r\n\r\nthe body\r\n\r\n--A745520E479\.1795801371\/mx\.example\.test--\r\n$/);
  for (const b of [build({ record: rec({ ret: 'HDRS' }) }), build({ bounceSizeLimit: 10 })]) {
    assert.match(b, /Content-Description: Undelivered Message Headers\r\nContent-Type: text\/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\nReturn-Path: <alice@virt\.test>\r\nSubject: s\r\nFrom: a@b\r\n\r\n--A745520E479/);
    assert.doesNotMatch(b, /the body/);
  }
  const delay = build({ kind: 'delay', delayWarningHours: 4, maximalQueueLifetimeDays: 5 });
  assert.match(delay, /Subject: Delayed Mail \(still being retried\)/);
  assert.match(delay, /for more than 4 hour\(s\)\.\r\nIt will be retried until it is 5 day\(s\) old\./);
  assert.match(delay, /Action: delayed/);
  assert.doesNotMatch(delay, /the body/);
  assert.match(build({ postmaster: true, to: 'postmaster@example.test' }), /Subject: Postmaster Copy: Undelivered Mail\r\nTo: postmaster@example\.test/);
});

test('plannedNotices: NOTIFY, null sender (2bounce), notify_classes bounce, success', () => {
  const s = defaultBounceSettings({ myorigin: 'example.test' });
  const failed: RecipientRecord = { address: 'b@x', status: 'done', result: 'bounced' };
  assert.deepEqual(plannedNotices(rec({ recipients: [failed] }), s).map((n) => [n.event, n.to, n.sender]), [['sender', 'alice@virt.test', '']]);
  assert.deepEqual(plannedNotices(rec({ recipients: [{ ...failed, notify: ['NEVER'] }] }), s), []);
  assert.deepEqual(plannedNotices(rec({ sender: '', recipients: [failed] }), s).map((n) => [n.event, n.to, n.sender]), [['postmaster', 'postmaster@example.test', 'double-bounce@example.test']]);
  assert.deepEqual(plannedNotices(rec({ sender: 'double-bounce@example.test', recipients: [failed] }), s), []);
  assert.deepEqual(plannedNotices(rec({ recipients: [failed] }), { ...s, notifyClasses: ['bounce'] }).map((n) => n.event), ['sender', 'postmaster']);
  const ok: RecipientRecord = { address: 'c@x', status: 'done', result: 'delivered', notify: ['SUCCESS'] };
  assert.deepEqual(plannedNotices(rec({ recipients: [ok, { ...ok, notify: undefined }] }), s).map((n) => [n.kind, n.recipients.length]), [['success', 1]]);
});
