/*
 * Issue 3 "Bad input" for delivery and mail access, through the LDA agent and the storage API with
 * the LMTP replies of mda/lmtp/error-map.ts (Dovecot 2.3.19 texts):
 * - over quota: `552 5.2.2 <rcpt> Quota exceeded (mailbox for user is full)` (452 4.2.2 with
 *   quota_full_tempfail), maildirsize kept in the maildir root through the storage API's quota;
 * - a write failing half-way (injected: the message stream breaks with EIO) → TEMP → `451 4.2.0`
 *   with Dovecot's internal-error text; disk full (a 64 KiB tmpfs, root only) → `452 4.3.1 <rcpt>
 *   Not enough disk space`; in both, tmp/ is empty afterwards and stored messages are untouched;
 * - unknown users are `notfound` at RCPT; user names that would escape their directory (%n with
 *   `..`) are refused by auth_username_chars and, when that is emptied, by the mail opener.
 * (Bad passwords, malformed LMTP and mailbox names are covered in test/mda/{pop3,imap,lmtp,storage}.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LdaAgent } from '../../../mda/deliver/agent.js';
import type { DeliverySettings } from '../../../mda/deliver/settings.js';
import type { DeliveryOutcome } from '../../../mda/deliver/types.js';
import type { UserdbResult } from '../../../mda/auth/db.js';
import { outcomeReply } from '../../../mda/lmtp/error-map.js';
import { formatReply } from '../../../mda/lmtp/replies.js';
import { escapingUserName, openUserMail } from '../../../mda/mail-user.js';
import { normalizeUsername } from '../../../mda/auth/username.js';
import { AUTH_SETTING_DEFAULTS } from '../../../mda/auth/settings.js';
import { isStorageError, openMailStore, openQuota } from '../../../mda/storage/api.js';
import { tempDir } from '../../helpers/tmp.js';

// The LDA refuses uid 0; as root the test pretends to be the virtual mail user (files are still root's).
const uid = process.getuid?.() === 0 ? 65534 : process.getuid?.() ?? 1000;
const gid = process.getuid?.() === 0 ? 65534 : process.getgid?.() ?? 1000;

function settings(over: Partial<DeliverySettings> = {}): DeliverySettings {
  return {
    hostname: 'mail.test.example', login_greeting: 'Dovecot ready.', mail_location: 'maildir:~/Maildir', mail_home: '',
    recipient_delimiter: '+', lmtp_save_to_detail_mailbox: false, lda_mailbox_autocreate: false,
    lda_mailbox_autosubscribe: false, lmtp_add_received_header: false, lmtp_hdr_delivery_address: 'none',
    quota_full_tempfail: false, first_valid_uid: 0, last_valid_uid: 0, first_valid_gid: 0, last_valid_gid: 0,
    mail_uid: '', mail_gid: '', mail_plugins: [], plugin: new Map(), separator: '',
    postern_lmtp_max_message_size: 1 << 20, postern_lmtp_max_recipients: 3, postern_lmtp_max_line_length: 4096,
    postern_lmtp_hard_max_line_length: 65536, postern_lmtp_max_bad_commands: 10, postern_lmtp_idle_timeout: 30_000,
    ...over,
  };
}

function agentFor(home: string, s: DeliverySettings, extra: [string, string][] = []): LdaAgent {
  return new LdaAgent({
    settings: s,
    userdb: {
      normalize: (u) => ({ ok: true, user: u }),
      userLookup: async (u): Promise<UserdbResult> => (u === 'u1@test.example'
        ? { kind: 'found', user: u, fields: [['uid', String(uid)], ['gid', String(gid)], ['home', home], ...extra] }
        : { kind: 'notfound' }),
    },
    logFor: () => ({ info: () => undefined, warn: () => undefined, error: () => undefined }),
    processUid: uid,
    processGid: gid,
  });
}

async function deliver(agent: LdaAgent, body: string): Promise<{ outcome: DeliveryOutcome; reply: string }> {
  const found = await agent.lookup('u1@test.example', 'u1', 'test.example', { sessionId: 'S1' });
  assert.equal(found.kind, 'found');
  if (found.kind !== 'found') throw new Error('unreachable');
  const [outcome] = await agent.deliver({ sender: 'a@b.example', lhloName: 'x', remoteIp: undefined, transactionId: 'S1' }, [{ rcpt: found.rcpt, id: 'S1' }], Buffer.from(body));
  return { outcome: outcome!, reply: formatReply(outcomeReply('u1@test.example', 'S1', outcome!, false)) };
}

/** The maildir's files: tmp/ must stay empty, cur/ + new/ exactly as before. */
function snapshot(maildir: string): { tmp: string[]; stored: Record<string, string> } {
  const stored: Record<string, string> = {};
  for (const sub of ['cur', 'new']) for (const f of readdirSync(join(maildir, sub))) stored[`${sub}/${f}`] = readFileSync(join(maildir, sub, f), 'latin1');
  return { tmp: readdirSync(join(maildir, 'tmp')), stored };
}

const small = 'Subject: one\r\n\r\nsmall\r\n';
const big = `Subject: big\r\n\r\n${'x'.repeat(2000)}\r\n`;

test('unknown user: notfound at RCPT', async (t) => {
  const agent = agentFor(tempDir(t), settings());
  assert.deepEqual(await agent.lookup('nobody@test.example', 'nobody', 'test.example', { sessionId: 'S' }), { kind: 'notfound', user: 'nobody@test.example' });
});

