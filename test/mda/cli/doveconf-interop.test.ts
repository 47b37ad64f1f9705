/*
 * Interop: the real doveconf (Dovecot 2.3.19.1) and ours on the same files must print the same stdout and stderr
 * and exit with the same status. Differences we make on purpose are normalised here and only here:
 * - line 1 names the build: `# 2.3.19.1 (9b53102964): PATH` vs `# 2.3.19.1 (Postern): PATH`;
 * - the `# Pigeonhole version …` banner is Dovecot's plugin's, and Postern has no Pigeonhole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOracle, oracleSkip, run, type RunResult } from '../../helpers/oracle.js';
import { tempDir } from '../../helpers/tmp.js';
import { INCLUDE_TREE, VIRTUAL_CONF, writeTree } from '../../shared/config/dovecot/fixtures.js';

const OURS = fileURLToPath(new URL('../../../mda/cli/doveconf.js', import.meta.url));
const skip = oracleSkip('doveconf');

function normalise(r: RunResult): RunResult {
  const stdout = r.stdout
    .replace(/^# 2\.3\.19\.1 \([0-9a-f]+\): /, '# 2.3.19.1 (Postern): ')
    .replace(/^# Pigeonhole version .*\n/m, '');
  return { status: r.status, stdout, stderr: r.stderr };
}

function compare(conf: string, args: readonly string[], cwd: string): void {
  const real = normalise(run('doveconf', ['-c', conf, ...args], { cwd, env: { ...process.env, PATH: `${dirname(findOracle('doveconf') ?? '/usr/bin/doveconf')}:${process.env['PATH'] ?? ''}` } }));
  const ours = run(process.execPath, [OURS, '-c', conf, ...args], { cwd });
  assert.deepEqual(ours, real, `doveconf -c ${conf} ${args.join(' ')}`);
}

const FLAGS: ReadonlyArray<readonly string[]> = [
  ['-n'], ['-a'], ['-N'], ['-n', '-P'], ['-a', '-P'], ['-S'], ['-S', '-n'], ['-S', '-N'], ['-n', '-x'], ['-a', '-x'], ['-x', '-S'],
  ['-n', '-f', 'protocol=imap'], ['-N', '-f', 'protocol=lmtp'], ['-n', '-f', 'protocol=pop3', '-f', 'local=192.168.1.1'],
  ['-a', '-f', 'protocol=lmtp'], ['-n', '-f', 'remote=2001:db8::1'], ['-n', '-f', 'lname=imap.example.org'],
  ['-S', '-f', 'protocol=imap'], ['-d'],
  ['mail_location'], ['-h', 'mail_location'], ['namespace'], ['plugin'], ['service/lmtp'],
  ['service/auth/unix_listener/auth-userdb/mode'], ['-h', 'ssl_key'], ['nosuch'], ['-f', 'protocol=imap', 'mail_plugins'],
  ['mail_plugins', 'login_greeting'], ['-n', 'namespace/inbox'], ['-S', 'service/auth'], ['-f', 'foo=bar', 'mail_location'],
];

test('doveconf matches the real one on Debian\'s stock /etc/dovecot', { skip }, (t) => {
  const dir = tempDir(t, 'doveconf-stock-');
  cpSync('/etc/dovecot', join(dir, 'dovecot'), { recursive: true });
  for (const f of FLAGS) compare(join(dir, 'dovecot', 'dovecot.conf'), f, dir);
});

test('doveconf matches the real one on a Postfix-facing virtual-user config', { skip }, (t) => {
  const dir = tempDir(t, 'doveconf-virt-');
  writeFileSync(join(dir, 'dovecot.conf'), VIRTUAL_CONF);
  for (const f of FLAGS) compare(join(dir, 'dovecot.conf'), f, dir);
});

test('doveconf matches the real one on includes, quoting, <file, $var and filters', { skip }, (t) => {
  const dir = writeTree(tempDir(t, 'doveconf-inc-'), INCLUDE_TREE);
  for (const f of FLAGS) compare(join(dir, 'dovecot.conf'), f, dir);
  // relative -c path: error messages and the header name files as the program was told
  compare('dovecot.conf', ['-n'], dir);
});

/** Small configs, mostly malformed: same diagnostics, same exit status (89 on fatal errors). */
const SNIPPETS: readonly string[] = [
  'x { mode = 0666 }\n', 'foo\n', '}\n', 'service x {\n', 'service x y z {\n}\n', 'mail_location = "abc\n',
  'mail_location = "a\\"b\\\\c\\nd" \n', "mail_location = 'a b'#c\n", 'mail_location = a#b\n', 'mail_location = a #b\n',
  'mail_location = a\\\n  b\n', '!include nonexist\n', '!include_try nonexist\n', '!include\n', '!include_try\n',
  '!include_try /nonexist/*.conf\n', '!include /nonexist/*.conf\n', 'foo = bar\n', 'mail_location = $foo\n',
  'mail_plugins = a\nmail_plugins = b $mail_plugins\n', 'mail_plugins = a\nprotocol imap {\n mail_plugins = $mail_plugins b\n}\n',
  'mail_location = x\nmail_home = $mail_location/y\n', "mail_location = x\nmail_home = '$mail_location/y'\n",
  'protocol imap {\n protocol pop3 {\n }\n}\n', 'local 1.2.3.4/33 {\n}\n', 'ssl = bad\n', 'first_valid_uid = abc\n',
  'auth_failure_delay = 5\n', 'auth_failure_delay = 5 fortnights\n', 'auth_failure_delay = 120s\n', 'imap_max_line_length = 5x\n',
  'imap_max_line_length = 65536\n', 'mail_debug = maybe\n', 'mail_debug = YES\n', 'mail_debug = 1\n',
  'service foo {\n inet_listener x {\n port = 99999\n}\n}\n', 'service x {\n  unix_listener y {\n    mode = 600\n  }\n}\n',
  '=foo\n', 'foo bar {\n}\n', 'service x {\n  foo = 1\n}\n', 'plugin {\n  sieve = x\n  foo {\n  }\n}\n',
  "namespace 'a b' {\n}\n", 'namespace "a\\"b" {\n}\n', 'namespace "a=b/c,d\\\\e" {\n}\n', "namespace 'ab' {\n}\n",
  'namespace {\n  prefix = x/\n}\nnamespace {\n  prefix = y/\n}\n', 'namespace a {\n  prefix = x/\n}\nnamespace a {\n  separator = /\n}\n',
  'login_greeting = "\n', 'login_greeting = ""\n', 'mail_location = "x" y\n', 'mail_location = a\\\n\n# c\n  b\n',
  'mail_location = a \\\n', 'protocol !imap {\n  mail_location = x\n}\n', 'protocol {\n}\n',
  'service auth {\n  unix_listener auth-userdb {\n    mode = 0666\n  }\n}\n',
  'remote 10.0.0.0/8 {\n  login_greeting = x\n}\nlogin_greeting = y\n', 'mail_location= x\n', 'mail_location =x\n',
  '  # x\n\tmail_location\t=\tb\t\n', 'mail_location = "a#b"\n', 'mail_location = "a""b"\n',
  'userdb {\n  driver = passwd\n}\npassdb {\n  driver=pam\n}\n', 'protocol imap {\n  plugin {\n  a = b\n  }\n}\n',
  'local_name a.b {\n  protocol imap {\n  mail_location = x\n  }\n}\n', 'remote 1.2.3.0/24 {\n  mail_location = x\n}\n',
  'local ::1 {\n  mail_location = x\n}\nlocal 10.0.0.1 {\n  mail_location = y\n}\n',
  'ssl_key = x\nssl_dh = x\nssl_alt_key = x\nssl_key_password = x\ndoveadm_password = x\ndoveadm_api_key = x\nssl_cert = x\n',
  'passdb {\n  driver = static\n  args = password=x nopassword\n}\n', 'login_greeting = \' lead\'\n',
  'mail_location = <nonexist\n', 'mail_location = maildir:/tmp\n', 'mail_location = maildir:/tmp:INDEX=/x\n', 'mail_location = /tmp\n',
  'remote 1.2.3.4 {\n  auth_debug = yes\n}\n', 'local 1.2.3.4 {\n  protocol imap {\n    first_valid_uid = 1\n  }\n}\n',
  'remote 1.2.3.4 {\n  passdb {\n    driver = pam\n  }\n}\n', 'protocol imap {\n  auth_debug = yes\n}\n',
  'remote 1.2.3.4 {\n  disable_plaintext_auth = no\n}\n', 'import_environment = HOME\nmail_plugins = $ENV:HOME b\n',
];

