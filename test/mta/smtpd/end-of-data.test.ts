/*
 * smtpd_end_of_data_restrictions, evaluated after the final `.` (and BDAT LAST) before anything is
 * queued: the replies and log lines real Postfix 3.7.11 gave for the same restrictions (recorded
 * below; the interop test replays the table against a live Postfix): REJECT, DEFER_IF_PERMIT,
 * HOLD, PREPEND (refused with a warning at this stage) and a policy service that is down.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oracleSkip } from '../../helpers/oracle.js';
import { startPostfix } from '../../helpers/postfix-instance.js';
import { queueIdsOf, startOurMta, transcript } from './milter-scenarios.js';

const C = 'from localhost[127.0.0.1]';
const ENV = 'from=<alice@example.com> to=<bob@example.org> proto=ESMTP helo=<client.example>';
const QUEUED = '250 2.0.0 Ok: queued as QID';

interface Case {
  name: string;
  restrictions: string;
  reply: string;
  log: string[];
}

const CASES: Case[] = [
  {
    name: 'REJECT',
    restrictions: 'check_client_access inline:{{127.0.0.1=REJECT no eod}}',
    reply: '554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: no eod',
    log: [`QID: reject: END-OF-MESSAGE ${C}: 554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: no eod; ${ENV}`],
  },
  {
    name: 'DEFER_IF_PERMIT',
    restrictions: 'check_client_access inline:{{127.0.0.1=DEFER_IF_PERMIT later}}, permit',
    reply: '450 4.7.1 <localhost[127.0.0.1]>: Client host rejected: later',
    log: [`QID: reject: END-OF-MESSAGE ${C}: 450 4.7.1 <localhost[127.0.0.1]>: Client host rejected: later; ${ENV}`],
  },
  {
    name: 'HOLD',
    restrictions: 'check_client_access inline:{{127.0.0.1=HOLD}}',
    reply: QUEUED,
    log: [`QID: hold: END-OF-MESSAGE ${C}: <localhost[127.0.0.1]>: Client host triggers HOLD action; ${ENV}`],
  },
  {
    name: 'PREPEND is refused at this stage',
    restrictions: 'check_sender_access inline:{{alice@example.com=PREPEND nohdr}}',
    reply: QUEUED,
    log: ['warning: access table inline:{{alice@example.com=PREPEND nohdr}}: action PREPEND must be used before smtpd_end_of_data_restrictions'],
  },
  {
    name: 'policy service down',
    restrictions: 'check_policy_service inet:127.0.0.1:1',
    reply: '451 4.3.5 <END-OF-MESSAGE>: End-of-data rejected: Server configuration problem',
    log: [`QID: reject: END-OF-MESSAGE ${C}: 451 4.3.5 <END-OF-MESSAGE>: End-of-data rejected: Server configuration problem; ${ENV}`],
  },
];

const LINES = ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', 'Subject: x\r\n\r\nbody\r\n.', 'QUIT'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function relevant(log: string, ids: readonly string[]): string[] {
  return log
    .split('\n')
    .filter((l) => /END-OF-MESSAGE|PREPEND must/.test(l))
    .map((l) => ids.reduce((s, id) => s.replaceAll(id, 'QID'), l.replace(/^.*?\]: /, '').replace(/ from [^ ]*\[127\.0\.0\.1\]:/, ' from localhost[127.0.0.1]:').replace(/<[^ >]*\[127\.0\.0\.1\]>/g, '<localhost[127.0.0.1]>')));
}

async function check(c: Case, port: number, log: () => string): Promise<void> {
  const before = log().length;
  const replies = await transcript(port, LINES);
  const fresh = () => log().slice(before);
  for (let i = 0; i < 50 && relevant(fresh(), []).length < c.log.length; i++) await sleep(100);
  const ids = queueIdsOf(replies, fresh());
  const got = ids.reduce((s, id) => s.replaceAll(id, 'QID'), replies[5] ?? '').replace(/<[^ >]*\[127\.0\.0\.1\]>/g, '<localhost[127.0.0.1]>');
  assert.equal(got, c.reply, replies.join('\n'));
  assert.equal(replies[6], '221 2.0.0 Bye');
  assert.deepEqual(relevant(fresh(), ids), c.log, fresh());
}

for (const c of CASES) {
  test(`end-of-data restrictions: ${c.name}`, async (t) => {
    const ours = await startOurMta(t, { smtpd_end_of_data_restrictions: c.restrictions, smtpd_policy_service_try_limit: '1' });
    await check(c, ours.port, ours.log);
  });
}

test('end-of-data restrictions on BDAT LAST', async (t) => {
  const ours = await startOurMta(t, { smtpd_end_of_data_restrictions: CASES[0]!.restrictions });
  const r = await transcript(ours.port, ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.org>', 'BDAT 20 LAST\r\nSubject: x\r\n\r\nbody', 'QUIT']);
  assert.equal(r[4]?.replace(/<[^ >]*\[127\.0\.0\.1\]>/, '<localhost[127.0.0.1]>'), CASES[0]!.reply);
});

test('real Postfix gives the end-of-data table', { skip: oracleSkip('postfix') }, async (t) => {
  for (const c of CASES) {
    await t.test(c.name, async (tt) => {
      const pf = await startPostfix(tt, { main: { mydestination: 'example.org', local_transport: 'discard', local_recipient_maps: '', smtpd_end_of_data_restrictions: c.restrictions, smtpd_policy_service_try_limit: '1' } });
      for (let i = 0; i < 100 && !/disconnect from/.test(pf.log()); i++) await sleep(100);
      await check(c, pf.port, pf.log);
    });
  }
});
