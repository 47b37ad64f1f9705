/*
 * mail_home (mda/mail-user.ts openUserMail): the home of a user the userdb gives none, `%` variables
 * expanded (%u %n %d, %s = the service). A userdb home, when not empty, wins.
 *  - unit: openUserMail over a temp dir;
 *  - interop (root, real Dovecot installed): the same dovecot.conf (static userdb without home,
 *    `mail_home = …/vhome/%d/%n/%s`) under real Dovecot and under postern-mda: an IMAP APPEND lands
 *    in the same directory relative to the configuration's, and `doveadm user -f home` prints the same.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openUserMail } from '../../mda/mail-user.js';
import { startDovecot } from '../helpers/dovecot-daemon.js';
import { freePort } from '../helpers/free-port.js';
import { oracleSkip } from '../helpers/oracle.js';
import { makeTraversable } from '../helpers/postfix-instance.js';
import { tempDir } from '../helpers/tmp.js';
import { runMdaConfig } from './lmtp/mda-daemon.js';
import { TestClient } from './imap/server/harness.js';

test('openUserMail: mail_home is the home when the userdb gives none', async (t) => {
  const dir = tempDir(t, 'postern-mailhome-');
  const o = { mailLocation: 'maildir:~/Maildir', mailHome: `${dir}/vhome/%d/%n/%s`, service: 'imap' };
  const a = await openUserMail('bob@example.org', [], o);
  assert.equal(a.home, `${dir}/vhome/example.org/bob/imap`);
  assert.equal(a.location, 'maildir:~/Maildir');
  await a.store.close();
  const empty = await openUserMail('bob@example.org', [['home', '']], { ...o, service: 'lmtp' });
  assert.equal(empty.home, `${dir}/vhome/example.org/bob/lmtp`);
  await empty.store.close();
  const own = await openUserMail('bob@example.org', [['home', `${dir}/own`]], o);
  assert.equal(own.home, `${dir}/own`);
  await own.store.close();
  const none = await openUserMail('bob@example.org', [], { mailLocation: `maildir:${dir}/m/%u`, service: 'imap' });
  assert.equal(none.home, undefined);
  await none.store.close();
});

const asRoot = process.getuid?.() === 0;
const skipReal = oracleSkip('dovecot', 'doveadm') || (asRoot ? false : 'needs root to start a private Dovecot');

function body(port: number): string {
  return [
    'protocols = imap',
    'listen = 127.0.0.1',
    'first_valid_uid = 100',
    'mail_uid = 65534',
    'mail_gid = 65534',
    'disable_plaintext_auth = no',
    'mail_location = maildir:~/Maildir',
    'mail_home = @DIR@/vhome/%d/%n/%s',
    'passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u @DIR@/passwd\n}',
    'userdb {\n  driver = static\n  args = uid=65534 gid=65534\n}',
    `service imap-login {\n  inet_listener imap {\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
  ].join('\n');
}

function prepare(dir: string): void {
  writeFileSync(join(dir, 'passwd'), 'u1@ex.org:{PLAIN}secret::::::\n');
  mkdirSync(join(dir, 'vhome'));
  chownSync(join(dir, 'vhome'), 65534, 65534);
}

async function appendOne(port: number): Promise<void> {
  const c = await TestClient.connect(port);
  assert.match((await c.cmd('a', 'LOGIN u1@ex.org secret')).at(-1)!, /^a OK/);
  assert.match((await c.cmd('b', 'APPEND INBOX {3}\r\nabc')).at(-1)!, /^b OK/);
  await c.cmd('c', 'LOGOUT');
  c.close();
}

/** Directories holding message files under vhome, relative to the config directory. */
function messageDirs(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/,S=\d+/.test(e.name)) out.push(relative(dir, d));
    }
  };
  walk(join(dir, 'vhome'));
  return out.sort();
}

/** `doveadm user -f home`; `argv` runs doveadm (ours: this build's mda/cli/doveadm.js under node). */
const homeOf = (argv: string[], conf: string): string =>
  spawnSync(argv[0]!, [...argv.slice(1), '-c', conf, 'user', '-f', 'home', 'u1@ex.org'], { encoding: 'utf8' }).stdout.trim();
const OUR_DOVEADM = [process.execPath, fileURLToPath(new URL('../../mda/cli/doveadm.js', import.meta.url))];

test('interop: real Dovecot 2.3 and postern-mda put a homeless user\'s mail under the same mail_home', { skip: skipReal, timeout: 60_000 }, async (t: TestContext) => {
  const realPort = await freePort();
  const d = await startDovecot(t, body(realPort), ['@DIR@/run/anvil']);
  prepare(d.dir);
  await appendOne(realPort);
  const theirs = { dirs: messageDirs(d.dir), home: relative(d.dir, homeOf(['/usr/bin/doveadm'], d.conf)) };
  await d.stop();

  const dir = tempDir(t, 'postern-mailhome-');
  makeTraversable(dir);
  prepare(dir);
  const port = await freePort();
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, `base_dir = ${dir}/run\nlog_path = ${dir}/dovecot.log\nssl = no\n${body(port).replaceAll('@DIR@', dir)}\n`);
  const mda = await runMdaConfig(t, conf, join(dir, 'dovecot.log'));
  await appendOne(port);
  const ours = { dirs: messageDirs(dir), home: relative(dir, homeOf(OUR_DOVEADM, conf)) };
  await mda.stop();
  assert.deepEqual(theirs, { dirs: ['vhome/ex.org/u1/imap/Maildir/new'], home: 'vhome/ex.org/u1/doveadm' });
  assert.deepEqual(ours, theirs);
});