test('doveconf matches the real one on small and malformed configs', { skip }, (t) => {
  const dir = tempDir(t, 'doveconf-snip-');
  for (const s of SNIPPETS) {
    writeFileSync(join(dir, 't.conf'), s);
    compare('t.conf', ['-n'], dir);
    compare(join(dir, 't.conf'), ['-S', '-N'], dir);
  }
});

test('doveconf rejects unknown options and -f arguments like the real one', { skip }, (t) => {
  const dir = tempDir(t, 'doveconf-opt-');
  writeFileSync(join(dir, 't.conf'), 'mail_location = x\n');
  compare('t.conf', ['-z'], dir);
  compare('t.conf', ['-f', 'bogus=1', 'mail_location'], dir);
  compare('/nonexist/dovecot.conf', ['-n'], dir);
});

const asNobody = process.getuid?.() === 0 && findOracle('runuser') !== undefined;

test('doveconf: unreadable root file, !include and !include_try (run as nobody)', { skip: skip || (asNobody ? false : 'needs root and runuser') }, (t) => {
  const dir = tempDir(t, 'doveconf-perm-');
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'inc.conf'), 'mail_uid = x\n', { mode: 0o000 });
  const cases: ReadonlyArray<readonly [string, number]> = [['!include inc.conf\n', 0o644], ['!include_try inc.conf\n', 0o644], ['mail_uid = y\n', 0o000]];
  for (const [text, mode] of cases) {
    writeFileSync(join(dir, 'd.conf'), text);
    chmodSync(join(dir, 'd.conf'), mode);
    const conf = join(dir, 'd.conf');
    const real = normalise(run(findOracle('runuser') ?? 'runuser', ['-u', 'nobody', '--', findOracle('doveconf') ?? 'doveconf', '-c', conf, '-n']));
    const ours = run(findOracle('runuser') ?? 'runuser', ['-u', 'nobody', '--', process.execPath, OURS, '-c', conf, '-n']);
    assert.deepEqual(ours, real, text);
  }
});
