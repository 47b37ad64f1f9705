/*
 * The scenario every e2e mix runs, as an administrator's users would live it on the example
 * setup (conf/examples): alice submits with AUTH on submission (587, STARTTLS) and submissions
 * (465, implicit TLS) to a mailbox, a virtual alias and the other domain; the mail reaches each
 * recipient's INBOX (maildir files under /var/vmail/<domain>/<user>); bob reads it over POP3
 * (poplib) and IMAP (imapflow), flags, moves and deletes it; alice deletes hers over POP3. From
 * outside mynetworks (127.0.0.2), port 25 refuses an unknown user and a relay attempt at RCPT,
 * and submission refuses relaying without AUTH. Wrong passwords on SMTP, IMAP and POP3 leave the
 * failed-auth lines the log-tooling checks read. Assertions are on replies and mailbox state.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { EXAMPLE_PASSWORDS, type ExampleSetup } from './config-rewrite.js';
import { imapLogin, pop3Session } from './python-clients.js';
import { authPlain, SmtpClient } from '../helpers/smtp-client.js';

/** The address outside clients connect from: not in the example's mynetworks (127.0.0.1/32). */
export const OUTSIDE = '127.0.0.2';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function mailFiles(s: ExampleSetup, address: string): string[] {
  const [user, domain] = address.split('@') as [string, string];
  const dir = join(s.vmail, domain, user);
  const out: string[] = [];
  for (const sub of ['new', 'cur']) {
    const d = join(dir, sub);
    if (existsSync(d)) out.push(...readdirSync(d).map((f) => join(d, f)));
  }
  return out;
}

export async function waitForMail(s: ExampleSetup, address: string, n: number, diag: () => string): Promise<void> {
  const end = Date.now() + 90_000;
  while (mailFiles(s, address).length < n) {
    if (Date.now() > end) throw new Error(`${address}: ${mailFiles(s, address).length} of ${n} messages arrived\n${diag()}`);
    await sleep(200);
  }
}

export function message(subject: string, to: string, body: string): string {
  return `From: Alice <alice@example.com>\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\n${body}\r\n`;
}

/** EHLO, STARTTLS, EHLO, AUTH PLAIN: an authenticated submission session. */
export async function submission(s: ExampleSetup, user: string, password: string): Promise<SmtpClient> {
  const c = await SmtpClient.open('127.0.0.1', s.ports.submission, { localAddress: OUTSIDE });
  assert.equal((await c.reply()).code, 220);
  const ehlo = await c.cmd('EHLO client.example.net');
  assert.equal(ehlo.code, 250);
  assert.match(ehlo.text, /STARTTLS/);
  assert.doesNotMatch(ehlo.text, /AUTH/, 'smtpd_tls_auth_only: no AUTH before TLS');
  assert.equal((await c.starttls()).code, 220);
  const again = await c.cmd('EHLO client.example.net');
  assert.match(again.text, /250[- ]AUTH .*PLAIN/);
  const auth = await c.cmd(authPlain(user, password));
  assert.equal(auth.code, user in EXAMPLE_PASSWORDS && EXAMPLE_PASSWORDS[user] === password ? 235 : 535, auth.text);
  return c;
}

export async function send(c: SmtpClient, from: string, to: string[], text: string): Promise<void> {
  assert.equal((await c.cmd(`MAIL FROM:<${from}>`)).code, 250);
  for (const r of to) {
    const rr = await c.cmd(`RCPT TO:<${r}>`);
    assert.equal(rr.code, 250, `RCPT ${r}: ${rr.text}`);
  }
  const done = await c.data(text);
  assert.equal(done.code, 250, done.text);
  assert.match(done.last, /^2\.0\.0 Ok: queued as [0-9A-Za-z]+$/);
}

