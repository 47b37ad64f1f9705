/* doveconf without the real program: header lines, value lookups, secrets, exit statuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliExit } from '../../../shared/cli/diag.js';
import { DOVECONF_VERSION_LINE, doveconf } from '../../../mda/cli/doveconf.js';
import { tempDir } from '../../helpers/tmp.js';
import { VIRTUAL_CONF } from '../../shared/config/dovecot/fixtures.js';

function call(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  let status: number;
  try {
    status = doveconf(args, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, env: {} });
  } catch (err) {
    if (!(err instanceof CliExit)) throw err;
    status = err.status;
  }
  return { status, stdout, stderr };
}

test('doveconf -n prints the header, then non-default settings sorted and nested', (t) => {
  const conf = join(tempDir(t), 'dovecot.conf');
  writeFileSync(conf, VIRTUAL_CONF);
  const r = call(['-c', conf, '-n']);
  assert.equal(r.status, 0);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], `# ${DOVECONF_VERSION_LINE}: ${conf}`);
  assert.match(lines[1] ?? '', /^# OS: /);
  assert.match(lines[2] ?? '', /^# Hostname: /);
  assert.ok(r.stdout.includes('service lmtp {\n  unix_listener /var/spool/postfix/private/dovecot-lmtp {\n    group = postfix\n    mode = 0600\n    user = postfix\n  }\n}\n'));
  assert.ok(r.stdout.includes('  mailbox "Sent Messages" {\n    special_use = \\Sent\n  }\n'));
  assert.ok(r.stdout.includes('ssl_key = # hidden, use -P to show it\n'));
  assert.ok(r.stdout.endsWith('protocol imap {\n  imap_idle_notify_interval = 29 mins\n  mail_max_userip_connections = 20\n  mail_plugins = " quota imap_quota"\n}\n'));
});

test('doveconf NAME, -h NAME, section paths, -P', (t) => {
  const conf = join(tempDir(t), 'dovecot.conf');
  writeFileSync(conf, VIRTUAL_CONF);
  assert.equal(call(['-c', conf, 'mail_location']).stdout, 'mail_location = maildir:/var/vmail/%d/%n\n');
  assert.equal(call(['-c', conf, '-h', 'mail_location']).stdout, 'maildir:/var/vmail/%d/%n\n');
  assert.equal(call(['-c', conf, 'service/lmtp/unix_listener/lmtp/mode']).stdout, 'service/lmtp/unix_listener/lmtp/mode = 0666\n');
  assert.equal(call(['-c', conf, '-f', 'protocol=lmtp', 'mail_plugins']).stdout, 'mail_plugins =  quota\n');
  assert.equal(call(['-c', conf, 'nosuch']).stdout, '');
  assert.match(call(['-c', conf, '-n', '-P']).stdout, /^ssl_key = <\/etc\/ssl\/private\/mail\.key$/m);
  assert.equal(call(['-c', conf, 'plugin']).stdout, 'plugin {\n  quota = maildir:User quota\n  quota_grace = 10%%\n  quota_rule = *:storage=1G\n}\n');
  assert.match(call(['-c', conf, '-S']).stdout, /^namespace\/inbox\/mailbox\/Sent\\_Messages\/special_use=\\Sent$/m);
});

test('doveconf fatal errors exit 89 with Dovecot wording', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'bad.conf'), 'mail_location = x\nfoo = bar\n');
  const r = call(['-c', join(dir, 'bad.conf'), '-n']);
  assert.equal(r.status, 89);
  assert.equal(r.stdout, `# ${DOVECONF_VERSION_LINE}: ${join(dir, 'bad.conf')}\n`);
  assert.equal(r.stderr, `doveconf: Fatal: Error in configuration file ${join(dir, 'bad.conf')} line 2: Unknown setting: foo\n`);
  assert.equal(call(['-z']).stderr, "doveconf: invalid option -- 'z'\n");
  assert.equal(call(['-c', join(dir, 'bad.conf'), '-f', 'x=y', 'mail_location']).stderr, 'doveconf: Fatal: Unknown filter argument: x=y\n');
  writeFileSync(join(dir, 'v24.conf'), 'dovecot_config_version = 2.4.0\n');
  assert.match(call(['-c', join(dir, 'v24.conf'), '-n']).stderr, /Dovecot 2\.4 configuration/);
});

test('doveconf -d reads no file and prints every default', () => {
  const r = call(['-c', '/nonexistent/dovecot.conf', '-d']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^# NOTE: Send doveconf -n output instead when asking for help\.$/m);
  assert.match(r.stdout, /^auth_username_format = %Lu$/m);
  assert.match(r.stdout, /^log_timestamp = "%b %d %H:%M:%S "$/m);
  assert.match(r.stdout, /^service auth-worker \{$/m);
});
