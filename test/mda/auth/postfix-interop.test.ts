/*
 * INTEROP: real Postfix 3.7 (`smtpd_sasl_type = dovecot`) authenticating SMTP clients against
 * OUR auth-client socket. Right password → 235 2.7.0, wrong password or unknown user → 535 5.7.8,
 * AUTH PLAIN (with and without initial response) and AUTH LOGIN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { oracleSkip } from '../../helpers/oracle.js';
import { tempDir } from '../../helpers/tmp.js';
import { startPostfix, makeTraversable } from '../../helpers/postfix-instance.js';
import { AuthService } from '../../../mda/auth/auth-service.js';
import { authSettingsFromText } from '../../../mda/auth/settings.js';
import { passwdFilePassdb, passwdFileUserdb, parsePasswdFileArgs } from '../../../mda/auth/passwd-file.js';
import { startAuthServer } from '../../../mda/auth/server.js';
import { generate } from '../../../mda/auth/schemes/registry.js';
import { SmtpClient } from '../../helpers/smtp-client.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const isRoot = process.getuid?.() === 0;

test('real Postfix authenticates through our auth-client socket', {
  skip: oracleSkip('postfix') || (isRoot ? false : 'needs root to start a private Postfix'),
  timeout: 120_000,
}, async (t) => {
  const dir = tempDir(t, 'postern-auth-');
  makeTraversable(dir);
  const users = join(dir, 'users');
  writeFileSync(users, [
    `alice@example.org:${await generate('SHA512-CRYPT', 'secret')}:8:8::/srv/mail/alice::`,
    'bob@example.org:{PLAIN}secret:8:8::/srv/mail/bob::userdb_quota_rule=*:storage=1M',
    '',
  ].join('\n'));
  chmodSync(users, 0o600);
  const logs: string[] = [];
  const log = { info: (s: string) => logs.push(`auth: Info: ${s}`), error: (s: string) => logs.push(`auth: Error: ${s}`) };
  const args = parsePasswdFileArgs(`scheme=CRYPT username_format=%u ${users}`);
  const service = new AuthService({
    settings: authSettingsFromText({ auth_mechanisms: 'plain login', auth_failure_delay: '200 msecs', auth_verbose: 'yes' }),
    passdbs: [{ db: passwdFilePassdb(args) }],
    userdbs: [{ db: passwdFileUserdb(args) }],
    log,
  });
  const sock = join(dir, 'auth-client');
  const server = await startAuthServer({ service, listeners: [{ kind: 'auth-client', path: sock, mode: 0o666 }], log });
  t.after(() => server.close());

  const pf = await startPostfix(t, {
    main: {
      smtpd_sasl_type: 'dovecot',
      smtpd_sasl_path: sock,
      smtpd_sasl_auth_enable: 'yes',
      smtpd_tls_security_level: 'none',
    },
  });

  const session = async (fn: (c: SmtpClient) => Promise<void>): Promise<void> => {
    const c = await SmtpClient.open(pf.host, pf.port, { timeoutMs: 20_000 });
    try {
      assert.equal((await c.reply()).code, 220);
      const ehlo = await c.cmd('EHLO probe.test.example');
      assert.equal(ehlo.code, 250, ehlo.text);
      assert.ok(ehlo.lines.includes('250-AUTH PLAIN LOGIN'), `${ehlo.text}\n--- maillog:\n${pf.log()}\n--- auth:\n${logs.join('\n')}`);
      await fn(c);
      await c.cmd('QUIT');
    } finally {
      c.close();
    }
  };

  await session(async (c) => {
    const r = await c.cmd(`AUTH PLAIN ${b64('\0alice@example.org\0secret')}`);
    assert.equal(r.text, '235 2.7.0 Authentication successful', `${pf.log()}\n${logs.join('\n')}`);
  });
  await session(async (c) => {
    const r = await c.cmd(`AUTH PLAIN ${b64('\0alice@example.org\0wrong')}`);
    assert.equal(r.code, 535, r.text);
    assert.match(r.text, /^535 5\.7\.8 Error: authentication failed: /);
  });
  await session(async (c) => {
    assert.equal((await c.cmd('AUTH LOGIN')).text, '334 VXNlcm5hbWU6');
    assert.equal((await c.cmd(b64('bob@example.org'))).text, '334 UGFzc3dvcmQ6');
    assert.equal((await c.cmd(b64('secret'))).text, '235 2.7.0 Authentication successful');
  });
  await session(async (c) => {
    assert.equal((await c.cmd('AUTH PLAIN')).text, '334 ');
    assert.equal((await c.cmd(b64('\0Bob@Example.org\0secret'))).text, '235 2.7.0 Authentication successful');
  });
  await session(async (c) => {
    const r = await c.cmd(`AUTH PLAIN ${b64('\0nobody@example.org\0secret')}`);
    assert.match(r.text, /^535 5\.7\.8 Error: authentication failed: /);
    const again = await c.cmd(`AUTH LOGIN ${b64('alice@example.org')}`);
    assert.equal(again.text, '334 UGFzc3dvcmQ6');
    assert.equal((await c.cmd(b64('secret'))).text, '235 2.7.0 Authentication successful');
  });

  assert.ok(logs.includes('auth: Info: passwd-file(alice@example.org,127.0.0.1): Password mismatch'), logs.join('\n'));
  assert.ok(logs.includes('auth: Info: passwd-file(nobody@example.org,127.0.0.1): unknown user'), logs.join('\n'));
  assert.ok(!logs.some((l) => l.includes('secret') || l.includes('wrong')), 'passwords must never be logged');
  const maillog = pf.log();
  assert.match(maillog, /warning: localhost\[127\.0\.0\.1\]: SASL PLAIN authentication failed: \(reason unavailable\), sasl_username=alice@example\.org/);
  assert.match(maillog, /disconnect from localhost\[127\.0\.0\.1\] ehlo=1 auth=1 quit=1 commands=3/);
});
