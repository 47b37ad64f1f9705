/*
 * Our bounce against a real Postfix 3.7 bounce, line by line: the same message (two recipients,
 * one reason long enough to fold, ENVID) is bounced by a private real Postfix (error: transport)
 * and by our builder + cleanup over a real QueueStore; dates, queue IDs and the boundary's unix
 * time are normalised, everything else must be identical — headers in order, Received and
 * Message-Id added by cleanup, the three parts, the template text and the folding.
 * Also compares a locally submitted message (sendmail → pickup → cleanup) with ours.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oracleSkip } from '../../helpers/oracle.js';
import { capturePostfixBounce } from './postfix-sample.js';
import { cleanupFixture } from '../cleanup/helpers.js';
import { sendPendingNotices } from '../../../mta/bounce/notify.js';
import { defaultBounceSettings } from '../../../mta/bounce/settings.js';
import { postfixLogger } from '../../../shared/log/logger.js';
import { memorySink } from '../../../shared/log/sink.js';
import type { QueueRecord } from '../../../mta/queue/types.js';

const DATE = /\w{3}, [ \d]\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \([^)]+\)/g;

function normalise(text: string, ids: Record<string, string>): string[] {
  let s = text.replace(/\r\n/g, '\n').replace(DATE, 'DATE').replace(/\.\d{9,10}\//g, '.T/').replace(/<\d{14}\./g, '<STAMP.');
  for (const [id, name] of Object.entries(ids)) s = s.replaceAll(id, name);
  return s.split('\n');
}

const BODY = 'Subject: hi\nFrom: Alice <alice@sink.test>\n\nbody line\n';

test('our non-delivery notice matches real Postfix line by line', { skip: oracleSkip('postfix', 'sendmail', 'postcat') }, async (t) => {
  const pf = await capturePostfixBounce(t, BODY);
  const theirs = pf.dsn;
  const boundary = /boundary="([^"]+)"/.exec(theirs)![1]!;
  const part3 = theirs.split(`--${boundary}\n`)[3]!;
  const returned = part3.slice(part3.indexOf('\n\nReturn-Path: ') + 2).replace(/^Return-Path: .*\n/, '').replace(new RegExp(`\\n\\n--${boundary.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}--\\n?$`), '\n');
  const content = Buffer.from(returned.replace(/\n/g, '\r\n'), 'latin1');
  const arrival = Date.parse(/Arrival-Date: \w{3}, (.*) \(/.exec(theirs)![1]!);
  const record: QueueRecord = {
    v: 1,
    id: pf.origId,
    queue: 'active',
    arrivalTime: arrival,
    sender: 'alice@sink.test',
    size: content.length,
    segments: 1,
    envid: 'env123',
    forcedExpire: false,
    nextAttempt: arrival,
    attempts: 0,
    dsnPending: true,
    attrs: {},
    recipients: [
      { address: 'bob@nowhere.test', status: 'done', result: 'bounced', reason: 'mailbox unavailable', dsnStatus: '5.1.1', relay: 'none' },
      {
        address: 'carol@far.test',
        status: 'done',
        result: 'bounced',
        reason: 'delivery to this destination is not permitted by the local policy of the administrator of the receiving system',
        dsnStatus: '5.7.1',
        relay: 'none',
      },
    ],
  };
  const { store, cleanup } = cleanupFixture(t, { deps: { now: () => new Date() } });
  const sink = memorySink();
  let finished = '';
  const res = await sendPendingNotices(
    {
      cleanup,
      store: { readBody: () => content, finishDsn: async (id: string) => ((finished = id), true) },
      settings: defaultBounceSettings({ myhostname: 'mx.example.test', myorigin: 'example.test' }),
      log: postfixLogger({ sink, host: 'mx', syslogName: 'postfix', program: 'bounce', pid: 2 }),
    },
    record,
  );
  assert.equal(res.ok, true);
  assert.equal(finished, pf.origId);
  const noticeId = res.notices[0]!;
  assert.match(sink.lines[0]!, new RegExp(`postfix/bounce\\[2\\]: ${pf.origId}: sender non-delivery notification: ${noticeId}$`));
  const rec = store.get(noticeId)!;
  assert.equal(rec.sender, '');
  assert.deepEqual(rec.recipients.map((r) => r.address), ['alice@sink.test']);
  const ours = store.readBody(noticeId).toString('latin1');
  const theirId = /^\tid ([0-9A-F]+);/m.exec(theirs)![1]!;
  const a = normalise(ours, { [pf.origId]: 'ORIG', [noticeId]: 'NOTICE' });
  const b = normalise(theirs, { [pf.origId]: 'ORIG', [theirId]: 'NOTICE' });
  if (a[a.length - 1] === '') a.pop();
  if (b[b.length - 1] === '') b.pop();
  assert.deepEqual(a, b);
});

test('a locally submitted message gets the same added fields as real Postfix pickup', { skip: oracleSkip('postfix', 'sendmail', 'postcat') }, async (t) => {
  const pf = await capturePostfixBounce(t, BODY);
  const { store, cleanup } = cleanupFixture(t, { deps: { now: () => new Date() } });
  const res = await cleanup.submit(
    { origin: 'pickup', sender: 'carol@sink.test', recipients: [{ address: 'dave@sink.test' }], localUid: 0, fullName: 'Carol Q' },
    Buffer.from('Subject: local\n\nhello\n'),
  );
  assert.equal(res.kind, 'queued');
  const id = (res as { queueId: string }).queueId;
  const a = normalise(store.readBody(id).toString('latin1'), { [id]: 'QID' });
  const b = normalise(pf.local, { [pf.localId]: 'QID' });
  if (a[a.length - 1] === '') a.pop();
  if (b[b.length - 1] === '') b.pop();
  assert.deepEqual(a, b);
});
