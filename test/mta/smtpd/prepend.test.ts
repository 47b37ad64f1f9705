/*
 * PREPEND (access(5) and check_policy_service answers such as policyd-spf's `action=PREPEND
 * Received-SPF: …`): the restriction engine collects the header fields in order and goes on
 * evaluating; an action without a `name:` is Postfix's warning and does nothing; our MTA stores the fields
 * above its own Received:, where real Postfix 3.7.11 puts them (the held queue file of
 * milters.interop.test.ts; milters.test.ts checks the same order with a milter's edits).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createSmtpdPolicy } from '../../../mta/smtpd/policy/engine.js';
import { createStaticDnsClient } from '../../../mta/dns/static-dns.js';
import type { SmtpdFacts } from '../../../mta/smtpd/policy/api.js';
import { testConfig } from '../resolve/config-helper.js';
import { startOurMta, transcript } from './milter-scenarios.js';

const facts: SmtpdFacts = {
  client: { name: 'unknown', addr: '198.51.100.1', port: 1234 },
  server: { addr: '192.0.2.1', port: 25 },
  helo: 'h.example', sender: 'a@good.example', recipient: 'root@mx.example.test',
  tls: false, protocol: 'ESMTP', recipientCount: 0, pipelined: false,
};

async function decide(list: string) {
  const log: string[] = [];
  const cfg = testConfig({ compatibility_level: '3.6', mydestination: '$myhostname', alias_maps: '', local_recipient_maps: '', smtpd_recipient_restrictions: list });
  const p = createSmtpdPolicy(cfg, { dns: createStaticDnsClient({}), sleep: async () => undefined, log: (l) => log.push(l) });
  return { d: await p.evaluate('rcpt', facts), log };
}

test('PREPEND collects header fields in order and evaluation goes on', async () => {
  const a = await decide('check_sender_access inline:{{a@good.example=PREPEND X-One: 1}}, check_recipient_access inline:{{root@mx.example.test=PREPEND X-Two: 2}}, permit');
  assert.deepEqual(a.d, { kind: 'accept', prepend: ['X-One: 1', 'X-Two: 2'] });
  const b = await decide('check_sender_access inline:{{a@good.example=PREPEND X-One: 1}}, reject');
  assert.equal(b.d.kind, 'reject');
  const c = await decide('check_sender_access inline:{{a@good.example=PREPEND no header here}}, permit');
  assert.deepEqual(c.d, { kind: 'accept' });
  // Postfix 3.7.11's line for the same entry (observed): the lookup key, not the value.
  assert.ok(c.log.includes('warning: access table inline:{{a@good.example=PREPEND no header here}} entry "a@good.example" requires header: text'), c.log.join('\n'));
  const h = await decide('check_sender_access inline:{{a@good.example=PREPEND X-H: held}}, check_recipient_access inline:{{root@mx.example.test=HOLD}}, permit');
  assert.equal(h.d.kind, 'hold');
  assert.deepEqual(h.d.prepend, ['X-H: held']);
});

test('a policy service PREPEND (policyd-spf Received-SPF) is stored above our Received:', async (t) => {
  const spf = 'Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=127.0.0.1; helo=client.example; envelope-from=alice@example.com; receiver=<UNKNOWN>';
  const srv = createServer((s: Socket) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      while (buf.includes('\n\n')) {
        buf = buf.slice(buf.indexOf('\n\n') + 2);
        s.write(`action=PREPEND ${spf}\n\n`);
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const port = (srv.address() as { port: number }).port;
  const ours = await startOurMta(t, {
    smtpd_recipient_restrictions: `check_policy_service inet:127.0.0.1:${port}, check_recipient_access inline:{{bob@example.org=PREPEND X-Second: 2}}, check_recipient_access inline:{{bob@example.org=HOLD}}, permit`,
  });
  const replies = await transcript(ours.port, ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', 'Subject: x\r\n\r\nbody\r\n.', 'QUIT']);
  const id = /queued as (\w+)/.exec(replies[5] ?? '')?.[1];
  assert.ok(id, replies.join('\n'));
  await ours.stop();
  const postcat = fileURLToPath(new URL('../../../mta/cli/postcat.js', import.meta.url));
  const res = spawnSync(process.execPath, [postcat, '-c', ours.etc, '-h', '-q', id], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const lines = res.stdout.split('\n').filter((l) => /^[A-Za-z-]+:/.test(l));
  assert.deepEqual(lines.slice(0, 3).map((l) => l.slice(0, l.indexOf(':'))), ['Received-SPF', 'X-Second', 'Received']);
  assert.ok(lines[0]!.startsWith(spf.slice(0, 40)));
});