export async function submitMail(s: ExampleSetup, diag: () => string): Promise<void> {
  const alice = EXAMPLE_PASSWORDS['alice@example.com']!;
  const c = await submission(s, 'alice@example.com', alice);
  try {
    await send(c, 'alice@example.com', ['bob@example.com'], message('e2e one', 'bob@example.com', 'first body\r\n.leading dot'));
    await send(c, 'alice@example.com', ['info@example.com'], message('e2e two', 'info@example.com', 'to the info alias'));
    await c.cmd('QUIT');
  } finally {
    c.close();
  }
  // submissions: implicit TLS, then AUTH.
  const t = await SmtpClient.open('127.0.0.1', s.ports.submissions, { tls: true, localAddress: OUTSIDE });
  try {
    assert.equal((await t.reply()).code, 220);
    assert.match((await t.cmd('EHLO client.example.net')).text, /AUTH .*PLAIN/);
    assert.equal((await t.cmd(authPlain('alice@example.com', alice))).code, 235);
    await send(t, 'alice@example.com', ['carol@example.org'], message('e2e three', 'carol@example.org', 'other domain'));
    await t.cmd('QUIT');
  } finally {
    t.close();
  }
  await waitForMail(s, 'bob@example.com', 2, diag);
  await waitForMail(s, 'alice@example.com', 1, diag);
  await waitForMail(s, 'carol@example.org', 1, diag);
}

/** Refusals at RCPT from outside mynetworks, relaying without AUTH, and wrong SMTP passwords. */
export async function checkRefusals(s: ExampleSetup): Promise<void> {
  const c = await SmtpClient.open('127.0.0.1', s.ports.smtp, { localAddress: OUTSIDE });
  try {
    assert.equal((await c.reply()).code, 220);
    const ehlo = await c.cmd('EHLO client.example.net');
    assert.equal(ehlo.code, 250);
    assert.doesNotMatch(ehlo.text, /AUTH/, 'no AUTH on port 25');
    assert.equal((await c.cmd('MAIL FROM:<stranger@client.example.net>')).code, 250);
    const unknown = await c.cmd('RCPT TO:<nosuch@example.com>');
    assert.equal(unknown.code, 550, unknown.text);
    assert.match(unknown.last, /^5\.1\.1 <nosuch@example\.com>: Recipient address rejected: User unknown in virtual mailbox table$/);
    const relay = await c.cmd('RCPT TO:<victim@elsewhere.example.net>');
    assert.equal(relay.code, 554, relay.text);
    assert.match(relay.last, /^5\.7\.1 <victim@elsewhere\.example\.net>: Relay access denied$/);
    const ok = await c.cmd('RCPT TO:<bob@example.com>');
    assert.equal(ok.code, 250, `a listed mailbox is accepted from outside: ${ok.text}`);
    await c.cmd('QUIT');
  } finally {
    c.close();
  }
  // submission without AUTH: TLS, but no relaying.
  const n = await SmtpClient.open('127.0.0.1', s.ports.submission, { localAddress: OUTSIDE });
  try {
    await n.reply();
    await n.cmd('EHLO client.example.net');
    await n.starttls();
    await n.cmd('EHLO client.example.net');
    assert.equal((await n.cmd('MAIL FROM:<stranger@client.example.net>')).code, 250);
    // master.cf: smtpd_relay_restrictions=permit_sasl_authenticated,reject: the plain reject's text.
    const relay = await n.cmd('RCPT TO:<victim@elsewhere.example.net>');
    assert.equal(relay.code, 554, relay.text);
    assert.match(relay.last, /^5\.7\.1 <victim@elsewhere\.example\.net>: Recipient address rejected: Access denied$/);
    await n.cmd('QUIT');
  } finally {
    n.close();
  }
  // A wrong password (the line fail2ban's postfix filter bans on).
  const w = await submission(s, 'bob@example.com', 'wrong-password');
  await w.cmd('QUIT');
  w.close();
}

function imapClient(s: ExampleSetup, user: string, pass: string): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: s.ports.imap,
    secure: false,
    auth: { user, pass },
    tls: { rejectUnauthorized: false },
    logger: false,
    connectionTimeout: 60_000,
    greetingTimeout: 60_000,
  });
}

