/*
 * Mix (b)'s cross-check: two IMAP servers (real Dovecot and postern-mda) over one /var/vmail.
 * The writer flags bob's "e2e one", gives it a keyword and moves it to a new mailbox; the reader
 * must see the same mailbox state: the message in Kept with its flags and keyword, INBOX holding
 * only "e2e two" under the same UIDVALIDITY and UID (dovecot-uidlist is shared). Then the reader
 * moves it back, and the writer sees it back in INBOX, still flagged: both directions of
 * flag/move. \Recent is left out of the comparison: it belongs to one session, not to the mail.
 * Leaves bob's INBOX with the two messages scenario.readFlagMoveDelete expects.
 */
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { EXAMPLE_PASSWORDS, type ExampleSetup } from './config-rewrite.js';

function client(s: ExampleSetup): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: s.ports.imap,
    secure: false,
    auth: { user: 'bob@example.com', pass: EXAMPLE_PASSWORDS['bob@example.com']! },
    tls: { rejectUnauthorized: false },
    logger: false,
  });
}

interface BoxView {
  uidValidity: string;
  messages: Array<{ uid: number; subject: string; flags: string[] }>;
}

async function view(c: ImapFlow, box: string): Promise<BoxView> {
  const lock = await c.getMailboxLock(box);
  try {
    // The other server changed the maildir: NOOP makes this server sync (EXPUNGE, EXISTS, FETCH FLAGS).
    await c.noop();
    const mb = c.mailbox;
    const uidValidity = mb ? String(mb.uidValidity) : '';
    const exists = mb ? mb.exists : 0;
    const msgs = exists === 0 ? [] : await c.fetchAll('1:*', { uid: true, envelope: true, flags: true });
    return {
      uidValidity,
      messages: msgs.map((m) => ({ uid: m.uid, subject: m.envelope?.subject ?? '', flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort() })).sort((a, b) => a.uid - b.uid),
    };
  } finally {
    lock.release();
  }
}

async function uidOf(c: ImapFlow, box: string, subject: string): Promise<number> {
  const v = await view(c, box);
  const m = v.messages.find((x) => x.subject === subject);
  assert.ok(m, `${box} has no "${subject}": ${JSON.stringify(v)}`);
  return m.uid;
}

export async function crossFlagAndMove(writer: ExampleSetup, reader: ExampleSetup): Promise<void> {
  const w = client(writer);
  const r = client(reader);
  await w.connect();
  await r.connect();
  try {
    const before = await view(w, 'INBOX');
    assert.deepEqual((await view(r, 'INBOX')), before, 'both servers see the same INBOX');

    const uid = await uidOf(w, 'INBOX', 'e2e one');
    const lock = await w.getMailboxLock('INBOX');
    try {
      assert.ok(await w.messageFlagsAdd(String(uid), ['\\Flagged', '$Important'], { uid: true }));
      await w.mailboxCreate('Kept');
      assert.ok(await w.messageMove(String(uid), 'Kept', { uid: true }));
    } finally {
      lock.release();
    }
    const wInbox = await view(w, 'INBOX');
    const rInbox = await view(r, 'INBOX');
    assert.deepEqual(rInbox, wInbox);
    assert.deepEqual(rInbox.messages.map((m) => m.subject), ['e2e two']);
    const kept = await view(r, 'Kept');
    assert.equal(kept.messages.length, 1);
    assert.equal(kept.messages[0]!.subject, 'e2e one');
    assert.deepEqual(kept.messages[0]!.flags, ['$Important', '\\Flagged']);
    assert.deepEqual(await view(w, 'Kept'), kept, 'Kept: same UIDVALIDITY, UIDs and flags on both');

    // The reader moves it back; the writer sees it in INBOX again, flags intact.
    const keptLock = await r.getMailboxLock('Kept');
    try {
      assert.ok(await r.messageMove('1:*', 'INBOX', {}));
    } finally {
      keptLock.release();
    }
    const back = await view(w, 'INBOX');
    assert.deepEqual(back.messages.map((m) => m.subject).sort(), ['e2e one', 'e2e two']);
    const one = back.messages.find((m) => m.subject === 'e2e one')!;
    assert.ok(one.flags.includes('\\Flagged') && one.flags.includes('$Important'), JSON.stringify(one));
    assert.deepEqual(await view(r, 'INBOX'), back);
    assert.equal((await view(w, 'Kept')).messages.length, 0);
  } finally {
    await w.logout();
    await r.logout();
  }
}
