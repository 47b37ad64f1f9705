/*
 * The system drivers over fake /etc/passwd and /etc/shadow files: passwd(5)/shadow(5) line parsing
 * (table), userdb passwd lookups, template args, iteration within first/last_valid_uid, the shadow
 * and passwd passdbs (yescrypt, SHA-512 and MD5 crypt hashes; locked `!`/`*` entries are
 * "user_disabled"; an unreadable file is a temporary failure), and the dovecot.conf adapter
 * (Debian's auth-system.conf.ext shape; `driver = pam` refused at start-up naming `shadow`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePasswdLine, parseShadowLine, getpwnam, getspnam } from '../../../mda/auth/sysusers.js';
import { passwdPassdb, passwdUserdb, shadowPassdb } from '../../../mda/auth/system-db.js';
import { AuthService } from '../../../mda/auth/auth-service.js';
import { authSettingsFromText } from '../../../mda/auth/settings.js';
import { authFromDovecotConfig, PAM_UNSUPPORTED } from '../../../mda/auth/config-adapter.js';
import { AuthBackendError } from '../../../mda/auth/errors.js';
import { loadDovecotConfig } from '../../../shared/config/dovecot/config.js';
import { tempDir } from '../../helpers/tmp.js';

// libxcrypt hashes of "S3cret!" (yescrypt: Debian's default j9T parameters).
const YESCRYPT = '$y$j9T$l99RfDvWCng5nV8yuK6us0$B8TZuclKHaaYap3hkMrtvV32A6wi4pOU4ynYN9OKm12';
const SMALL_YESCRYPT = '$y$j7.$abcd$00K6K6nB2rA43BBcWBiq3UnpYB0ABP02mJ5.FAMQl00'; // "pw"
const MD5 = '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/'; // "password"

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  '# a comment',
  '+@netgroup::::::',
  'broken:x:notanumber:1::/x:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash',
  'bob:x:1001:100::/home/bob:/bin/sh',
  'carol:x:1002:1002::/home/carol:/bin/sh',
  'dave:x:1003:1003::/home/dave:/bin/sh',
  `legacy:${MD5}:1004:1004::/home/legacy:/bin/sh`,
  'alice:x:2000:2000::/home/alice2:/bin/sh',
  '',
].join('\n');

const SHADOW = [
  'root:*:19000:0:99999:7:::',
  'nobody:*:19000:0:99999:7:::',
  `alice:${YESCRYPT}:20000:0:99999:7:::`,
  `bob:${SMALL_YESCRYPT}:20000:0:99999:7:::`,
  `carol:!${SMALL_YESCRYPT}:20000:0:99999:7:::`,
  'dave::20000:0:99999:7:::',
  '',
].join('\n');

function files(t: Parameters<typeof tempDir>[0]): { passwd: string; shadow: string; dir: string } {
  const dir = tempDir(t);
  const passwd = join(dir, 'passwd');
  const shadow = join(dir, 'shadow');
  writeFileSync(passwd, PASSWD);
  writeFileSync(shadow, SHADOW, { mode: 0o640 });
  return { passwd, shadow, dir };
}

test('passwd(5) and shadow(5) lines', () => {
  const rows: [string, ReturnType<typeof parsePasswdLine>][] = [
    ['alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash', { name: 'alice', passwd: 'x', uid: 1000, gid: 1000, gecos: 'Alice,,,', dir: '/home/alice', shell: '/bin/bash' }],
    ['svc:*:7:8:::', { name: 'svc', passwd: '*', uid: 7, gid: 8, gecos: '', dir: '', shell: '' }],
    ['x:x:1:1::/h:/bin/sh:extra', { name: 'x', passwd: 'x', uid: 1, gid: 1, gecos: '', dir: '/h', shell: '/bin/sh:extra' }],
    ['short:x:1:1::/h', undefined],
    ['bad:x:-1:1::/h:/bin/sh', undefined],
    ['+:::::::', undefined],
    ['-user:::::::', undefined],
    ['# c:x:1:1::/h:/bin/sh', undefined],
    ['', undefined],
  ];
  for (const [line, want] of rows) assert.deepEqual(parsePasswdLine(line), want, line);
  assert.deepEqual(parseShadowLine('alice:$6$x$y:1:0:99999:7:::'), { name: 'alice', passwd: '$6$x$y' });
  assert.deepEqual(parseShadowLine('nopw'), undefined);
  assert.deepEqual(parseShadowLine('+::::::::'), undefined);
});

test('getpwnam/getspnam over fake files: first entry wins, exact names only', async (t) => {
  const f = files(t);
  assert.equal((await getpwnam('alice', f.passwd))?.uid, 1000);
  assert.equal(await getpwnam('alic', f.passwd), undefined);
  assert.equal(await getpwnam('broken', f.passwd), undefined);
  assert.equal((await getspnam('bob', f.shadow))?.passwd, SMALL_YESCRYPT);
  assert.equal(await getspnam('nosuch', f.shadow), undefined);
  await assert.rejects(getpwnam('x', join(f.dir, 'missing')), { code: 'ENOENT' });
});

test('userdb passwd: fields in the real USER reply order, templates, iteration', async (t) => {
  const f = files(t);
  const db = passwdUserdb('blocking=no', { passwdFile: f.passwd });
  const req = { service: 'imap' };
  assert.deepEqual(await db.lookup({ ...req, user: 'alice' }), {
    kind: 'found', user: 'alice',
    fields: [['system_groups_user', 'alice'], ['uid', '1000'], ['gid', '1000'], ['home', '/home/alice']],
  });
  assert.deepEqual(await db.lookup({ ...req, user: 'root' }), {
    kind: 'found', user: 'root', fields: [['system_groups_user', 'root'], ['uid', '0'], ['gid', '0'], ['home', '/root']],
  });
  assert.deepEqual(await db.lookup({ ...req, user: 'nosuch' }), { kind: 'notfound' });
  assert.deepEqual(await db.lookup({ ...req, user: 'alice@example.org' }), { kind: 'notfound' });

  const warnings: string[] = [];
  const tpl = passwdUserdb('home=/srv/mail/%u mail=maildir:~/Maildir blocking=yes', {
    passwdFile: f.passwd, log: { info: () => undefined, error: () => undefined, warn: (s) => warnings.push(s) },
  });
  assert.deepEqual(warnings, ['userdb passwd: Move templates args to override_fields setting']);
  assert.deepEqual(await tpl.lookup({ ...req, user: 'bob' }), {
    kind: 'found', user: 'bob',
    fields: [['system_groups_user', 'bob'], ['uid', '1001'], ['gid', '100'], ['home', '/srv/mail/bob'], ['mail', 'maildir:~/Maildir']],
  });

  const names = async (o: { first_valid_uid?: number; last_valid_uid?: number }): Promise<string[]> => {
    const out: string[] = [];
    for await (const n of passwdUserdb('', { passwdFile: f.passwd, ...o }).list!()) out.push(n);
    return out;
  };
  assert.deepEqual(await names({}), ['nobody', 'alice', 'bob', 'carol', 'dave', 'legacy', 'alice']);
  assert.deepEqual(await names({ first_valid_uid: 1001, last_valid_uid: 1003 }), ['bob', 'carol', 'dave']);

  assert.deepEqual(await passwdUserdb('', { passwdFile: join(f.dir, 'missing') }).lookup({ ...req, user: 'alice' }), {
    kind: 'fail', reason: 'getpwnam_r() failed: No such file or directory',
  });
  assert.throws(() => passwdUserdb('blocking=maybe'), AuthBackendError);
});

test('passdb shadow and passwd: yescrypt and MD5-crypt, locked and empty entries, unreadable file', async (t) => {
  const f = files(t);
  const log: string[] = [];
  const service = new AuthService({
    settings: authSettingsFromText({ auth_failure_delay: '0', auth_verbose: 'yes' }),
    passdbs: [{ db: shadowPassdb('blocking=yes', f.shadow) }],
    userdbs: [{ db: passwdUserdb('', { passwdFile: f.passwd }) }],
    log: { info: (s) => log.push(s), error: (s) => log.push(`E ${s}`) },
  });
  const facts = { service: 'imap', rip: '192.0.2.1' };
  const pw = (s: string) => Buffer.from(s);
  assert.deepEqual(await service.verifyPlain('alice', pw('S3cret!'), facts), { kind: 'ok', user: 'alice', passdbExtra: [] });
  assert.deepEqual(await service.verifyPlain('alice', pw('wrong'), facts), { kind: 'fail', user: 'alice', temp: false, nodelay: false });
  assert.deepEqual(await service.verifyPlain('bob', pw('pw'), facts), { kind: 'ok', user: 'bob', passdbExtra: [] });
  assert.deepEqual(await service.verifyPlain('carol', pw('pw'), facts), { kind: 'fail', user: 'carol', temp: false, nodelay: false, code: 'user_disabled' });
  assert.deepEqual(await service.verifyPlain('root', pw(''), facts), { kind: 'fail', user: 'root', temp: false, nodelay: false, code: 'user_disabled' });
  assert.equal((await service.verifyPlain('dave', pw(''), facts)).kind, 'fail', 'an empty hash never matches');
  assert.deepEqual(await service.verifyPlain('nosuch', pw('x'), facts), { kind: 'fail', user: 'nosuch', temp: false, nodelay: false });
  assert.ok(log.includes('shadow(carol,192.0.2.1): invalid password field'), log.join('\n'));
  assert.ok(log.some((l) => l.includes('shadow(alice,192.0.2.1): Password mismatch')), log.join('\n'));
  assert.ok(log.some((l) => l.includes('shadow(nosuch,192.0.2.1): unknown user')), log.join('\n'));
  // auth-master PASS: found, or NOTFOUND for a locked entry.
  assert.equal((await service.passLookup('alice', facts)).kind, 'found');
  assert.equal((await service.passLookup('carol', facts)).kind, 'notfound');

  const md5 = new AuthService({
    settings: authSettingsFromText({ auth_failure_delay: '0' }),
    passdbs: [{ db: passwdPassdb('', f.passwd) }],
    userdbs: [],
  });
  assert.equal((await md5.verifyPlain('legacy', pw('password'), facts)).kind, 'ok');
  assert.equal((await md5.verifyPlain('alice', pw('x'), facts)).kind, 'fail', 'a shadowed "x" never matches');

  const unreadable = new AuthService({
    settings: authSettingsFromText({ auth_failure_delay: '0' }),
    passdbs: [{ db: shadowPassdb('', join(f.dir, 'missing')) }],
    userdbs: [],
  });
  assert.deepEqual(await unreadable.verifyPlain('alice', pw('S3cret!'), facts), { kind: 'fail', user: 'alice', temp: true, nodelay: false });
  if (process.getuid?.() !== 0) {
    chmodSync(f.shadow, 0o000);
    assert.deepEqual(await shadowPassdb('', f.shadow).lookup({ user: 'alice', service: 'imap' }), { kind: 'fail', reason: 'getspnam() failed: Permission denied' });
  }
  assert.throws(() => shadowPassdb('nonsense=1'), /passdb shadow: Unknown setting: nonsense/);
});

test('dovecot.conf adapter: auth-system.conf.ext with shadow; pam refused naming shadow', async (t) => {
  const f = files(t);
  const conf = join(f.dir, 'dovecot.conf');
  writeFileSync(conf, `base_dir = ${f.dir}/run
auth_failure_delay = 0
first_valid_uid = 1000
last_valid_uid = 1002
passdb {
  driver = shadow
}
userdb {
  driver = passwd
  args = blocking=no
  override_fields = mail=maildir:~/Mail
}
`);
  const { service } = authFromDovecotConfig(loadDovecotConfig(conf), undefined, { passwdFile: f.passwd, shadowFile: f.shadow });
  assert.equal((await service.verifyPlain('alice', Buffer.from('S3cret!'), { service: 'smtp' })).kind, 'ok');
  assert.deepEqual(await service.userLookup('bob', { service: 'lmtp' }), {
    kind: 'found', user: 'bob',
    fields: [['system_groups_user', 'bob'], ['uid', '1001'], ['gid', '100'], ['home', '/home/bob'], ['mail', 'maildir:~/Mail']],
  });
  const listed: string[] = [];
  for await (const n of service.listUsers()) listed.push(n);
  assert.deepEqual(listed, ['alice', 'bob', 'carol']);

  writeFileSync(conf, `base_dir = ${f.dir}/run
passdb {
  driver = pam
}
userdb {
  driver = passwd
}
`);
  assert.throws(() => authFromDovecotConfig(loadDovecotConfig(conf)), (err: unknown) => {
    assert.ok(err instanceof AuthBackendError);
    assert.equal(err.message, `passdb pam: ${PAM_UNSUPPORTED}`);
    assert.match(err.message, /driver = shadow/);
    return true;
  });
});
