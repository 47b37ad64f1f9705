/*
 * Interop for check_policy_service: a recording policy server, a private real Postfix 3.7 and
 * Postern's smtpd (with the real restriction engine) get the same SMTP conversations with
 * `smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:PORT, …`.
 *  - The requests must carry the same attribute names in the same order, with the same values
 *    once per-run values are normalised (client/server ports, queue_id, instance); `instance`
 *    must be one value for all requests of a transaction and change with the next transaction.
 *  - The SMTP replies must match for the actions REJECT, DEFER_IF_PERMIT, `450 text`, DUNNO, a
 *    restriction-list action, a reply without `action`, and a dead policy server (default_action,
 *    and a `{ inet:…, default_action=DUNNO, try_limit=1 }` service), with the same warning lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { postfixConfigFromText } from '../../../../shared/config/postfix/config.js';
import { createSmtpdPolicy } from '../../../../mta/smtpd/policy/engine.js';
import { createStaticDnsClient } from '../../../../mta/dns/static-dns.js';
import { oracleSkip } from '../../../helpers/oracle.js';
import { startPostfix } from '../../../helpers/postfix-instance.js';
import { freePort } from '../../../helpers/free-port.js';
import { startOurs } from '../harness.js';
import { smtpSession } from './smtp-probe.js';

type Request = [string, string][];

/** Records requests; the action depends on the recipient's local part. */
async function recordingServer(t: import('node:test').TestContext): Promise<{ port: number; requests: Request[]; connections: () => number }> {
  const requests: Request[] = [];
  let connections = 0;
  const actions: Record<string, string> = {
    reject: 'REJECT', dip: 'DEFER_IF_PERMIT', t450: '450 text from the policy', dunno: 'DUNNO', ok: 'OK',
    list: 'reject_unauth_destination, defer', five: '550 5.1.9 five',
  };
  const srv: Server = createServer((s) => {
    connections++;
    let buf = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const req: Request = buf.slice(0, i).split('\n').map((l) => {
          const eq = l.indexOf('=');
          return [l.slice(0, eq), l.slice(eq + 1)];
        });
        buf = buf.slice(i + 2);
        requests.push(req);
        const rcpt = req.find(([k]) => k === 'recipient')?.[1] ?? '';
        const local = rcpt.split('@')[0] ?? '';
        if (local === 'noaction') s.write('foo=bar\n\n');
        else s.write(`action=${actions[local] ?? 'DUNNO'}\n\n`);
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const a = srv.address();
  if (a === null || typeof a === 'string') throw new Error('no address');
  return { port: a.port, requests, connections: () => connections };
}

function normalise(reqs: Request[]): string[] {
  return reqs.map((r) =>
    r.map(([k, v]) => {
      if (k === 'client_port' || k === 'server_port') return `${k}=PORT`;
      if (k === 'queue_id') return `${k}=${v === '' ? '' : 'QID'}`;
      if (k === 'instance') return `${k}=${/^[0-9a-f]+\.[0-9a-f]+\.[0-9a-f]+\.[0-9a-f]+$/.test(v) ? 'INSTANCE' : `bad:${v}`}`;
      return `${k}=${v}`;
    }).join('\n'),
  );
}

const instances = (reqs: Request[]): string[] => reqs.map((r) => r.find(([k]) => k === 'instance')?.[1] ?? '');

const skip = oracleSkip('postfix');

test('check_policy_service: request attributes, replies and failure handling match real Postfix 3.7', { skip, timeout: 180_000 }, async (t) => {
  const deadPort = await freePort();
  const pfServer = await recordingServer(t);
  const ourServer = await recordingServer(t);
  const main = (port: number): Record<string, string> => ({
    mydestination: 'mx.test.example',
    local_recipient_maps: '',
    smtpd_restriction_classes: 'deadpolicy, deaddunno',
    deadpolicy: `check_policy_service inet:127.0.0.1:${deadPort}`,
    deaddunno: `check_policy_service { inet:127.0.0.1:${deadPort}, default_action=DUNNO, try_limit=1 }`,
    smtpd_recipient_restrictions: `check_recipient_access inline:{ dead@mx.test.example=deadpolicy, deaddunno@mx.test.example=deaddunno }, check_policy_service inet:127.0.0.1:${port}, reject_unauth_destination`,
    smtpd_data_restrictions: `check_policy_service inet:127.0.0.1:${port}`,
  });
  const pf = await startPostfix(t, { main: main(pfServer.port) });
  const oursMain = main(ourServer.port);
  const cfgText = Object.entries({ myhostname: 'mx.test.example', compatibility_level: '3.6', mynetworks: '', ...oursMain }).map(([k, v]) => `${k} = ${v}`).join('\n');
  const policyLog: string[] = [];
  const engine = createSmtpdPolicy(postfixConfigFromText(cfgText, { configDir: '/nonexistent', host: { myhostname: 'mx.test.example' } as never }), {
    dns: createStaticDnsClient({}), log: (l) => policyLog.push(l),
  });
  t.after(() => engine.close());
  const ours = await startOurs(t, oursMain, { policy: engine });

  const conversation = [
    'EHLO h.example', 'MAIL FROM:<a@b.example> SIZE=1234', 'RCPT TO:<root@mx.test.example>', 'RCPT TO:<postmaster@mx.test.example>',
    'DATA', 'Subject: x\r\n\r\nbody\r\n.', 'MAIL FROM:<c@b.example>', 'RCPT TO:<dunno@mx.test.example>', 'RSET', 'QUIT',
  ];
  const pfReplies = await smtpSession(pf.host, pf.port, '127.0.0.1', conversation);
  const ourReplies = await smtpSession('127.0.0.1', ours.port, '127.0.0.1', conversation);
  // Replies from MAIL on (the EHLO capability lists differ by configuration, not by policy).
  assert.deepEqual(ourReplies.slice(2).map((r) => r.replace(/queued as \w+/, 'queued as ID')), pfReplies.slice(2).map((r) => r.replace(/queued as \w+/, 'queued as ID')));

  // The recorded requests: names, order and values.
  assert.equal(pfServer.requests.length, 4, 'Postfix sent RCPT, RCPT, DATA, RCPT');
  assert.deepEqual(normalise(ourServer.requests), normalise(pfServer.requests));
  const pfNames = pfServer.requests[0]!.map(([k]) => k);
  assert.deepEqual(ourServer.requests[0]!.map(([k]) => k), pfNames);
  // queue_id: empty for the first RCPT (no queue file yet), set afterwards, in both.
  const qid = (r: Request): string => r.find(([k]) => k === 'queue_id')![1];
  assert.equal(qid(ourServer.requests[0]!), '');
  assert.match(qid(ourServer.requests[1]!), /^[0-9A-F]+$/);
  // One instance per transaction.
  for (const reqs of [pfServer.requests, ourServer.requests]) {
    const inst = instances(reqs);
    assert.equal(inst[0], inst[1]);
    assert.equal(inst[1], inst[2]);
    assert.notEqual(inst[2], inst[3]);
  }
  // Both reuse one connection for the whole session.
  assert.equal(ourServer.connections(), 1);

  // Actions, one recipient each.
  const rcpts = ['reject', 'dip', 't450', 'dunno', 'ok', 'list', 'five', 'noaction', 'dead', 'deaddunno'];
  const actionConversation = ['EHLO h.example', 'MAIL FROM:<a@b.example>', ...rcpts.map((r) => `RCPT TO:<${r}@mx.test.example>`), 'QUIT'];
  const pfActions = await smtpSession(pf.host, pf.port, '127.0.0.1', actionConversation);
  const ourActions = await smtpSession('127.0.0.1', ours.port, '127.0.0.1', actionConversation);
  const label = (rs: string[]): string[] => rs.slice(3, 3 + rcpts.length).map((r, i) => `${rcpts[i]}: ${r}`);
  assert.deepEqual(label(ourActions), label(pfActions));
  assert.match(pfActions[3 + rcpts.indexOf('dead')]!, /^451 4\.3\.5 <dead@mx\.test\.example>: Recipient address rejected: Server configuration problem$/);

  // The warning lines of the failures, in order (Postfix prefixes them with the syslog header).
  await new Promise((r) => setTimeout(r, 300));
  const warnings = (lines: string[]): string[] =>
    lines.filter((l) => /warning: (connect to|problem talking|missing attribute)/.test(l))
      .map((l) => l.replace(/^.*?warning: /, 'warning: ').replace(/127\.0\.0\.1:\d+/g, (m) => (m === `127.0.0.1:${deadPort}` ? 'DEAD' : 'SERVER')));
  assert.deepEqual(warnings(policyLog), warnings(pf.log().split('\n')));
});
