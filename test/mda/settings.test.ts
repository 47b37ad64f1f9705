/*
 * The MDA settings table: defaults must be what Dovecot 2.3.19's `doveconf -d` prints (checked against the real
 * program when installed, and always against the generated catalogue), and the typed reader must convert values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { oracleSkip, run } from '../helpers/oracle.js';
import { tempDir } from '../helpers/tmp.js';
import { VIRTUAL_CONF } from '../shared/config/dovecot/fixtures.js';
import { loadDovecotConfig } from '../../shared/config/dovecot/config.js';
import { GLOBAL_SETTINGS, SECTION_TEMPLATES } from '../../shared/config/dovecot/catalogue-data.js';
import {
  FIFO_LISTENER_SETTINGS, INET_LISTENER_SETTINGS, MAILBOX_SETTINGS, MDA_ACCEPTED_SETTINGS, MDA_SETTINGS, NAMESPACE_SETTINGS, PASSDB_SETTINGS,
  SERVICE_SETTINGS, UNIX_LISTENER_SETTINGS, USERDB_SETTINGS, readMdaSettings, type SettingDef,
} from '../../mda/settings.js';

const SECTIONS: ReadonlyArray<readonly [string, Readonly<Record<string, SettingDef>>]> = [
  ['namespace', NAMESPACE_SETTINGS], ['mailbox', MAILBOX_SETTINGS], ['passdb', PASSDB_SETTINGS], ['userdb', USERDB_SETTINGS],
  ['service', SERVICE_SETTINGS], ['unix_listener', UNIX_LISTENER_SETTINGS], ['fifo_listener', FIFO_LISTENER_SETTINGS],
  ['inet_listener', INET_LISTENER_SETTINGS],
];
/** Honoured and accepted-but-ignored top-level settings: both carry Dovecot's defaults. */
const TOP_LEVEL: Readonly<Record<string, SettingDef>> = { ...MDA_SETTINGS, ...MDA_ACCEPTED_SETTINGS };

test('every MDA default equals the catalogue generated from doveconf -d', () => {
  const cat = new Map(GLOBAL_SETTINGS);
  for (const [name, def] of Object.entries(TOP_LEVEL)) assert.equal(def.default, cat.get(name), name);
  for (const [kind, table] of SECTIONS) {
    const tpl = new Map(SECTION_TEMPLATES[kind]);
    for (const [name, def] of Object.entries(table)) assert.equal(def.default, tpl.get(name), `${kind}/${name}`);
  }
});

test('every MDA top-level default equals what the real doveconf prints', { skip: oracleSkip('doveconf') }, (t) => {
  const dir = tempDir(t, 'mda-settings-');
  writeFileSync(join(dir, 'dovecot.conf'), '');
  const names = Object.keys(TOP_LEVEL);
  const r = run('doveconf', ['-c', join(dir, 'dovecot.conf'), ...names]);
  assert.equal(r.status, 0, r.stderr);
  const real = new Map(r.stdout.split('\n').filter((l) => l !== '').map((l) => {
    const i = l.indexOf(' = ');
    return [l.slice(0, i), l.slice(i + 3)] as const;
  }));
  for (const [name, def] of Object.entries(TOP_LEVEL)) assert.equal(def.default, real.get(name), name);
});

