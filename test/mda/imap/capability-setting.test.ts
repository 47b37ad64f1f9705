/*
 * imap_capability (mda/imap/capabilities.ts), as Dovecot 2.3.19 applies it:
 *  - unit: empty keeps the built-in lists; `+X Y` goes after the built-in part, before LITERAL+ (pre- and
 *    post-login), a bare `+` leaves a double space; any other value replaces both lists whole (pre-login only
 *    STARTTLS, LOGINDISABLED and AUTH= follow it; post-login nothing, not even LITERAL+ or QUOTA);
 *  - server: the greeting, pre-login CAPABILITY, the login reply's `OK [CAPABILITY …]` and post-login CAPABILITY;
 *  - interop (root, real Dovecot installed): the same sessions on a private real Dovecot. A full replacement
 *    and the pre-login lists must match byte for byte; for `+`, the post-login lists agree on the order of the
 *    capabilities both advertise (Postern omits the ones it does not implement, docs/imap-capabilities.md).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { POST_LOGIN_CAPABILITIES, postLoginCapability, preLoginCapability } from '../../../mda/imap/capabilities.js';
import { startImapDovecot } from '../../helpers/dovecot-daemon.js';
import { oracleSkip } from '../../helpers/oracle.js';
import { startTestServer, TestClient, untimed } from './server/harness.js';

const PRE = 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE';
const POST = POST_LOGIN_CAPABILITIES.join(' ');
const MECHS = [{ name: 'PLAIN', plaintext: true }, { name: 'LOGIN', plaintext: true }];
const facts = (imapCapability: string, tlsConfigured = true) => ({
  tlsConfigured, tlsActive: false, secured: false, disablePlaintextAuth: true, mechanisms: MECHS, imapCapability,
});

test('pre-login: empty, +append, bare +, full replacement', () => {
  assert.equal(preLoginCapability(facts('')), `${PRE} LITERAL+ STARTTLS LOGINDISABLED`);
  assert.equal(preLoginCapability(facts('+XFOO XBAR')), `${PRE} XFOO XBAR LITERAL+ STARTTLS LOGINDISABLED`);
  assert.equal(preLoginCapability(facts('+')), `${PRE}  LITERAL+ STARTTLS LOGINDISABLED`);
  assert.equal(preLoginCapability(facts('IMAP4rev1 XFOO IDLE')), 'IMAP4rev1 XFOO IDLE STARTTLS LOGINDISABLED');
  assert.equal(preLoginCapability({ ...facts('IMAP4rev1 XFOO', false), secured: true }), 'IMAP4rev1 XFOO AUTH=PLAIN AUTH=LOGIN');
});

test('post-login: empty, +append before LITERAL+, full replacement without LITERAL+ or QUOTA', () => {
  const quota = ['quota', 'imap_quota'];
  const su = [{ specialUse: '\\Trash' }];
  assert.equal(postLoginCapability({ mail_plugins: [], imap_capability: '', mailboxes: su }), POST);
  assert.equal(postLoginCapability({ mail_plugins: quota, imap_capability: '', mailboxes: su }), `${POST} QUOTA`);
  const [head, tail] = POST.split(' LITERAL+');
  assert.equal(postLoginCapability({ mail_plugins: quota, imap_capability: '+XFOO XBAR', mailboxes: su }), `${head} XFOO XBAR LITERAL+${tail} QUOTA`);
  assert.equal(postLoginCapability({ mail_plugins: [], imap_capability: '+', mailboxes: su }), `${head}  LITERAL+${tail}`);
  assert.equal(postLoginCapability({ mail_plugins: quota, imap_capability: 'IMAP4rev1 XFOO IDLE', mailboxes: su }), 'IMAP4rev1 XFOO IDLE');
});

test('post-login: SPECIAL-USE only when some mailbox has special_use (Dovecot\'s built-in defaults have none)', () => {
  const noSu = POST.replace(' SPECIAL-USE', '');
  assert.equal(postLoginCapability(), noSu);
  assert.equal(postLoginCapability({ mail_plugins: [], mailboxes: [] }), noSu);
  assert.equal(postLoginCapability({ mail_plugins: [], mailboxes: [{ specialUse: undefined }] }), noSu);
  assert.equal(postLoginCapability({ mail_plugins: ['quota', 'imap_quota'], mailboxes: [] }), `${noSu} QUOTA`);
  assert.equal(postLoginCapability({ mail_plugins: [], mailboxes: [{ specialUse: undefined }, { specialUse: '\\Sent' }] }), POST);
});

/**
 * One session asks CAPABILITY before login; another logs in first (so the reply carries the list in its
 * OK [CAPABILITY] code, Dovecot's form when no pre-login CAPABILITY was sent) and then asks CAPABILITY.
 */
