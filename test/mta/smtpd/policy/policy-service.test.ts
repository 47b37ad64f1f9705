/*
 * check_policy_service without real Postfix: the argument forms (inet, unix relative to
 * queue_directory, the `{ … }` form with overrides), the client's connection reuse, request_limit,
 * max_idle, timeout, over-long and action-less replies (retry, then default_action), and the
 * engine applying the action with the reply target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postfixConfigFromText } from '../../../../shared/config/postfix/config.js';
import { createSmtpdPolicy } from '../../../../mta/smtpd/policy/engine.js';
import { createStaticDnsClient } from '../../../../mta/dns/static-dns.js';
import type { SmtpdFacts } from '../../../../mta/smtpd/policy/api.js';
import { MAX_POLICY_REPLY, PolicyClient } from '../../../../mta/smtpd/policy/policy-client.js';
import { ATTRIBUTE_ORDER, parsePolicySpec, requestAttributes, type PolicyDefaults } from '../../../../mta/smtpd/policy/policy-service.js';

const DEFAULTS: PolicyDefaults = {
  timeoutMs: 100_000, maxIdleMs: 300_000, maxTtlMs: 1_000_000, tryLimit: 2, retryDelayMs: 1000, requestLimit: 0,
  defaultAction: '451 4.3.5 Server configuration problem', policyContext: '', queueDirectory: '/var/spool/postfix',
};

type Handler = (req: string, sock: Socket) => void;

async function server(t: import('node:test').TestContext, handler: Handler, path?: string): Promise<{ srv: Server; port: number; conns: () => number }> {
  let conns = 0;
  const srv = createServer((s) => {
    conns++;
    let buf = '';
    s.setEncoding('latin1');
    s.on('error', () => undefined);
    s.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        handler(buf.slice(0, i), s);
        buf = buf.slice(i + 2);
      }
    });
  });
  await new Promise<void>((r) => (path ? srv.listen(path, r) : srv.listen(0, '127.0.0.1', r)));
  t.after(() => srv.close());
  const a = srv.address();
  return { srv, port: a !== null && typeof a !== 'string' ? a.port : 0, conns: () => conns };
}

const facts = (over: Partial<SmtpdFacts> = {}): SmtpdFacts => ({
  client: { name: 'client.example', addr: '192.0.2.1', port: 4321 }, server: { addr: '127.0.0.1', port: 25 },
  helo: 'h.example', sender: 's@example.org', recipient: 'r@example.com', tls: false, protocol: 'ESMTP', recipientCount: 0, pipelined: false,
  ...over,
});

test('argument forms: inet, unix (relative to queue_directory), braces with overrides', () => {
  const a = parsePolicySpec('inet:127.0.0.1:10023', DEFAULTS);
  assert.deepEqual(a.endpoint, { kind: 'inet', host: '127.0.0.1', port: 10023 });
  assert.equal(a.name, '127.0.0.1:10023');
  assert.equal(a.defaultAction, DEFAULTS.defaultAction);
  const u = parsePolicySpec('unix:private/policyd-spf', DEFAULTS);
  assert.deepEqual(u.endpoint, { kind: 'unix', path: '/var/spool/postfix/private/policyd-spf' });
  assert.equal(u.name, 'private/policyd-spf');
  assert.deepEqual(parsePolicySpec('unix:/run/x.sock', DEFAULTS).endpoint, { kind: 'unix', path: '/run/x.sock' });
  const b = parsePolicySpec('inet:[::1]:9998, timeout=10s, default_action=DUNNO, try_limit=1, retry_delay=2, max_idle=1m, max_ttl=1h, request_limit=5, policy_context=ctx, { default_action = 450 4.7.1 try later }', DEFAULTS);
  assert.deepEqual(b.endpoint, { kind: 'inet', host: '::1', port: 9998 });
  assert.deepEqual(b.settings, { timeoutMs: 10_000, maxIdleMs: 60_000, maxTtlMs: 3_600_000, tryLimit: 1, retryDelayMs: 2000, requestLimit: 5 });
  assert.equal(b.defaultAction, '450 4.7.1 try later');
  assert.equal(b.policyContext, 'ctx');
  assert.throws(() => parsePolicySpec('inet:127.0.0.1:1, bogus=1', DEFAULTS), /unknown attribute name: bogus/);
  assert.throws(() => parsePolicySpec('tcp:127.0.0.1:1', DEFAULTS), /unsupported/);
});

test('request attributes: Postfix order, recipient_count only at DATA, instance per transaction', () => {
  const tx = {};
  const r = requestAttributes('rcpt', facts({ transaction: tx, queueId: 'ABC', size: 99, recipientCount: 3, tlsInfo: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', bits: 256 } }), 'ctx');
  assert.deepEqual(r.map(([k]) => k), [...ATTRIBUTE_ORDER]);
  const m = new Map(r);
  assert.equal(m.get('protocol_state'), 'RCPT');
  assert.equal(m.get('recipient_count'), '0');
  assert.equal(m.get('queue_id'), 'ABC');
  assert.equal(m.get('size'), '99');
  assert.equal(m.get('encryption_keysize'), '256');
  assert.equal(m.get('policy_context'), 'ctx');
  const d = new Map(requestAttributes('data', facts({ transaction: tx, recipientCount: 3 }), ''));
  assert.equal(d.get('recipient_count'), '3');
  assert.equal(d.get('recipient'), '');
  assert.equal(d.get('instance'), m.get('instance'));
  assert.notEqual(new Map(requestAttributes('rcpt', facts({ transaction: {} }), '')).get('instance'), m.get('instance'));
  assert.equal(new Map(requestAttributes('helo', facts({ protocol: 'SMTP' }), '')).get('protocol_state'), 'HELO');
  assert.equal(new Map(requestAttributes('connect', facts(), '')).get('instance'), '');
});

test('client: one connection reused; request_limit and max_idle close it', async (t) => {
  const s = await server(t, (_req, sock) => sock.write('action=DUNNO\n\n'));
  const log: string[] = [];
  const c = new PolicyClient('x', { kind: 'inet', host: '127.0.0.1', port: s.port }, { ...DEFAULTS, requestLimit: 2 }, { log: (l) => log.push(l) });
  t.after(() => c.close());
  for (let i = 0; i < 4; i++) assert.equal(await c.request([['request', 'smtpd_access_policy']]), 'DUNNO');
  assert.equal(s.conns(), 2, 'request_limit=2: 4 requests over 2 connections');
  // Concurrent requests use separate connections.
  await Promise.all([c.request([['a', '1']]), c.request([['a', '2']])]);
  const idle = new PolicyClient('x', { kind: 'inet', host: '127.0.0.1', port: s.port }, { ...DEFAULTS, maxIdleMs: 50 }, { log: () => undefined });
  t.after(() => idle.close());
  const before = s.conns();
  await idle.request([['a', '1']]);
  await new Promise((r) => setTimeout(r, 150));
  await idle.request([['a', '1']]);
  assert.equal(s.conns() - before, 2, 'the idle connection was closed after max_idle');
  assert.deepEqual(log, []);
});

test('client: timeout, over-long reply and a reply without action are retried, then fail with the warnings', async (t) => {
  let n = 0;
  const s = await server(t, (_req, sock) => {
    n++;
    if (n === 1) return; // never answers: timeout
    if (n === 2) sock.write(`action=${'x'.repeat(MAX_POLICY_REPLY + 10)}`);
    else if (n === 3) sock.write('foo=bar\n\n');
    else sock.write('action=OK\n\n');
  });
  const log: string[] = [];
  const sleeps: number[] = [];
  const ep = { kind: 'inet', host: '127.0.0.1', port: s.port } as const;
  const c = new PolicyClient(`127.0.0.1:${s.port}`, ep, { ...DEFAULTS, timeoutMs: 200, tryLimit: 2 }, {
    log: (l) => log.push(l), sleep: async (ms) => void sleeps.push(ms),
  });
  t.after(() => c.close());
  assert.equal(await c.request([['a', '1']]), undefined);
  assert.deepEqual(log, [
    `warning: problem talking to server 127.0.0.1:${s.port}: Connection timed out`,
    `warning: policy reply from 127.0.0.1:${s.port} exceeds ${MAX_POLICY_REPLY} bytes`,
    `warning: problem talking to server 127.0.0.1:${s.port}: Application error`,
  ]);
  assert.deepEqual(sleeps, [1000]);
  log.length = 0;
  assert.equal(await c.request([['a', '1']]), 'OK');
  assert.deepEqual(log, [`warning: missing attribute action in input from 127.0.0.1:${s.port}`]);
});

test('engine: unix:private/name under queue_directory, action with the reply target, default_action on failure', async (t) => {
  const q = mkdtempSync(join(tmpdir(), 'postern-policy-'));
  t.after(() => rmSync(q, { recursive: true, force: true }));
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(q, 'private'));
  const seen: string[] = [];
  await server(t, (req, sock) => {
    seen.push(req);
    const rcpt = /^recipient=(.*)$/m.exec(req)?.[1] ?? '';
    sock.write(rcpt.startsWith('bad') ? 'action=REJECT go away\n\n' : rcpt.startsWith('hold') ? 'action=HOLD\n\n' : 'action=DUNNO\n\n');
  }, join(q, 'private', 'policy'));
  const cfg = postfixConfigFromText([
    'compatibility_level = 3.6', 'mydestination = example.com', 'mynetworks = 127.0.0.0/8', 'local_recipient_maps =', `queue_directory = ${q}`,
    'smtpd_recipient_restrictions = check_policy_service unix:private/policy, check_policy_service { unix:private/missing, { default_action = DEFER_IF_PERMIT policy down }, try_limit=1 }, reject_unauth_destination',
    'smtpd_policy_service_policy_context = submission',
  ].join('\n'), { configDir: '/nonexistent', host: { myhostname: 'mx.example.com' } as never });
  const log: string[] = [];
  const engine = createSmtpdPolicy(cfg, { dns: createStaticDnsClient({}), log: (l) => log.push(l), sleep: async () => undefined });
  t.after(() => engine.close());
  const bad = await engine.evaluate('rcpt', facts({ recipient: 'bad@example.com' }));
  assert.deepEqual(bad, { kind: 'reject', reply: { code: 554, enhanced: '5.7.1', text: '<bad@example.com>: Recipient address rejected: go away' } });
  assert.match(seen[0]!, /\npolicy_context=submission$/);
  const held = await engine.evaluate('rcpt', facts({ recipient: 'hold@example.com' }));
  assert.equal(held.kind, 'defer', 'the dead second service defers the permit (DEFER_IF_PERMIT default_action)');
  assert.deepEqual(held.kind === 'defer' ? held.reply : undefined, { code: 450, enhanced: '4.7.1', text: '<hold@example.com>: Recipient address rejected: policy down' });
  assert.ok(log.includes('warning: connect to private/missing: No such file or directory'), log.join('\n'));
});

test('engine: a malformed check_policy_service argument answers 451 4.3.5 Server configuration error', async () => {
  const cfg = postfixConfigFromText('compatibility_level = 3.6\nmydestination = example.com\nmynetworks = 127.0.0.0/8\nsmtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:1, nonsense=1 }, reject_unauth_destination',
    { configDir: '/nonexistent', host: { myhostname: 'mx.example.com' } as never });
  const log: string[] = [];
  const engine = createSmtpdPolicy(cfg, { dns: createStaticDnsClient({}), log: (l) => log.push(l) });
  const d = await engine.evaluate('rcpt', facts());
  assert.deepEqual(d, { kind: 'defer', reply: { code: 451, enhanced: '4.3.5', text: 'Server configuration error' } });
  assert.match(log.join('\n'), /unknown attribute name: nonsense/);
});