test('section defaults equal the real doveconf -S of a config with one section of each kind', { skip: oracleSkip('doveconf') }, (t) => {
  const dir = tempDir(t, 'mda-settings-');
  writeFileSync(join(dir, 'dovecot.conf'), [
    'namespace n {', '  mailbox m {', '  }', '}', 'passdb {', '  driver = static', '}', 'userdb {', '  driver = static', '}',
    'service s {', '  unix_listener u {', '  }', '  fifo_listener f {', '  }', '  inet_listener i {', '  }', '}', '',
  ].join('\n'));
  const r = run('doveconf', ['-c', join(dir, 'dovecot.conf'), '-S']);
  assert.equal(r.status, 0, r.stderr);
  const real = new Map(r.stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
  const prefix: Record<string, string> = {
    namespace: 'namespace/n/', mailbox: 'namespace/n/mailbox/m/', passdb: 'passdb/0/', userdb: 'userdb/0/', service: 'service/s/',
    unix_listener: 'service/s/unix_listener/u/', fifo_listener: 'service/s/fifo_listener/f/', inet_listener: 'service/s/inet_listener/i/',
  };
  const named = new Set(['namespace/name', 'mailbox/name', 'service/name', 'unix_listener/path', 'fifo_listener/path', 'inet_listener/name', 'passdb/driver', 'userdb/driver']);
  for (const [kind, table] of SECTIONS) {
    for (const [name, def] of Object.entries(table)) {
      if (named.has(`${kind}/${name}`)) continue;
      assert.equal(def.default, real.get(`${prefix[kind] ?? ''}${name}`), `${kind}/${name}`);
    }
  }
});

test('readMdaSettings gives typed values for the virtual-user config', (t) => {
  const dir = tempDir(t, 'mda-settings-');
  writeFileSync(join(dir, 'dovecot.conf'), VIRTUAL_CONF);
  const cfg = loadDovecotConfig(join(dir, 'dovecot.conf'));
  const s = readMdaSettings(cfg);
  assert.equal(s.mail_location, 'maildir:/var/vmail/%d/%n');
  assert.equal(s.first_valid_uid, 5000);
  assert.equal(s.disable_plaintext_auth, true);
  assert.equal(s.auth_failure_delay, 2);
  assert.equal(s.imap_max_line_length, 65536);
  assert.equal(s.imap_idle_notify_interval, 120);
  assert.equal(s.ssl, 'required');
  assert.equal(s.lmtp_save_to_detail_mailbox, true);
  assert.equal(s.pop3_uidl_format, '%08Xu%08Xv');
  assert.equal(readMdaSettings(cfg, { protocol: 'imap' }).imap_idle_notify_interval, 29 * 60);
  assert.equal(readMdaSettings(cfg, { protocol: 'imap' }).mail_max_userip_connections, 20);
  assert.equal(readMdaSettings(cfg, { protocol: 'lmtp' }).mail_plugins, ' quota');
  assert.deepEqual(s.passdbs.map((p) => [p.driver, p.args]), [['passwd-file', 'scheme=SHA512-CRYPT username_format=%u /etc/dovecot/users']]);
  assert.equal(s.namespaces[0]?.separator, '/');
  assert.deepEqual(s.namespaces[0]?.mailboxes.map((m) => [m.name, m.special_use, m.auto, m.autoexpunge]), [
    ['Drafts', '\\Drafts', 'subscribe', 0], ['Junk', '\\Junk', 'create', 30 * 86400], ['Trash', '\\Trash', 'subscribe', 0],
    ['Sent', '\\Sent', 'subscribe', 0], ['Sent Messages', '\\Sent', 'no', 0],
  ]);
  const lmtp = s.services.find((x) => x.name === 'lmtp');
  assert.deepEqual(lmtp?.unix_listeners.map((l) => [l.path, l.mode, l.user, l.group]), [
    ['lmtp', 0o666, '', ''], ['/var/spool/postfix/private/dovecot-lmtp', 0o600, 'postfix', 'postfix'],
  ]);
  const auth = s.services.find((x) => x.name === 'auth');
  assert.equal(auth?.unix_listeners.find((l) => l.path === '/var/spool/postfix/private/auth')?.mode, 0o660);
  assert.equal(auth?.vsz_limit, Number.POSITIVE_INFINITY);
  assert.deepEqual(s.services.find((x) => x.name === 'imap-login')?.inet_listeners.map((l) => [l.name, l.port, l.ssl]), [
    ['imap', 143, false], ['imaps', 993, true],
  ]);
  assert.equal(s.plugin.get('quota'), 'maildir:User quota');
});

test('Postern-only limits come from plugin { } (filters apply), typed strictly; views declare no defaults of their own', async (t) => {
  const { POSTERN_SETTINGS, MDA_SETTINGS: TOP, mdaValuesFromText } = await import('../../mda/settings.js');
  const { pop3SettingsFromConfig, POP3_SETTING_DEFAULTS } = await import('../../mda/pop3/settings.js');
  const { imapSettingsFromConfig, imapSettings, IDLE_CHECK_FLOOR_MS } = await import('../../mda/imap/settings.js');
  const { deliverySettings } = await import('../../mda/deliver/settings.js');
  for (const name of Object.keys(POSTERN_SETTINGS)) {
    assert.ok(name.startsWith('postern_'), name);
    assert.ok(!(name in TOP), name);
  }
  assert.equal(POP3_SETTING_DEFAULTS.login_greeting, TOP.login_greeting.default);
  const dir = tempDir(t, 'mda-settings-');
  writeFileSync(join(dir, 'dovecot.conf'), [
    'plugin {', '  postern_lmtp_max_message_size = 1 M', '  postern_pop3_idle_timeout = 5 mins', '}',
    'protocol pop3 {', '  plugin {', '    postern_pop3_idle_timeout = 500 msecs', '  }', '  pop3_lock_session = yes', '}',
    'protocol imap {', '  imap_idle_notify_interval = 29 mins', '}',
    'namespace inbox {', '  inbox = yes', '  mailbox Sent {', '    special_use = \\Sent', '    auto = subscribe', '  }', '}', '',
  ].join('\n'));
  const cfg = loadDovecotConfig(join(dir, 'dovecot.conf'));
  const pop3 = pop3SettingsFromConfig(cfg);
  assert.equal(pop3.postern_pop3_idle_timeout, 500);
  assert.equal(pop3.pop3_lock_session, true);
  assert.equal(pop3.postern_pop3_login_idle_timeout, 180_000);
  assert.equal(readMdaSettings(cfg).postern_pop3_idle_timeout, 300);
  assert.equal(deliverySettings(cfg).postern_lmtp_max_message_size, 1024 * 1024);
  assert.equal(deliverySettings(cfg).postern_lmtp_max_recipients, 1000);
  const imap = imapSettingsFromConfig(cfg);
  assert.equal(imap.imap_idle_notify_interval, 29 * 60_000);
  assert.equal(imap.mailbox_idle_check_interval, 30_000, 'Dovecot\'s default');
  // 0 (or any value under a second) would make IDLE check its mailbox on every turn of the loop.
  for (const [text, ms] of [['0', IDLE_CHECK_FLOOR_MS], ['500 msecs', IDLE_CHECK_FLOOR_MS], ['2 secs', 2000]] as const) {
    assert.equal(imapSettings(mdaValuesFromText({ mailbox_idle_check_interval: text })).mailbox_idle_check_interval, ms, text);
  }
  assert.deepEqual(imap.mailboxes, [{ name: 'Sent', specialUse: '\\Sent', auto: 'subscribe' }]);
  writeFileSync(join(dir, 'bad.conf'), 'plugin {\n  postern_lmtp_max_recipients = many\n}\n');
  assert.throws(() => readMdaSettings(loadDovecotConfig(join(dir, 'bad.conf'))), /postern_lmtp_max_recipients: invalid number: many/);
  assert.throws(() => mdaValuesFromText({ no_such_setting: '1' }), /Unknown setting: no_such_setting/);
  assert.throws(() => mdaValuesFromText({ ssl: 'maybe' }), /ssl: invalid value: maybe/);
});
