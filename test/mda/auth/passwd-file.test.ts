/*
 * passwd-file line format (table), username normalisation, field templates, and the dovecot.conf
 * adapter end to end (a config file → AuthService verifying a password).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parsePasswdFileLine } from '../../../mda/auth/passwd-file-format.js';
import { normalizeUsername } from '../../../mda/auth/username.js';
import { AUTH_SETTING_DEFAULTS, authSettingsFromText } from '../../../mda/auth/settings.js';
import { AuthService } from '../../../mda/auth/auth-service.js';
import { passwdFilePassdb, passwdFileUserdb, parsePasswdFileArgs } from '../../../mda/auth/passwd-file.js';
import { authFromDovecotConfig } from '../../../mda/auth/config-adapter.js';
import { loadDovecotConfig } from '../../../shared/config/dovecot/config.js';
import { tempDir } from '../../helpers/tmp.js';

const LINES: [string, ReturnType<typeof parsePasswdFileLine>][] = [
  ['# comment', undefined],
  ['', undefined],
  [':nouser:1:1', undefined],
  ['alice@example.org:{SHA512-CRYPT}$6$x$y:8:8::/srv/mail/alice::', {
    user: 'alice@example.org', password: '{SHA512-CRYPT}$6$x$y', uid: '8', gid: '8', gecos: '', home: '/srv/mail/alice', shell: '', passdbFields: [], userdbFields: [],
  }],
  ['bob@example.org:{PLAIN}secret:8:8::/srv/mail/bob::userdb_quota_rule=*:storage=1M', {
    user: 'bob@example.org', password: '{PLAIN}secret', uid: '8', gid: '8', gecos: '', home: '/srv/mail/bob', shell: '',
    passdbFields: [], userdbFields: [['quota_rule', '*:storage=1M']],
  }],
  ['carol:pw::::::nodelay allow_nets=127.0.0.1/8 userdb_mail=maildir:~/M', {
    user: 'carol', password: 'pw', uid: '', gid: '', gecos: '', home: '', shell: '',
    passdbFields: [['nodelay', undefined], ['allow_nets', '127.0.0.1/8']], userdbFields: [['mail', 'maildir:~/M']],
  }],
  ['dave:5ebe2294ecd0e0f08eab7690d2a6ee69[34]:1000:1000:Dave:/home/dave:/bin/sh::maildir:~/Mail', {
    user: 'dave', password: '{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69', uid: '1000', gid: '1000', gecos: 'Dave', home: '/home/dave', shell: '/bin/sh',
    passdbFields: [], userdbFields: [['mail', 'maildir:~/Mail']],
  }],
  ['erin', { user: 'erin', password: undefined, uid: '', gid: '', gecos: '', home: '', shell: '', passdbFields: [], userdbFields: [] }],
];

test('passwd-file lines parse as db-passwd-file.c does', () => {
  for (const [line, want] of LINES) assert.deepEqual(parsePasswdFileLine(line), want, line);
});

test('username normalisation: realm, allowed characters, %Lu', () => {
  const rules = { auth_username_chars: AUTH_SETTING_DEFAULTS.auth_username_chars, auth_username_format: '%Lu', auth_default_realm: '' };
  assert.deepEqual(normalizeUsername('Alice@Example.ORG', rules), { ok: true, user: 'alice@example.org' });
  assert.deepEqual(normalizeUsername('u1', { ...rules, auth_default_realm: 'test.example' }), { ok: true, user: 'u1@test.example' });
  assert.deepEqual(normalizeUsername('a b', rules), { ok: false, error: 'Username character disallowed by auth_username_chars:   (username: a b)' });
  assert.deepEqual(normalizeUsername('a/b', rules).ok, false);
  assert.deepEqual(normalizeUsername('', rules), { ok: false, error: 'Empty username' });
  assert.deepEqual(normalizeUsername('Alice', { ...rules, auth_username_format: '%n' }), { ok: true, user: 'Alice' });
});

test('per-domain passwd-file paths, default/override fields, nopassword, allow_nets', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'example.org'));
  writeFileSync(join(dir, 'example.org', 'passwd'), [
    'alice:{PLAIN}secret:1000:1000::/home/alice::',
    'guest::1000:1000::/home/guest::nopassword',
    'netonly:{PLAIN}secret:1000:1000::/home/n::allow_nets=10.0.0.0/8',
    '',
  ].join('\n'));
  const args = parsePasswdFileArgs(`username_format=%n ${dir}/%d/passwd`);
  const service = new AuthService({
    settings: authSettingsFromText({ auth_failure_delay: '0' }),
    passdbs: [{ db: passwdFilePassdb(args) }],
    userdbs: [{ db: passwdFileUserdb(args), default_fields: 'mail=maildir:/var/vmail/%d/%n home=/nowhere', override_fields: 'quota_rule=*:storage=5M' }],
  });
  const facts = { service: 'imap', rip: '127.0.0.1' };
  assert.equal((await service.verifyPlain('alice@example.org', Buffer.from('secret'), facts)).kind, 'ok');
  assert.equal((await service.verifyPlain('alice@other.example', Buffer.from('secret'), facts)).kind, 'fail');
  assert.equal((await service.verifyPlain('alice@../example.org', Buffer.from('secret'), facts)).kind, 'fail');
  assert.equal((await service.verifyPlain('guest@example.org', Buffer.from('anything'), facts)).kind, 'ok');
  assert.equal((await service.verifyPlain('netonly@example.org', Buffer.from('secret'), facts)).kind, 'fail');
  assert.equal((await service.verifyPlain('netonly@example.org', Buffer.from('secret'), { ...facts, rip: '10.1.2.3' })).kind, 'ok');
  assert.deepEqual(await service.userLookup('alice@example.org', facts), {
    kind: 'found', user: 'alice@example.org',
    fields: [['mail', 'maildir:/var/vmail/example.org/alice'], ['home', '/home/alice'], ['uid', '1000'], ['gid', '1000'], ['quota_rule', '*:storage=5M']],
  });
});

test('dovecot.conf adapter: passdb/userdb sections and auth listeners', async (t) => {
  const dir = tempDir(t);
  const users = join(dir, 'users');
  writeFileSync(users, 'bob@example.org:{PLAIN}secret:8:8::/srv/mail/bob::\n');
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, `base_dir = ${dir}/run
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u ${users}
}
userdb {
  driver = static
  args = uid=8 gid=8 home=/var/vmail/%d/%n
}
service auth {
  unix_listener ${dir}/postfix-auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
`);
  const { service, listeners } = authFromDovecotConfig(loadDovecotConfig(conf));
  assert.deepEqual(service.settings.auth_mechanisms, ['PLAIN', 'LOGIN']);
  assert.equal((await service.verifyPlain('bob@example.org', Buffer.from('secret'), { service: 'smtp' })).kind, 'ok');
  assert.deepEqual(await service.userLookup('bob@example.org', { service: 'lmtp' }), {
    kind: 'found', user: 'bob@example.org', fields: [['uid', '8'], ['gid', '8'], ['home', '/var/vmail/example.org/bob']],
  });
  assert.deepEqual(listeners.find((l) => l.path === `${dir}/postfix-auth`), { kind: 'auth-client', path: `${dir}/postfix-auth`, mode: 0o660, user: 'postfix', group: 'postfix' });
  assert.ok(listeners.some((l) => l.kind === 'auth-userdb' && l.path === `${dir}/run/auth-userdb` && l.mode === 0o666));
  assert.ok(!listeners.some((l) => l.path.includes('login')));
});
