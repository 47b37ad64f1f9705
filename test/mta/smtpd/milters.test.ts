/*
 * smtpd_milters end to end in our MTA: for each scenario of milter-scenarios.ts (a scripted fake
 * milter answering REJECT, TEMPFAIL, a reply code, SHUTDOWN, DISCARD or QUARANTINE at connect, HELO,
 * MAIL, RCPT, DATA or end of message) the SMTP replies and the `milter-…` log lines must be those
 * real Postfix 3.7.11 gave (the table; milters.interop.test.ts checks it against a live Postfix).
 * The edits scenario is held and read back with postcat: header order, sender and recipients as
 * Postfix stored them. Also: two milters in a chain (the second sees the first one's header), and
 * what a milter is sent (no Received:, cleanup's Message-Id/Date).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { continueAll, startFakeMilter } from '../milter/fake-milter.js';
import { EDITS, EDITS_HEADERS, PREPEND_BOB, normaliseLog, normaliseReplies, queueIdsOf, SCENARIOS, script, startOurMta, transcript } from './milter-scenarios.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MilterCommand } from '../../../mta/milter/codec.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function settle(log: () => string, want: number): Promise<void> {
  for (let i = 0; i < 60 && normaliseLog(log(), []).length < want; i++) await sleep(50);
  await sleep(100);
}

for (const sc of [...SCENARIOS, EDITS]) {
  test(`milter scenario: ${sc.name}`, async (t) => {
    const fm = await startFakeMilter(t, { script: script(sc) });
    // The same restrictions as the Postfix instance of the interop test: a PREPEND for bob.
    const ours = await startOurMta(t, { smtpd_milters: fm.spec, milter_command_timeout: '5s', smtpd_recipient_restrictions: PREPEND_BOB });
    const replies = await transcript(ours.port, sc.lines);
    await settle(ours.log, sc.log.length);
    const ids = queueIdsOf(replies, ours.log());
    assert.deepEqual(normaliseReplies(replies, ids), sc.replies);
    assert.deepEqual(normaliseLog(ours.log(), ids), sc.log, ours.log());
    if (sc === EDITS) {
      await ours.stop();
      // postcat's module runs itself when imported: a child process, as an administrator runs it.
      const postcat = fileURLToPath(new URL('../../../mta/cli/postcat.js', import.meta.url));
      const res = spawnSync(process.execPath, [postcat, '-c', ours.etc, '-q', ids[0]!], { encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
      const out = res.stdout;
      assert.match(out, /ENVELOPE RECORDS hold\//);
      assert.match(out, /^sender: new@example\.com$/m);
      assert.deepEqual([...out.matchAll(/^recipient: (.*)$/gm)].map((m) => m[1]), ['bob@example.org', 'extra@example.org']);
      const content = out.slice(out.indexOf('*** MESSAGE CONTENTS'));
      const headerLines = content.split('\n').slice(1, content.split('\n').indexOf('')).filter((l) => !/^[ \t]/.test(l));
      const want = EDITS_HEADERS(true);
      assert.equal(headerLines.length, want.length, headerLines.join('\n'));
      want.forEach((w, i) => assert.ok(headerLines[i]!.startsWith(w), `${headerLines[i]} vs ${w}`));
    }
  });
}

test('two milters: the first non-continue answer wins, the second sees the first one\'s edits', async (t) => {
  const first = await startFakeMilter(t, {
    script: (c) => (c.kind === 'bodyeob' ? [{ kind: 'addheader', name: 'X-First', value: Buffer.from('1') }, { kind: 'continue' }] : continueAll(c)),
  });
  const second = await startFakeMilter(t, { script: continueAll });
  const ours = await startOurMta(t, { smtpd_milters: `${first.spec}, ${second.spec}` });
  const replies = await transcript(ours.port, ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', 'Subject: x\r\n\r\nbody\r\n.', 'QUIT']);
  assert.match(replies[5] ?? '', /^250 2\.0\.0 Ok: queued as/);
  await second.closed(1);
  const seen = second.connections[0]!.filter((c): c is Extract<MilterCommand, { kind: 'header' }> => c.kind === 'header').map((h) => h.name);
  assert.deepEqual(seen, ['Subject', 'Message-Id', 'Date', 'From', 'X-First']);
  const kinds = second.connections[0]!.map((c) => c.kind).filter((k) => k !== 'macro');
  assert.deepEqual(kinds.slice(0, 6), ['optneg', 'connect', 'helo', 'mail', 'rcpt', 'data']);
  assert.ok(kinds.includes('abort') && kinds.at(-1) === 'quit', kinds.join(' '));

  // A reject from the first milter: the second never sees RCPT.
  const rejecting = await startFakeMilter(t, { script: (c) => (c.kind === 'rcpt' ? [{ kind: 'reject' }] : continueAll(c)) });
  const watcher = await startFakeMilter(t, { script: continueAll });
  const ours2 = await startOurMta(t, { smtpd_milters: `${rejecting.spec} ${watcher.spec}` });
  const r2 = await transcript(ours2.port, ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.org>', 'QUIT']);
  assert.equal(r2[3], '550 5.7.1 Command rejected');
  await watcher.closed(1);
  assert.ok(!watcher.connections[0]!.some((c) => c.kind === 'rcpt'));
});

test('a milter that is down: milter_default_action tempfail (and accept)', async (t) => {
  const fm = await startFakeMilter(t, {});
  const spec = fm.spec;
  await fm.close();
  const ours = await startOurMta(t, { smtpd_milters: spec, milter_connect_timeout: '2s' });
  const r = await transcript(ours.port, ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'QUIT']);
  assert.equal(r[0], '220 mx.test.example ESMTP Postfix');
  assert.equal(r[2], '451 4.7.1 Service unavailable - try again later');
  const ours2 = await startOurMta(t, { smtpd_milters: spec, milter_connect_timeout: '2s', milter_default_action: 'accept' });
  const r2 = await transcript(ours2.port, ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', 'Subject: x\r\n\r\nbody\r\n.', 'QUIT']);
  assert.match(r2[5] ?? '', /^250 2\.0\.0 Ok: queued as/);
});
