/*
 * INTEROP: real Postfix 3.7 delivering into OUR MDA, the way a Dovecot host is wired
 * (reference/dovecot.md §5.3, §12.4): `virtual_transport = lmtp:unix:<our socket>`,
 * `smtpd_sasl_type = dovecot` against our auth-client socket. A message submitted over SMTP
 * (after AUTH through our socket) lands in the maildir with Dovecot's trace headers; the LMTP 550
 * for an unknown user becomes a Postfix bounce. Real Dovecot then reads the maildir we wrote.
 * Polls for files; no wall-clock assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { oracleSkip } from '../helpers/oracle.js';
import { startPostfix } from '../helpers/postfix-instance.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { startMdaDaemon } from '../mda/lmtp/mda-daemon.js';

const isRoot = process.getuid?.() === 0;
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

async function poll<T>(what: () => T | undefined, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = what();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('real Postfix delivers over LMTP into our maildir and bounces unknown users', {
  skip: oracleSkip('postfix') || (isRoot ? false : 'needs root to start a private Postfix'),
  timeout: 180_000,
}, async (t) => {
  const mda = await startMdaDaemon(t, { users: [{ name: 'u1@test.example', password: 'secret' }] });
  const pf = await startPostfix(t, {
    main: {
      virtual_mailbox_domains: 'test.example',
      virtual_transport: `lmtp:unix:${mda.lmtpSocket}`,
      smtpd_reject_unlisted_recipient: 'no',
      smtpd_sasl_type: 'dovecot',
      smtpd_sasl_path: mda.authSocket,
      smtpd_sasl_auth_enable: 'yes',
      smtpd_tls_security_level: 'none',
      smtpd_relay_restrictions: 'permit_sasl_authenticated, reject_unauth_destination',
    },
  });
  const c = await SmtpClient.open(pf.host, pf.port, { timeoutMs: 20_000 });
  try {
    assert.equal((await c.reply()).code, 220);
    assert.equal((await c.cmd('EHLO client.example')).code, 250);
    const auth = await c.cmd(`AUTH PLAIN ${b64('\0u1@test.example\0secret')}`);
    assert.equal(auth.text, '235 2.7.0 Authentication successful', `${pf.log()}\n${mda.log()}`);
    assert.equal((await c.cmd('MAIL FROM:<sender@client.example>')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<u1@test.example>')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<nosuch@test.example>')).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    const r = await c.cmd('Subject: interop\r\nMessage-ID: <interop-1@client.example>\r\n\r\nhello from postfix\r\n..leading dot\r\n.');
    assert.equal(r.code, 250, r.text);
    await c.cmd('QUIT');
  } finally {
    c.close();
  }

  const newDir = join(mda.mailRoot, 'u1@test.example', 'Maildir', 'new');
  const file = await poll(() => (existsSync(newDir) ? readdirSync(newDir)[0] : undefined), 90_000);
  assert.ok(file !== undefined, `no delivery:\n${pf.log()}\n${mda.log()}`);
  assert.match(file, /^\d+\.M\d+P\d+\.[^,]+,S=\d+,W=\d+$/);
  const body = readFileSync(join(newDir, file), 'latin1');
  assert.match(body, /^Return-Path: <sender@client\.example>\nDelivered-To: u1@test\.example\nReceived: from mx\.test\.example\n\tby mail\.test\.example with LMTP\n\tid [A-Za-z0-9+/]{22}\n\t\(envelope-from <sender@client\.example>\)\n\tfor <u1@test\.example>; /);
  assert.match(body, /\nhello from postfix\n\.leading dot\n$/);
  const size = Buffer.byteLength(body, 'latin1');
  assert.ok(file.includes(`,S=${size},`), `S= must be the file size (${size})`);

  const bounced = await poll(() => (/to=<nosuch@test\.example>.*status=bounced/.test(pf.log()) ? pf.log() : undefined), 90_000);
  assert.ok(bounced !== undefined, `no bounce:\n${pf.log()}`);
  assert.match(bounced, /said: 550 5\.1\.1 <nosuch@test\.example> User doesn't exist: nosuch@test\.example \(in reply to RCPT TO command\)/);
  // Postfix logs the delivery when our 250 reaches it, which is after the file is in new/ (the
  // reply follows the directory's fsync): the line may still be on its way.
  const sent = /to=<u1@test\.example>.*status=sent \(250 2\.0\.0 <u1@test\.example> [A-Za-z0-9+/]{22} Saved\)/;
  assert.ok(await poll(() => (sent.test(pf.log()) ? true : undefined), 90_000), `no delivery line:\n${pf.log()}`);
  // Our "saved mail" line is written after the save (the 250 follows the fsync), but the log sink
  // batches lines for a few milliseconds: Postfix may log the 250 before our line reaches the file.
  const saved = /lmtp\(u1@test\.example\)<\d+><[A-Za-z0-9+/]{22}>: Info: msgid=<interop-1@client\.example>: saved mail to INBOX/;
  assert.ok(await poll(() => (saved.test(mda.log()) ? true : undefined), 10_000), `no "saved mail" line:\n${mda.log()}`);

  // Real Dovecot reads what we wrote (read-only doveadm with the mail user's environment).
  const doveadm = '/usr/bin/doveadm';
  if (existsSync(doveadm)) {
    const home = join(mda.mailRoot, 'u1@test.example');
    const r = spawnSync(doveadm, ['-o', `mail_location=maildir:${home}/Maildir`, '-o', 'first_valid_uid=1', 'fetch', 'hdr.subject uid', 'mailbox', 'INBOX'], {
      encoding: 'utf8',
      env: { ...process.env, USER: 'u1@test.example', HOME: home },
      ...(isRoot ? { uid: mda.uid, gid: mda.gid } : {}),
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /hdr\.subject: interop/);
    assert.match(r.stdout, /uid: 1\n/);
  }
});
