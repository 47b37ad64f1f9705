/*
 * dovecot.conf parser tests on an in-memory file tree: sections, lists, filters, includes, `$var`, `<file`,
 * typed values and errors with file and line. Wording checked against the real doveconf (see the interop tests).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSyntaxError } from '../../../../shared/errors/config-error.js';
import { dovecotConfigFromParsed } from '../../../../shared/config/dovecot/config.js';
import { parseDovecotConfig, type ConfigSource, type ParseOptions } from '../../../../shared/config/dovecot/parser.js';

function memSource(files: Readonly<Record<string, string>>): ConfigSource {
  const names = Object.keys(files).sort();
  return {
    readFile(path) {
      const t = files[path];
      if (t === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return t;
    },
    glob(pattern) {
      const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
      return names.filter((n) => re.test(n));
    },
    dirname: (p) => p.slice(0, Math.max(0, p.lastIndexOf('/'))) || '.',
  };
}

function parse(text: string, extra: Readonly<Record<string, string>> = {}, opts: ParseOptions = {}) {
  return dovecotConfigFromParsed(parseDovecotConfig('/etc/dovecot/dovecot.conf', memSource({ '/etc/dovecot/dovecot.conf': text, ...extra }), opts));
}

function parseError(text: string, extra: Readonly<Record<string, string>> = {}): ConfigSyntaxError {
  try {
    parse(text, extra);
  } catch (err) {
    if (err instanceof ConfigSyntaxError) return err;
    throw err;
  }
  assert.fail('expected a ConfigSyntaxError');
}

test('top-level settings with defaults and typed getters', () => {
  const c = parse('mail_location = maildir:/var/vmail/%d/%n\nauth_failure_delay = 5s\nimap_max_line_length = 128k\nmail_debug = YES\n');
  assert.equal(c.get('mail_location'), 'maildir:/var/vmail/%d/%n');
  assert.equal(c.get('auth_failure_delay'), '5 secs');
  assert.equal(c.getSeconds('auth_failure_delay'), 5);
  assert.equal(c.getBytes('imap_max_line_length'), 131072n);
  assert.equal(c.getBool('mail_debug'), true);
  assert.equal(c.get('first_valid_uid'), '500');
  assert.equal(c.getUint('first_valid_uid'), 500);
  assert.equal(c.get('auth_username_format'), '%Lu');
  assert.equal(c.isSet('mail_location'), true);
  assert.equal(c.isSet('first_valid_uid'), false);
  assert.throws(() => c.get('no_such_setting'), /Unknown setting: no_such_setting/);
});

test('protocols, passdb/userdb lists (unnamed and named), plugin', () => {
  const c = parse([
    'protocols = imap pop3 lmtp',
    'passdb {', '  driver = passwd-file', '  args = scheme=SHA512-CRYPT /etc/dovecot/users', '}',
    'passdb second {', '  driver = static', '}',
    'userdb {', '  driver = passwd-file', '  default_fields = uid=vmail home=/var/vmail/%d/%n', '}',
    'plugin {', '  quota = maildir:User quota', '}', '',
  ].join('\n'));
  assert.deepEqual(c.protocols(), ['imap', 'pop3', 'lmtp']);
  assert.deepEqual(c.passdbs().map((p) => [p.name, p.get('driver'), p.get('args'), p.get('result_success')]), [
    ['', 'passwd-file', 'scheme=SHA512-CRYPT /etc/dovecot/users', 'return-ok'],
    ['second', 'static', '', 'return-ok'],
  ]);
  assert.equal(c.userdbs()[0]?.get('default_fields'), 'uid=vmail home=/var/vmail/%d/%n');
  assert.deepEqual([...c.plugin()], [['quota', 'maildir:User quota']]);
});

test('namespace with mailboxes; repeated named sections merge', () => {
  const c = parse([
    'namespace inbox {', '  inbox = yes', '  mailbox "Sent Messages" {', '    special_use = \\Sent', '  }', '}',
    'namespace inbox {', '  separator = /', '  mailbox Trash {', '    auto = subscribe', '    special_use = \\Trash', '  }', '}', '',
  ].join('\n'));
  const ns = c.namespaces();
  assert.equal(ns.length, 1);
  assert.equal(ns[0]?.name, 'inbox');
  assert.equal(ns[0]?.get('inbox'), 'yes');
  assert.equal(ns[0]?.get('separator'), '/');
  assert.equal(ns[0]?.get('type'), 'private');
  assert.deepEqual(ns[0]?.sections('mailbox').map((m) => [m.name, m.get('special_use'), m.get('auto')]), [
    ['Sent Messages', '\\Sent', 'no'], ['Trash', '\\Trash', 'subscribe'],
  ]);
});

test('services: built-in defaults, new listeners, modified ones', () => {
  const c = parse([
    'service lmtp {', '  unix_listener /var/spool/postfix/private/dovecot-lmtp {', '    mode = 0600', '    user = postfix', '  }', '}',
    'service auth {', '  unix_listener auth-userdb {', '    mode = 600', '  }', '}', '',
  ].join('\n'));
  const lmtp = c.service('lmtp');
  assert.deepEqual(lmtp?.sections('unix_listener').map((l) => [l.name, l.get('mode'), l.get('user')]), [
    ['lmtp', '0666', ''], ['/var/spool/postfix/private/dovecot-lmtp', '0600', 'postfix'],
  ]);
  // mode without a leading 0 is decimal, as in Dovecot
  assert.equal(c.service('auth')?.sections('unix_listener').find((l) => l.name === 'auth-userdb')?.get('mode'), '01130');
  assert.equal(c.service('imap-login')?.sections('inet_listener').find((l) => l.name === 'imaps')?.get('port'), '993');
  assert.ok(c.services().length >= 30);
  assert.equal(c.service('nosuch'), undefined);
});

test('filters: protocol, local, remote, local_name; most specific wins', () => {
  const c = parse([
    'mail_plugins = quota',
    'protocol imap {', '  mail_plugins = $mail_plugins imap_quota', '}',
    'local 10.0.0.0/8 {', '  login_greeting = inside', '  protocol imap {', '    login_greeting = inside imap', '  }', '}',
    'remote 192.0.2.1 {', '  mail_max_userip_connections = 3', '}',
    'local_name mail.example.org {', '  ssl_cert = </etc/ssl/mail.pem', '}', '',
  ].join('\n'));
  assert.equal(c.get('mail_plugins'), 'quota');
  assert.equal(c.get('mail_plugins', { protocol: 'imap' }), 'quota imap_quota');
  assert.equal(c.get('mail_plugins', { protocol: 'pop3' }), 'quota');
  assert.equal(c.get('login_greeting', { localIp: '10.1.2.3' }), 'inside');
  assert.equal(c.get('login_greeting', { localIp: '10.1.2.3', protocol: 'imap' }), 'inside imap');
  assert.equal(c.get('login_greeting', { localIp: '11.1.2.3', protocol: 'imap' }), 'Dovecot (Debian) ready.');
  assert.equal(c.getUint('mail_max_userip_connections', { remoteIp: '192.0.2.1' }), 3);
  assert.equal(c.get('ssl_cert', { localName: 'MAIL.example.org' }), '</etc/ssl/mail.pem');
  assert.equal(c.filters.length, 5);
});

test('includes: globbed, sorted, relative to the including file; include_try tolerates missing', () => {
  const c = parse('!include conf.d/*.conf\n!include_try local.conf\n!include_try nothing/*.conf\n', {
    '/etc/dovecot/conf.d/20-b.conf': 'mail_location = maildir:~/B\n',
    '/etc/dovecot/conf.d/10-a.conf': 'mail_location = maildir:~/A\nmail_uid = vmail\n',
  });
  assert.equal(c.get('mail_location'), 'maildir:~/B');
  assert.equal(c.get('mail_uid'), 'vmail');
});

test('$var: self-references expand, others stay; -x expands set ones', () => {
  let c = parse('mail_plugins = a\nmail_plugins = $mail_plugins b\nmail_home = /h/$mail_uid\nmail_uid = x\nmail_gid = $mail_uid\n');
  assert.equal(c.get('mail_plugins'), 'a b');
  assert.equal(c.get('mail_home'), '/h/$mail_uid');
  assert.equal(c.get('mail_gid'), '$mail_uid');
  c = parse('mail_uid = x\nmail_gid = $mail_uid\nmail_home = /h/$mail_chroot\nmail_plugins = $ENV:HOME\n', {}, { expandValues: true, env: { HOME: '/root' } });
  assert.equal(c.get('mail_gid'), 'x');
  assert.equal(c.get('mail_home'), '/h/$mail_chroot');
  assert.equal(c.get('mail_plugins'), '/root');
});

test('<file: kept as <path, read verbatim relative to the file with expandValues', () => {
  assert.equal(parse('ssl_cert = <certs/c.pem\n').get('ssl_cert'), '<certs/c.pem');
  const c = parse('ssl_cert = <certs/c.pem\n', { '/etc/dovecot/certs/c.pem': 'PEM\n\n' }, { expandValues: true });
  assert.equal(c.get('ssl_cert'), 'PEM\n\n');
});

interface ErrorRow {
  readonly text: string;
  readonly extra?: Readonly<Record<string, string>>;
  readonly file?: string;
  readonly line: number;
  readonly message: string;
}

const F = '/etc/dovecot/dovecot.conf';
const ERRORS: readonly ErrorRow[] = [
  { text: 'foo = bar\n', line: 1, message: 'Unknown setting: foo' },
  { text: '\n\nservice x {\n  foo = 1\n}\n', line: 4, message: 'Unknown setting: service { foo' },
  { text: 'foo bar {\n}\n', line: 1, message: 'Unknown setting: foo { foo' },
  { text: 'plugin {\n  x {\n  }\n}\n', line: 2, message: 'Section not allowed here' },
  { text: '}\n', line: 1, message: "Unexpected '}'" },
  { text: 'x { a = b }\n', line: 1, message: "Garbage after '{'" },
  { text: 'ssl = bad\n', line: 1, message: 'Invalid value: bad' },
  { text: 'first_valid_uid = abc\n', line: 1, message: 'Invalid number abc: Not a valid number' },
  { text: 'auth_failure_delay = 5\n', line: 1, message: "Time interval '5' is missing units (add e.g. 's' for seconds)" },
  { text: 'imap_max_line_length = 5x\n', line: 1, message: 'Invalid size: 5x' },
  { text: 'mail_debug = maybe\n', line: 1, message: 'Invalid boolean value: maybe (use yes or no)' },
  { text: 'service a {\n  inet_listener b {\n    port = 99999\n  }\n}\n', line: 3, message: 'Invalid port number 99999' },
  { text: 'protocol imap {\n  protocol pop3 {\n  }\n}\n', line: 2, message: 'Nested protocol { protocol { .. } } block not allowed' },
  { text: 'local 1.2.3.4/33 {\n}\n', line: 1, message: 'Invalid network mask: 33' },
  { text: '!include conf.d/*.conf\n', line: 1, message: 'No matches' },
  { text: '!include a.conf\n', extra: { '/etc/dovecot/a.conf': 'mail_uid = x\nbad line\n' }, file: '/etc/dovecot/a.conf', line: 2, message: "Expecting '{'" },
  { text: 'dovecot_config_version = 2.4.0\n', line: 1, message: 'Unknown setting: dovecot_config_version (this is a Dovecot 2.4 configuration; Postern reads Dovecot 2.3 syntax)' },
];

for (const row of ERRORS) {
  test(`parser error: ${row.message}`, () => {
    const err = parseError(row.text, row.extra);
    assert.equal(err.file, row.file ?? F);
    assert.equal(err.line, row.line);
    assert.equal(err.detail, row.message);
    assert.equal(err.message, `Error in configuration file ${row.file ?? F} line ${row.line}: ${row.message}`);
  });
}

test('parser error: unclosed section names where it started', () => {
  const err = parseError('mail_uid = x\nservice x {\n');
  assert.equal(err.message, `Error in configuration file ${F}: Missing '}' (section started at ${F}:2)`);
});

test('parser error: missing root file', () => {
  assert.throws(() => parseDovecotConfig('/nonexist.conf', memSource({})), { message: 'open(/nonexist.conf) failed: No such file or directory' });
});

test('warnings: ambiguous # and a global setting after a filter', () => {
  const warns: string[] = [];
  parse('protocol imap {\n  mail_plugins = a\n}\nmail_plugins = b#x\n', {}, { warn: (m) => warns.push(m) });
  assert.deepEqual(warns, [
    `Configuration file ${F} line 4: Ambiguous '#' character in line, treating it as comment. Add a space before it to remove this warning.`,
    `${F} line 4: Global setting mail_plugins won't change the setting inside an earlier filter at ${F} line 2 (if this is intentional, avoid this warning by moving the global setting before ${F} line 2)`,
  ]);
});