/** bob: POP3 sees both messages; IMAP flags one, moves it to Archive, deletes the other. */
export async function readFlagMoveDelete(s: ExampleSetup): Promise<void> {
  const bobPw = EXAMPLE_PASSWORDS['bob@example.com']!;
  const pop = pop3Session(s.ports.pop3, 'bob@example.com', bobPw);
  assert.equal(pop.count, 2);
  assert.equal(new Set(pop.uidls).size, 2);
  const subjects = pop.messages.map((m) => /^Subject: (.*)$/m.exec(m)?.[1]).sort();
  assert.deepEqual(subjects, ['e2e one', 'e2e two']);
  const one = pop.messages.find((m) => m.includes('Subject: e2e one'))!;
  assert.match(one, /^Return-Path: <alice@example\.com>$/m);
  assert.match(one, /^Delivered-To: bob@example\.com$/m);
  assert.match(one, /\nfirst body\n\.leading dot$/, 'dot-stuffing undone end to end');

  const c = imapClient(s, 'bob@example.com', bobPw);
  await c.connect();
  try {
    const lock = await c.getMailboxLock('INBOX');
    let uidOne = 0;
    let uidTwo = 0;
    try {
      const msgs = await c.fetchAll('1:*', { uid: true, envelope: true, flags: true });
      assert.equal(msgs.length, 2);
      for (const m of msgs) {
        if (m.envelope?.subject === 'e2e one') uidOne = m.uid;
        if (m.envelope?.subject === 'e2e two') uidTwo = m.uid;
      }
      assert.ok(uidOne > 0 && uidTwo > 0, JSON.stringify(msgs.map((m) => m.envelope?.subject)));
      assert.ok(await c.messageFlagsAdd(String(uidOne), ['\\Flagged'], { uid: true }));
      await c.mailboxCreate('Archive');
      const moved = await c.messageMove(String(uidOne), 'Archive', { uid: true });
      assert.ok(moved, 'MOVE to Archive');
      assert.ok(await c.messageDelete(String(uidTwo), { uid: true }));
    } finally {
      lock.release();
    }
    const inbox = await c.status('INBOX', { messages: true });
    assert.equal(inbox && inbox.messages, 0);
    const arch = await c.getMailboxLock('Archive');
    try {
      const msgs = await c.fetchAll('1:*', { uid: true, envelope: true, flags: true, source: true });
      assert.equal(msgs.length, 1);
      assert.equal(msgs[0]!.envelope?.subject, 'e2e one');
      assert.ok(msgs[0]!.flags?.has('\\Flagged'), `flags kept by MOVE: ${[...(msgs[0]!.flags ?? [])].join(' ')}`);
      assert.match(msgs[0]!.source?.toString('utf8') ?? '', /first body\r\n\.leading dot\r\n$/);
      assert.ok(await c.messageDelete('1:*', { uid: false }));
    } finally {
      arch.release();
    }
    const after = await c.status('Archive', { messages: true });
    assert.equal(after && after.messages, 0);
  } finally {
    await c.logout();
  }
  assert.equal(pop3Session(s.ports.pop3, 'bob@example.com', bobPw).count, 0);

  // alice (via the info@ alias) and carol (other domain) read theirs over POP3 and delete them.
  const alice = pop3Session(s.ports.pop3, 'alice@example.com', EXAMPLE_PASSWORDS['alice@example.com']!, [1]);
  assert.equal(alice.count, 1);
  assert.match(alice.messages[0]!, /^Subject: e2e two$/m);
  const carol = pop3Session(s.ports.pop3, 'carol@example.org', EXAMPLE_PASSWORDS['carol@example.org']!, [1]);
  assert.equal(carol.count, 1);
  assert.match(carol.messages[0]!, /^Subject: e2e three$/m);
  const ai = imapClient(s, 'alice@example.com', EXAMPLE_PASSWORDS['alice@example.com']!);
  await ai.connect();
  try {
    const st = await ai.status('INBOX', { messages: true });
    assert.equal(st && st.messages, 0, 'POP3 DELE + QUIT expunged');
  } finally {
    await ai.logout();
  }
}

/** Wrong passwords over IMAP and POP3 (fail2ban's dovecot filter bans on these lines). */
export async function failedLogins(s: ExampleSetup): Promise<void> {
  const imap = imapLogin(s.ports.imap, 'bob@example.com', 'wrong-password', OUTSIDE);
  assert.equal(imap.ok, false);
  assert.match(imap.error ?? '', /AUTHENTICATIONFAILED|Authentication failed/);
  assert.throws(() => pop3Session(s.ports.pop3, 'carol@example.org', 'wrong-password', [], OUTSIDE), /-ERR/);
}
