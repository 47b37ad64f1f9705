/*
 * smtpd_milters against the real programs:
 *  - the scenario table of milter-scenarios.ts (what our MTA must answer and log, milters.test.ts)
 *    replayed against a private real Postfix 3.7.11 with the same scripted fake milter: its SMTP
 *    replies and `milter-…` log lines must be the table's, and its held message for the edits
 *    scenario must have the table's header order (with a check_recipient_access PREPEND, which
 *    real Postfix puts above its own Received:);
 *  - opendkim: our MTA with smtpd_milters = a private signing opendkim; a message submitted over
 *    SMTP is relayed to a sink with a DKIM-Signature that a verifying opendkim (TestPublicKeys)
 *    answers with dkim=pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOracle, oracleSkip, run } from '../../helpers/oracle.js';
import { startPostfix } from '../../helpers/postfix-instance.js';
import { startFakeSmtp } from '../../helpers/smtp-sink.js';
import { tempDir } from '../../helpers/tmp.js';
import { continueAll, startFakeMilter } from '../milter/fake-milter.js';
import { startOpendkim } from '../milter/opendkim.js';
import { EDITS, EDITS_HEADERS, PREPEND_BOB, normaliseLog, normaliseReplies, queueIdsOf, SCENARIOS, script, startOurMta, transcript, type Scenario } from './milter-scenarios.js';
import { DEFAULT_MILTER_SETTINGS, MilterSession } from '../../../mta/milter/client.js';
import { macroLookup } from '../../../mta/milter/macros.js';
import { parseHeaderBlock } from '../../../mta/cleanup/headers.js';
import type { MilterCommand } from '../../../mta/milter/codec.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('real Postfix answers and logs the milter scenario table', { skip: oracleSkip('postfix') }, async (t) => {
  let current: Scenario | undefined;
  const fm = await startFakeMilter(t, { script: (c: MilterCommand) => (current ? script(current)(c) : continueAll(c)) });
  const pf = await startPostfix(t, {
    main: {
      smtpd_milters: fm.spec, mydestination: 'example.org', local_transport: 'discard', local_recipient_maps: '', myhostname: 'mx.test.example',
      smtpd_recipient_restrictions: PREPEND_BOB,
    },
  });
  // startPostfix's readiness probe is a session of its own: let it end before the first scenario.
  for (let i = 0; i < 100 && !/disconnect from/.test(pf.log()); i++) await sleep(100);
  for (const sc of [...SCENARIOS, EDITS]) {
    await t.test(sc.name, async () => {
      current = sc;
      const before = pf.log().length;
      const replies = await transcript(pf.port, sc.lines);
      const newLog = () => pf.log().slice(before);
      for (let i = 0; i < 60 && normaliseLog(newLog(), []).length < sc.log.length; i++) await sleep(100);
      await sleep(300);
      const ids = queueIdsOf(replies, newLog());
      assert.deepEqual(normaliseReplies(replies, ids), sc.replies);
      assert.deepEqual(normaliseLog(newLog(), ids), sc.log, newLog());
      if (sc === EDITS) {
        const out = execFileSync('/usr/sbin/postcat', ['-c', pf.configDir, '-q', ids[0]!]).toString();
        assert.match(out, /^sender: new@example\.com$/m);
        assert.deepEqual([...out.matchAll(/^recipient: (.*)$/gm)].map((m) => m[1]), ['bob@example.org', 'extra@example.org']);
        const content = out.slice(out.indexOf('*** MESSAGE CONTENTS')).split('\n');
        const headers = content.slice(1, content.indexOf('')).filter((l) => !/^[ \t]/.test(l));
        const want = EDITS_HEADERS(true);
        assert.equal(headers.length, want.length, headers.join('\n'));
        want.forEach((w, i) => assert.ok(headers[i]!.startsWith(w), `${headers[i]} vs ${w}`));
      }
      current = undefined;
    });
  }
});

test('opendkim signs mail our MTA relays; a verifying opendkim passes it', { skip: oracleSkip('opendkim', 'opendkim-genkey') }, async (t) => {
  const dir = tempDir(t);
  const gen = run(findOracle('opendkim-genkey')!, ['-D', dir, '-d', 'example.org', '-s', 'test', '-b', '2048']);
  assert.equal(gen.status, 0, gen.stderr);
  chmodSync(join(dir, 'test.private'), 0o600);
  const txt = readFileSync(join(dir, 'test.txt'), 'utf8');
  writeFileSync(join(dir, 'keys'), `test._domainkey.example.org ${[...txt.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('')}\n`);
  const signer = await startOpendkim(t, dir, 'sign', `Mode s\nDomain example.org\nSelector test\nKeyFile ${join(dir, 'test.private')}\nCanonicalization relaxed/simple\nInternalHosts 127.0.0.1`);
  const verifier = await startOpendkim(t, dir, 'verify', `Mode v\nTestPublicKeys ${join(dir, 'keys')}\nAuthservID verifier.example.net\nAlwaysAddARHeader yes`);
  const sink = await startFakeSmtp(t);
  const ours = await startOurMta(t, {
    smtpd_milters: signer,
    mynetworks: '127.0.0.0/8',
    relay_domains: 'example.net',
    transport_maps: `inline:{ {example.net = smtp:[127.0.0.1]:${sink.port}} }`,
  });
  const replies = await transcript(ours.port, [
    'EHLO client.example', 'MAIL FROM:<alice@example.org>', 'RCPT TO:<bob@example.net>', 'DATA',
    'From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: signed by opendkim\r\nDate: Fri, 27 Nov 2026 22:19:28 +0000\r\nMessage-ID: <e2e-1@example.org>\r\n\r\nHello Bob,\r\n\r\nthrough Postern smtpd_milters.\r\n.',
    'QUIT',
  ]);
  assert.match(replies[5] ?? '', /^250 2\.0\.0 Ok: queued as/, replies.join('\n'));
  for (let i = 0; i < 200 && sink.messages.length === 0; i++) await sleep(50);
  assert.equal(sink.messages.length, 1, ours.log());
  const data = Buffer.from(sink.messages[0]!.data, 'latin1');
  const { fields, bodyOffset } = parseHeaderBlock(data);
  assert.equal(fields[0]!.name, 'DKIM-Signature', fields.map((f) => f.name).join(' '));
  assert.equal(fields[1]!.name, 'Received');
  assert.match(fields[0]!.raw.toString(), /d=example\.org/);

  // The relayed message through the verifier, as the next hop's MTA would send it (its own Received: first).
  const m = new MilterSession(verifier, { ...DEFAULT_MILTER_SETTINGS, commandTimeout: 10, contentTimeout: 10 }, macroLookup({ j: 'mx.example.net', queueId: 'V1' }));
  await m.connect({ hostname: 'localhost', address: '127.0.0.1', port: 40000, family: 'inet' });
  await m.helo('mx.test.example');
  await m.envfrom(['<alice@example.org>']);
  await m.envrcpt(['<bob@example.net>']);
  await m.data();
  const eom = await m.message(fields, data.subarray(bodyOffset));
  await m.quit();
  const ar = eom.modifications.find((x) => (x.kind === 'addheader' || x.kind === 'insheader') && x.name === 'Authentication-Results');
  assert.ok(ar && 'value' in ar, JSON.stringify(eom.modifications.map((x) => x.kind)));
  assert.match(ar.value.toString(), /verifier\.example\.net;\s*dkim=pass/);
});
