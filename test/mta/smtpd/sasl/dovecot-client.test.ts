/*
 * smtpd's Dovecot SASL client against both servers of the protocol: real Dovecot 2.3's auth
 * socket, and Postern's own MDA auth service (the two halves must pair either way).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DovecotSaslClient, resolveSaslPath, type SaslConnectionFacts } from '../../../../mta/smtpd/sasl/dovecot-client.js';
import { offeredMechanisms, parseSecurityOptions } from '../../../../mta/smtpd/sasl/mechanisms.js';
import { loadDovecotConfig } from '../../../../shared/config/dovecot/config.js';
import { authFromDovecotConfig } from '../../../../mda/auth/config-adapter.js';
import { startAuthServer } from '../../../../mda/auth/server.js';
import { oracleSkip } from '../../../helpers/oracle.js';
import { startDovecot } from '../../../helpers/dovecot-daemon.js';
import { tempDir } from '../../../helpers/tmp.js';

const facts: SaslConnectionFacts = { service: 'smtp', lip: '127.0.0.1', rip: '127.0.0.1', secured: false };
const plain = (u: string, p: string) => Buffer.from(`\0${u}\0${p}`).toString('base64');
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('mechanism filtering follows smtpd_sasl_security_options', () => {
  const announced = [
    { name: 'PLAIN', flags: ['plaintext'] as const },
    { name: 'LOGIN', flags: ['plaintext'] as const },
    { name: 'CRAM-MD5', flags: ['dictionary', 'active'] as const },
    { name: 'ANONYMOUS', flags: ['anonymous'] as const },
    { name: 'EXTERNAL', flags: ['private'] as const },
  ];
  const cases: Array<[string[], string[]]> = [
    [['noanonymous'], ['PLAIN', 'LOGIN', 'CRAM-MD5']],
    [['noplaintext', 'noanonymous'], ['CRAM-MD5']],
    [['nodictionary'], ['PLAIN', 'LOGIN', 'ANONYMOUS']],
    [[], ['PLAIN', 'LOGIN', 'CRAM-MD5', 'ANONYMOUS']],
    [['mutual_auth'], []],
  ];
  for (const [opts, want] of cases) {
    const { options } = parseSecurityOptions(opts);
    assert.deepEqual(offeredMechanisms(announced.map((m) => ({ name: m.name, flags: [...m.flags] })), options), want, opts.join(','));
  }
  assert.deepEqual(parseSecurityOptions(['NoAnonymous', 'bogus']), { options: ['noanonymous'], unknown: ['bogus'] });
});

test('smtpd_sasl_path forms', () => {
  assert.deepEqual(resolveSaslPath('private/auth', '/var/spool/postfix'), { path: '/var/spool/postfix/private/auth' });
  assert.deepEqual(resolveSaslPath('/run/dovecot/auth-client', '/q'), { path: '/run/dovecot/auth-client' });
  assert.deepEqual(resolveSaslPath('inet:127.0.0.1:12345', '/q'), { host: '127.0.0.1', port: 12345 });
});

async function exercise(client: DovecotSaslClient): Promise<void> {
  const mechs = await client.mechanisms();
  assert.deepEqual(mechs.map((m) => m.name).sort(), ['LOGIN', 'PLAIN']);
  assert.deepEqual(await client.start('PLAIN', plain('alice', 'secret'), facts), { kind: 'ok', user: 'alice' });
  const bad = await client.start('PLAIN', plain('alice', 'wrong'), facts);
  assert.equal(bad.kind, 'fail');
  // LOGIN: two challenges, then OK.
  let step = await client.start('LOGIN', undefined, facts);
  assert.equal(step.kind, 'continue');
  assert.equal(step.kind === 'continue' && Buffer.from(step.challenge, 'base64').toString(), 'Username:');
  step = await client.continue(step.kind === 'continue' ? step.id : 0, b64('alice'));
  assert.equal(step.kind === 'continue' && Buffer.from(step.challenge, 'base64').toString(), 'Password:');
  step = await client.continue(step.kind === 'continue' ? step.id : 0, b64('secret'));
  assert.deepEqual(step, { kind: 'ok', user: 'alice' });
  // PLAIN without initial response: an empty challenge first.
  step = await client.start('PLAIN', undefined, { ...facts, secured: true });
  assert.deepEqual(step.kind === 'continue' ? step.challenge : step, '');
  step = await client.continue(step.kind === 'continue' ? step.id : 0, plain('alice', 'secret'));
  assert.deepEqual(step, { kind: 'ok', user: 'alice' });
}

const AUTH_CONF = (dir: string) => `auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = ${dir}/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=${dir}/home/%u
}
service auth {
  unix_listener ${dir}/auth-client {
    mode = 0666
  }
}
`;

test('against real Dovecot 2.3 auth', { skip: oracleSkip('dovecot') }, async (t) => {
  const d = await startDovecot(t, `protocols =\n${AUTH_CONF('@DIR@')}`, ['@DIR@/auth-client']);
  writeFileSync(join(d.dir, 'passwd'), 'alice:{PLAIN}secret\n');
  const client = new DovecotSaslClient({ endpoint: { path: join(d.dir, 'auth-client') } });
  t.after(() => client.close());
  await exercise(client);
});

test("against Postern's own auth service", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'passwd'), 'alice:{PLAIN}secret\n');
  mkdirSync(join(dir, 'home'));
  mkdirSync(join(dir, 'run'));
  writeFileSync(join(dir, 'dovecot.conf'), `base_dir = ${dir}/run\n${AUTH_CONF(dir)}`);
  const { service, listeners } = authFromDovecotConfig(loadDovecotConfig(join(dir, 'dovecot.conf')));
  const srv = await startAuthServer({ service, listeners });
  t.after(() => srv.close());
  const client = new DovecotSaslClient({ endpoint: { path: join(dir, 'auth-client') } });
  t.after(() => client.close());
  await exercise(client);
});

test('a server that is not an auth-client socket, or that stalls, is refused with a clear error', async (t) => {
  const dir = tempDir(t);
  const master = createServer((s) => s.end('VERSION\t1\t1\nSPID\t42\n'));
  const stall = createServer(() => undefined);
  await new Promise<void>((r) => master.listen(join(dir, 'master'), r));
  await new Promise<void>((r) => stall.listen(join(dir, 'stall'), r));
  t.after(() => {
    master.close();
    stall.close();
  });
  await assert.rejects(new DovecotSaslClient({ endpoint: { path: join(dir, 'master') } }).mechanisms(), /auth-master socket/);
  const c = new DovecotSaslClient({ endpoint: { path: join(dir, 'stall') }, timeoutMs: 200 });
  t.after(() => c.close());
  await assert.rejects(c.mechanisms(), /timeout/);
  await assert.rejects(new DovecotSaslClient({ endpoint: { path: join(dir, 'nope') } }).mechanisms(), /ENOENT|No such file/);
});