test('over quota: 552 5.2.2 (452 4.2.2 with quota_full_tempfail); maildirsize through the storage quota; nothing stored touched', async (t) => {
  const home = tempDir(t);
  const s = settings({ mail_plugins: ['quota'], plugin: new Map([['quota', 'maildir:User quota'], ['quota_rule', '*:storage=1K']]) });
  const agent = agentFor(home, s);
  assert.equal((await deliver(agent, small)).outcome.kind, 'saved');
  const maildir = join(home, 'Maildir');
  const before = snapshot(maildir);
  const r = await deliver(agent, big);
  assert.equal(r.reply, '552 5.2.2 <u1@test.example> Quota exceeded (mailbox for user is full)');
  assert.equal(formatReply(outcomeReply('u1@test.example', 'S1', r.outcome, true)), '452 4.2.2 <u1@test.example> Quota exceeded (mailbox for user is full)');
  assert.deepEqual(snapshot(maildir), before);
  const size = readFileSync(join(maildir, 'maildirsize'), 'latin1').split('\n');
  assert.equal(size[0], '1024S');
  // doveadm quota get and LMTP read the same usage from the storage API.
  const store = await openMailStore({ mailLocation: `maildir:${maildir}`, user: 'u1', home });
  t.after(() => store.close());
  const q = openQuota(store, { backend: 'maildir', name: 'User quota', bytes: 1024, messages: 0 });
  const used = await q.usage();
  assert.equal(used.count, 1);
  assert.equal(used.bytes, Object.values(before.stored)[0]!.length);
  // A userdb quota_rule overrides the plugin's: 10K lets the big message in.
  const roomy = agentFor(home, s, [['quota_rule', '*:storage=10K']]);
  assert.equal((await deliver(roomy, big)).outcome.kind, 'saved');
  const count = openQuota(store, { backend: 'count', name: 'User quota', bytes: 0, messages: 2 });
  assert.equal((await count.usage()).count, 2);
  await assert.rejects(count.check({ bytes: 0, messages: 2, ignore: false }, 1), (e: unknown) => isStorageError(e) && e.kind === 'NOQUOTA');
});

test('a write failing half-way: TEMP (451 4.2.0 internal error), tmp/ file removed, stored mail untouched', async (t) => {
  const home = tempDir(t);
  const maildir = join(home, 'Maildir');
  const store = await openMailStore({ mailLocation: `maildir:${maildir}`, user: 'u1', home });
  t.after(() => store.close());
  await store.deliver('INBOX', Buffer.from(small));
  const before = snapshot(maildir);
  async function* broken(): AsyncIterable<Uint8Array> {
    yield Buffer.from('Subject: half\r\n\r\n' + 'y'.repeat(10_000));
    throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
  }
  const err = await store.deliver('INBOX', broken()).then(() => undefined, (e: unknown) => e);
  assert.ok(isStorageError(err) && err.kind === 'TEMP', String(err));
  assert.equal(formatReply(outcomeReply('u1@test.example', 'S1', { kind: 'failed', error: err }, false)),
    '451 4.2.0 <u1@test.example> Internal error occurred. Refer to server log for more information.');
  assert.deepEqual(snapshot(maildir), before);
  const view = await store.openMailbox('INBOX', { readOnly: true });
  assert.equal(view.messages().length, 1);
  await view.close();
});

const asRoot = process.getuid?.() === 0;
test('disk full (64 KiB tmpfs): 452 4.3.1 Not enough disk space, tmp/ empty, stored mail untouched', { skip: asRoot ? false : 'needs root to mount a tmpfs' }, async (t) => {
  // Own temp dir: the tmpfs must be unmounted (lazily: the index sidecar may still hold it) before removal.
  const home = mkdtempSync(join(tmpdir(), 'postern-diskfull-'));
  mkdirSync(join(home, 'Maildir'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', join(home, 'Maildir')]);
  t.after(() => {
    if (m.status === 0) spawnSync('umount', ['-l', join(home, 'Maildir')]);
    rmSync(home, { recursive: true, force: true });
  });
  if (m.status !== 0) return t.skip(`mount failed: ${m.stderr.toString()}`);
  const agent = agentFor(home, settings());
  assert.equal((await deliver(agent, small)).outcome.kind, 'saved');
  const maildir = join(home, 'Maildir');
  const before = snapshot(maildir);
  const r = await deliver(agent, `Subject: huge\r\n\r\n${'z'.repeat(200_000)}\r\n`);
  assert.equal(r.reply, '452 4.3.1 <u1@test.example> Not enough disk space');
  assert.deepEqual(snapshot(maildir), before);
  assert.ok(statSync(join(maildir, 'tmp')).isDirectory());
});

test('user names cannot escape their home: auth_username_chars refuses /, the mail opener refuses ..', async (t) => {
  const rules = { auth_username_chars: AUTH_SETTING_DEFAULTS.auth_username_chars, auth_username_format: '%Lu', auth_default_realm: '' };
  assert.equal(normalizeUsername('../../etc', rules).ok, false);
  assert.equal(normalizeUsername('a/b', rules).ok, false);
  for (const bad of ['..', '../x', 'x/../../y', '/abs', '..@example.org', 'u@..', 'a\nb']) assert.ok(escapingUserName(bad), bad);
  for (const ok of ['u1', 'alice@example.org', 'a.b@example.org', '.hidden..name']) assert.ok(!escapingUserName(ok), ok);
  const dir = tempDir(t);
  await assert.rejects(openUserMail('../../escape', [['home', join(dir, 'home')]], { mailLocation: `maildir:${dir}/vmail/%n`, service: 'lmtp' }),
    (e: unknown) => isStorageError(e) && e.kind === 'TEMP');
  assert.deepEqual(readdirSync(dir), []);
});
