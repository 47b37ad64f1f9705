/* SASL client against fake relays: relayhost, password-map keys, mechanism choice, failures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeSmtp } from '../../../helpers/smtp-sink.js';
import { harness, request } from './harness.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('relayhost with AUTH PLAIN from smtp_sasl_password_maps ([host]:port key)', async (t) => {
  const h = await harness(t, { 'relay.test': { A: ['127.0.0.30'] } });
  const srv = await startFakeSmtp(t, {
    host: '127.0.0.30', port: h.port, keywords: ['PIPELINING', 'AUTH PLAIN LOGIN'],
    auth: (args) => (args === `PLAIN ${b64('\0user@isp.test\0s3cret')}` ? '235 2.7.0 Authentication successful' : '535 5.7.8 Error: authentication failed'),
  });
  const agent = h.agent({
    relayhost: `[relay.test]:${h.port}`,
    smtp_sasl_auth_enable: 'yes',
    smtp_sasl_security_options: 'noanonymous',
    smtp_sasl_password_maps: `inline:{ {[relay.test]:${h.port} = user@isp.test:s3cret} }`,
  });
  const out = await agent.deliver(request({ to: ['far@away.test'] }));
  assert.equal(out[0]!.kind, 'delivered', JSON.stringify(out));
  assert.equal(out[0]!.relay, `relay.test[127.0.0.30]:${h.port}`);
  assert.ok(srv.commands.some((c) => c.startsWith('AUTH PLAIN ')));
  assert.ok(!h.logs.some((l) => l.includes('s3cret') || l.includes(b64('\0user@isp.test\0s3cret'))));
});

test('LOGIN and CRAM-MD5 exchanges; host-name key', async (t) => {
  const h = await harness(t, { 'relay.test': { A: ['127.0.0.31'] } });
  const seen: string[] = [];
  await startFakeSmtp(t, {
    host: '127.0.0.31', port: h.port, keywords: ['AUTH LOGIN CRAM-MD5'],
    auth: async (args, c) => {
      seen.push(args);
      if (args === 'LOGIN') {
        c.write('334 VXNlcm5hbWU6');
        const u = await c.nextLine();
        c.write('334 UGFzc3dvcmQ6');
        const p = await c.nextLine();
        return u === b64('u') && p === b64('p') ? '235 2.7.0 ok' : '535 5.7.8 bad';
      }
      c.write(`334 ${b64('<123.456@relay.test>')}`);
      const r = Buffer.from(await c.nextLine(), 'base64').toString();
      return r.startsWith('u ') && r.length === 2 + 32 ? '235 2.7.0 ok' : '535 5.7.8 bad';
    },
  });
  const base = { relayhost: `[relay.test]:${h.port}`, smtp_sasl_auth_enable: 'yes', smtp_sasl_password_maps: 'inline:{ relay.test=u:p }' };
  const a = await h.agent({ ...base, smtp_sasl_security_options: 'noanonymous', smtp_sasl_mechanism_filter: 'login' }).deliver(request({ to: ['x@far.test'] }));
  assert.equal(a[0]!.kind, 'delivered');
  const b = await h.agent(base).deliver(request({ to: ['x@far.test'] }));
  assert.equal(b[0]!.kind, 'delivered');
  assert.deepEqual(seen, ['LOGIN', 'CRAM-MD5']);
});

test('authentication failures defer (smtp_sasl_auth_soft_bounce = yes)', async (t) => {
  const h = await harness(t, { 'relay.test': { A: ['127.0.0.32'] } });
  await startFakeSmtp(t, { host: '127.0.0.32', port: h.port, keywords: ['AUTH PLAIN LOGIN'], auth: () => '535 5.7.8 Error: authentication failed: bad password' });
  const base = { relayhost: `[relay.test]:${h.port}`, smtp_sasl_auth_enable: 'yes', smtp_sasl_password_maps: `inline:{ {[relay.test]:${h.port}=u:p} }` };
  const a = await h.agent(base).deliver(request({ to: ['x@far.test'] }));
  assert.deepEqual([a[0]!.kind, a[0]!.dsnStatus, a[0]!.kind !== 'delivered' && a[0]!.reason], [
    'deferred', '4.7.0', 'SASL authentication failed; cannot authenticate to server relay.test[127.0.0.32]: no mechanism available',
  ]);
  const b = await h.agent({ ...base, smtp_sasl_security_options: 'noanonymous' }).deliver(request({ to: ['x@far.test'] }));
  assert.deepEqual([b[0]!.kind, b[0]!.dsnStatus, b[0]!.kind !== 'delivered' && b[0]!.reason], [
    'deferred', '4.7.8', 'SASL authentication failed; server relay.test[127.0.0.32] said: 535 5.7.8 Error: authentication failed: bad password',
  ]);
  // No password for this server: no AUTH at all.
  const c = await h.agent({ ...base, smtp_sasl_password_maps: 'inline:{ other=u:p }' }).deliver(request({ to: ['x@far.test'] }));
  assert.equal(c[0]!.kind, 'delivered');
});