async function transcript(port: number): Promise<string[]> {
  const a = await TestClient.connect(port);
  const out = [a.greeting, ...(await a.cmd('a', 'CAPABILITY'))];
  a.close();
  const b = await TestClient.connect(port);
  out.push(...(await b.cmd('b', 'LOGIN u1 secret')), ...(await b.cmd('c', 'CAPABILITY')));
  await b.cmd('d', 'LOGOUT');
  b.close();
  return out.map(untimed);
}

async function postern(t: TestContext, imapCapability: string): Promise<string[]> {
  const s = await startTestServer(t, { settings: { imap_capability: imapCapability, login_greeting: 'Dovecot (Debian) ready.' } });
  return transcript(s.port);
}

test('server: greeting, CAPABILITY and the login reply use imap_capability', async (t) => {
  // The harness configures no special_use mailbox: no SPECIAL-USE.
  const [head, tail] = postLoginCapability().split(' LITERAL+');
  assert.deepEqual(await postern(t, '+XFOO XBAR'), [
    `* OK [CAPABILITY ${PRE} XFOO XBAR LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.`,
    `* CAPABILITY ${PRE} XFOO XBAR LITERAL+ AUTH=PLAIN AUTH=LOGIN`,
    'a OK Pre-login capabilities listed, post-login capabilities have more.',
    `b OK [CAPABILITY ${head} XFOO XBAR LITERAL+${tail}] Logged in`,
    `* CAPABILITY ${head} XFOO XBAR LITERAL+${tail}`,
    'c OK Capability completed.',
  ]);
  assert.deepEqual(await postern(t, 'IMAP4rev1 XFOO IDLE'), [
    '* OK [CAPABILITY IMAP4rev1 XFOO IDLE AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.',
    '* CAPABILITY IMAP4rev1 XFOO IDLE AUTH=PLAIN AUTH=LOGIN',
    'a OK Pre-login capabilities listed, post-login capabilities have more.',
    'b OK [CAPABILITY IMAP4rev1 XFOO IDLE] Logged in',
    '* CAPABILITY IMAP4rev1 XFOO IDLE',
    'c OK Capability completed.',
  ]);
});

const asRoot = process.getuid?.() === 0;
const skipReal = oracleSkip('dovecot') || (asRoot ? false : 'needs root to start a private Dovecot');

async function dovecot(t: TestContext, imapCapability: string): Promise<string[]> {
  const d = await startImapDovecot(t, ['auth_mechanisms = plain login', `imap_capability = ${imapCapability}`]);
  const port = d.port;
  const out = await transcript(port);
  await d.stop();
  return out;
}

/** The capability list of a CAPABILITY line or OK [CAPABILITY …] code. */
const listOf = (line: string): string[] => (/CAPABILITY ([^\]]*)/.exec(line)?.[1] ?? '').split(' ');
/** Both lists reduced to the capabilities they share, in each one's order. */
function shared(ours: string[], theirs: string[]): [string[], string[]] {
  return [ours.filter((c) => theirs.includes(c)), theirs.filter((c) => ours.includes(c))];
}

test('interop: real Dovecot 2.3 applies imap_capability the same way', { skip: skipReal, timeout: 60_000 }, async (t) => {
  for (const value of ['IMAP4rev1 XFOO IDLE', '"IMAP4rev1 SASL-IR X-ONE"']) {
    assert.deepEqual(await postern(t, value.replace(/^"(.*)"$/, '$1')), await dovecot(t, value), value);
  }
  for (const value of ['+XFOO XBAR', '+']) {
    const ours = await postern(t, value);
    const theirs = await dovecot(t, value);
    // Pre-login: identical (greeting, CAPABILITY, tagged OK).
    assert.deepEqual(ours.slice(0, 3), theirs.slice(0, 3), value);
    // Post-login: the same order for what both advertise (XFOO XBAR before LITERAL+), the same replies.
    assert.deepEqual(...shared(listOf(ours[3]!), listOf(theirs[3]!)), value);
    assert.deepEqual(...shared(listOf(ours[4]!), listOf(theirs[4]!)), value);
    assert.deepEqual([ours[3]!.replace(/\[.*\] /, ''), ours[5]], [theirs[3]!.replace(/\[.*\] /, ''), theirs[5]], value);
    if (value === '+') assert.ok(theirs[3]!.includes('SAVEDATE  LITERAL+') && ours[3]!.includes('SAVEDATE  LITERAL+'), 'bare + leaves a double space');
  }
});
