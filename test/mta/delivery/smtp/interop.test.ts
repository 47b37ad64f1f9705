/*
 * INTEROP: real Postfix programs as the receiving side.
 *  - smtp-sink (a well-behaved peer, and its -r/-f/-q/-Q failure modes) found through the loopback DNS;
 *  - a private real Postfix 3.7 as a SASL relay (smtpd_sasl_type = dovecot against our auth socket):
 *    unauthenticated relaying is refused, with smtp_sasl_password_maps the mail is accepted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { oracleSkip } from '../../../helpers/oracle.js';
import { tempDir } from '../../../helpers/tmp.js';
import { startRealSmtpSink } from '../../../helpers/smtp-sink.js';
import { makeTraversable, startPostfix } from '../../../helpers/postfix-instance.js';
import { AuthService } from '../../../../mda/auth/auth-service.js';
import { authSettingsFromText } from '../../../../mda/auth/settings.js';
import { passwdFilePassdb, passwdFileUserdb, parsePasswdFileArgs } from '../../../../mda/auth/passwd-file.js';
import { startAuthServer } from '../../../../mda/auth/server.js';
import { harness, request } from './harness.js';

const isRoot = process.getuid?.() === 0;

test('real smtp-sink: delivery and its failure modes', { skip: oracleSkip('smtp-sink'), timeout: 60_000 }, async (t) => {
  const h = await harness(t, {
    'sink.test': { MX: [{ pref: 10, exchange: 'mx.sink.test' }] },
    'mx.sink.test': { A: ['127.0.0.40'] },
    'soft.test': { A: ['127.0.0.41'] },
    'hard.test': { A: ['127.0.0.42'] },
    'drop.test': { A: ['127.0.0.43'] },
  });
  await startRealSmtpSink(t, '127.0.0.40', h.port);
  await startRealSmtpSink(t, '127.0.0.41', h.port, ['-r', 'rcpt']);
  await startRealSmtpSink(t, '127.0.0.42', h.port, ['-f', 'mail']);
  await startRealSmtpSink(t, '127.0.0.43', h.port, ['-q', 'data']);
  const agent = h.agent({ smtp_tls_security_level: 'may' });
  const ok = await agent.deliver(request({ nexthop: `sink.test:${h.port}`, to: ['a@sink.test', 'b@sink.test'], envid: 'e1', ret: 'FULL' }));
  assert.deepEqual(ok.map((o) => [o.kind, o.dsnStatus, o.relay]), [
    ['delivered', '2.0.0', `mx.sink.test[127.0.0.40]:${h.port}`],
    ['delivered', '2.0.0', `mx.sink.test[127.0.0.40]:${h.port}`],
  ]);
  assert.equal(ok[0]!.kind === 'delivered' && ok[0]!.reply, '250 2.0.0 Ok');
  const soft = await agent.deliver(request({ nexthop: `soft.test:${h.port}`, to: ['a@soft.test'] }));
  assert.deepEqual(soft.map((o) => [o.kind, o.dsnStatus, o.kind !== 'delivered' && o.reason]), [
    ['deferred', '4.3.0', 'host soft.test[127.0.0.41] said: 450 4.3.0 Error: command failed (in reply to RCPT TO command)'],
  ]);
  const hard = await agent.deliver(request({ nexthop: `hard.test:${h.port}`, to: ['a@hard.test'] }));
  assert.deepEqual(hard.map((o) => [o.kind, o.dsnStatus, o.kind !== 'delivered' && o.reason]), [
    ['bounced', '5.3.0', 'host hard.test[127.0.0.42] said: 500 5.3.0 Error: command failed (in reply to MAIL FROM command)'],
  ]);
  const drop = await agent.deliver(request({ nexthop: `drop.test:${h.port}`, to: ['a@drop.test'] }));
  assert.deepEqual(drop.map((o) => [o.kind, o.dsnStatus, o.kind !== 'delivered' && o.reason]), [
    ['deferred', '4.4.2', 'lost connection with drop.test[127.0.0.43] while sending DATA command'],
  ]);
});

test('real Postfix as a SASL relay: refused without credentials, accepted with smtp_sasl_password_maps', {
  skip: oracleSkip('postfix') || (isRoot ? false : 'needs root to start a private Postfix'),
  timeout: 120_000,
}, async (t) => {
  const dir = tempDir(t, 'postern-smtp-relay-');
  makeTraversable(dir);
  const users = join(dir, 'users');
  writeFileSync(users, 'relayuser@isp.test:{PLAIN}relay-secret:8:8::/nonexistent::\n');
  chmodSync(users, 0o600);
  const logs: string[] = [];
  const alog = { info: (s: string) => logs.push(s), error: (s: string) => logs.push(s) };
  const args = parsePasswdFileArgs(`scheme=PLAIN username_format=%u ${users}`);
  const service = new AuthService({
    settings: authSettingsFromText({ auth_mechanisms: 'plain login', auth_failure_delay: '200 msecs' }),
    passdbs: [{ db: passwdFilePassdb(args) }],
    userdbs: [{ db: passwdFileUserdb(args) }],
    log: alog,
  });
  const sock = join(dir, 'auth-client');
  const server = await startAuthServer({ service, listeners: [{ kind: 'auth-client', path: sock, mode: 0o666 }], log: alog });
  t.after(() => server.close());
  const pf = await startPostfix(t, {
    main: {
      smtpd_sasl_type: 'dovecot',
      smtpd_sasl_path: sock,
      smtpd_sasl_auth_enable: 'yes',
      smtpd_tls_security_level: 'none',
      smtpd_relay_restrictions: 'permit_sasl_authenticated, reject_unauth_destination',
      relay_domains: '',
      default_transport: 'discard:relay test',
    },
  });
  const h = await harness(t, { 'relay.test': { A: [pf.host] } });
  const base = { relayhost: `[relay.test]:${pf.port}`, smtp_tls_security_level: 'none' };
  const refused = await h.agent(base).deliver(request({ to: ['far@remote.test'] }));
  assert.equal(refused[0]!.kind === 'delivered' ? '' : refused[0]!.reason,
    `host relay.test[${pf.host}] said: 554 5.7.1 <far@remote.test>: Relay access denied (in reply to RCPT TO command)`);
  assert.equal(refused[0]!.kind, 'bounced');
  const withAuth = await h.agent({
    ...base,
    smtp_sasl_auth_enable: 'yes',
    smtp_sasl_security_options: 'noanonymous',
    smtp_sasl_password_maps: `inline:{ {[relay.test]:${pf.port} = relayuser@isp.test:relay-secret} }`,
  }).deliver(request({ to: ['far@remote.test'] }));
  assert.equal(withAuth[0]!.kind, 'delivered', `${JSON.stringify(withAuth)}\n${pf.log()}`);
  assert.match(withAuth[0]!.kind === 'delivered' ? withAuth[0]!.reply : '', /^250 2\.0\.0 Ok: queued as [0-9A-F]+$/);
  const wrong = await h.agent({
    ...base,
    smtp_sasl_auth_enable: 'yes',
    smtp_sasl_security_options: 'noanonymous',
    smtp_sasl_password_maps: `inline:{ {[relay.test]:${pf.port} = relayuser@isp.test:wrong} }`,
  }).deliver(request({ to: ['far@remote.test'] }));
  assert.equal(wrong[0]!.kind, 'deferred');
  assert.match(wrong[0]!.kind === 'deferred' ? wrong[0]!.reason : '', new RegExp(`^SASL authentication failed; server relay\\.test\\[${pf.host.replaceAll('.', '\\.')}\\] said: 535 5\\.7\\.8 Error: authentication failed`));
});
