/*
 * Authenticated-state commands over real sockets, with Dovecot 2.3's observed replies (timing
 * suffix stripped): SELECT/EXAMINE, CREATE/DELETE/RENAME, SUBSCRIBE/LSUB, LIST (extended, status,
 * special-use with auto mailboxes), STATUS, APPEND (LITERAL+, MULTIAPPEND), CLOSE/UNSELECT/EXPUNGE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msg, startTestServer, TestClient, untimed } from './harness.js';

async function session(t: Parameters<typeof startTestServer>[0], opts: Parameters<typeof startTestServer>[1] = {}) {
  const s = await startTestServer(t, opts);
  const c = await TestClient.connect(s.port);
  t.after(() => c.close());
  await c.login();
  const cmd = async (tag: string, text: string) => (await c.cmd(tag, text)).map(untimed);
  return { s, c, cmd };
}

test('SELECT/EXAMINE on an empty INBOX, errors (transcripts §2.1, §2.6)', async (t) => {
  const { cmd } = await session(t);
  const sel = await cmd('a', 'SELECT INBOX');
  assert.equal(sel[0], '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)');
  assert.equal(sel[1], '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.');
  assert.deepEqual(sel.slice(2, 4), ['* 0 EXISTS', '* 0 RECENT']);
  assert.match(sel[4]!, /^\* OK \[UIDVALIDITY [0-9]+\] UIDs valid$/);
  assert.equal(sel[5], '* OK [UIDNEXT 1] Predicted next UID');
  assert.equal(sel[6], 'a OK [READ-WRITE] Select completed.');
  const ex = await cmd('b', 'EXAMINE INBOX');
  assert.equal(ex[0], '* OK [CLOSED] Previous mailbox closed.');
  assert.equal(ex[2], '* OK [PERMANENTFLAGS ()] Read-only mailbox.');
  assert.equal(ex.at(-1), 'b OK [READ-ONLY] Examine completed.');
  // The previous mailbox is closed before the new one is tried, so [CLOSED] comes first.
  assert.deepEqual(await cmd('c', 'SELECT nosuch'), ['* OK [CLOSED] Previous mailbox closed.', 'c NO Mailbox doesn\'t exist: nosuch.']);
  assert.deepEqual(await cmd('d', 'SELECT'), ['d BAD Error in IMAP command SELECT: Invalid arguments.']);
  assert.deepEqual(await cmd('e', 'FETCH 1 FLAGS'), ['e BAD No mailbox selected.']);
  assert.deepEqual(await cmd('f', 'ENABLE CONDSTORE'), ['* ENABLED CONDSTORE', 'f OK Enabled.']);
  assert.deepEqual(await cmd('g', 'ENABLE CONDSTORE'), ['g OK Enabled.']);
  const s2 = await cmd('h', 'SELECT INBOX');
  assert.ok(s2.some((l) => /^\* OK \[HIGHESTMODSEQ [0-9]+\] Highest$/.test(l)), s2.join('\n'));
});

test('CREATE, LIST, RENAME with children, DELETE, SUBSCRIBE/LSUB (Dovecot probe replies)', async (t) => {
  const { cmd } = await session(t);
  assert.deepEqual(await cmd('g', 'CREATE Foo'), ['g OK Create completed.']);
  assert.deepEqual(await cmd('h', 'CREATE Foo'), ['h NO [ALREADYEXISTS] Mailbox already exists.']);
  assert.deepEqual(await cmd('i', 'CREATE Foo.Bar'), ['i OK Create completed.']);
  assert.deepEqual(await cmd('j', 'LIST "" *'), [
    '* LIST (\\HasChildren) "." Foo', '* LIST (\\HasNoChildren) "." Foo.Bar', '* LIST (\\HasNoChildren) "." INBOX', 'j OK List completed.',
  ]);
  assert.deepEqual(await cmd('j2', 'LIST "" %'), ['* LIST (\\HasChildren) "." Foo', '* LIST (\\HasNoChildren) "." INBOX', 'j2 OK List completed.']);
  assert.deepEqual(await cmd('j3', 'LIST "" ""'), ['* LIST (\\Noselect) "." ""', 'j3 OK List completed.']);
  assert.deepEqual(await cmd('k', 'LSUB "" *'), ['k OK Lsub completed.']);
  assert.deepEqual(await cmd('l', 'SUBSCRIBE Foo'), ['l OK Subscribe completed.']);
  assert.deepEqual(await cmd('m', 'LSUB "" *'), ['* LSUB () "." Foo', 'm OK Lsub completed.']);
  assert.deepEqual(await cmd('m2', 'LIST (SUBSCRIBED) "" *'), ['* LIST (\\Subscribed \\HasChildren) "." Foo', 'm2 OK List completed.']);
  assert.deepEqual(await cmd('n', 'RENAME Foo Baz'), ['n OK Rename completed.']);
  assert.deepEqual(await cmd('o', 'LIST "" *'), [
    '* LIST (\\HasChildren) "." Baz', '* LIST (\\HasNoChildren) "." Baz.Bar', '* LIST (\\HasNoChildren) "." INBOX', 'o OK List completed.',
  ]);
  assert.deepEqual(await cmd('q', 'DELETE nosuch'), ['q NO [NONEXISTENT] Mailbox doesn\'t exist: nosuch.']);
  assert.deepEqual(await cmd('al', 'DELETE INBOX'), ['al NO INBOX can\'t be deleted.']);
  assert.deepEqual(await cmd('am', 'RENAME INBOX Old'), ['am NO [CANNOT] Renaming INBOX isn\'t supported.']);
  assert.deepEqual(await cmd('q2', 'CREATE a/b'), ['q2 NO [CANNOT] Invalid mailbox name: Name must not have \'/\' characters.']);
  assert.deepEqual(await cmd('d', 'CREATE'), ['d BAD Error in IMAP command CREATE: Missing arguments.']);
  assert.deepEqual(await cmd('r', 'CREATE &AOk-t&AOk-'), ['r OK Create completed.']);
  assert.ok((await cmd('s', 'LIST "" *')).includes('* LIST (\\HasNoChildren) "." &AOk-t&AOk-'));
  assert.deepEqual(await cmd('p', 'DELETE Baz.Bar'), ['p OK Delete completed.']);
});

test('special-use and auto=subscribe mailboxes, LIST RETURN (SPECIAL-USE SUBSCRIBED CHILDREN STATUS)', async (t) => {
  const { cmd } = await session(t, {
    mailboxes: [
      { name: 'Drafts', specialUse: '\\Drafts', auto: 'subscribe' },
      { name: 'Sent', specialUse: '\\Sent', auto: 'subscribe' },
      { name: 'Trash', specialUse: '\\Trash', auto: 'subscribe' },
      { name: 'Junk', specialUse: '\\Junk', auto: 'no' },
    ],
  });
  assert.deepEqual(await cmd('a8', 'LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED CHILDREN)'), [
    '* LIST (\\Subscribed \\HasNoChildren \\Drafts) "." Drafts',
    '* LIST (\\Subscribed \\HasNoChildren \\Sent) "." Sent',
    '* LIST (\\Subscribed \\HasNoChildren \\Trash) "." Trash',
    '* LIST (\\HasNoChildren) "." INBOX',
    'a8 OK List completed.',
  ]);
  assert.deepEqual(await cmd('a5', 'LIST "" "*"'), [
    '* LIST (\\HasNoChildren \\Drafts) "." Drafts', '* LIST (\\HasNoChildren \\Sent) "." Sent',
    '* LIST (\\HasNoChildren \\Trash) "." Trash', '* LIST (\\HasNoChildren) "." INBOX', 'a5 OK List completed.',
  ]);
  assert.deepEqual(await cmd('a6', 'LIST (SPECIAL-USE) "" "*"'), [
    '* LIST (\\HasNoChildren \\Drafts) "." Drafts', '* LIST (\\HasNoChildren \\Sent) "." Sent',
    '* LIST (\\HasNoChildren \\Trash) "." Trash', 'a6 OK List completed.',
  ]);
  assert.deepEqual(await cmd('j', 'LIST "" INBOX RETURN (CHILDREN STATUS (MESSAGES UNSEEN))'), [
    '* LIST (\\HasNoChildren) "." INBOX', '* STATUS INBOX (MESSAGES 0 UNSEEN 0)', 'j OK List completed.',
  ]);
});

test('APPEND with LITERAL+ and sync literal, MULTIAPPEND, STATUS order, APPENDUID', async (t) => {
  const { c, cmd } = await session(t);
  const m1 = msg('one');
  c.send(`a8 APPEND INBOX (\\Seen \\Draft) "01-Jan-2024 10:00:00 +0000" {${m1.length}+}\r\n${m1}\r\n`);
  const r = (await c.until('a8')).map(untimed);
  assert.match(r[0]!, /^a8 OK \[APPENDUID [0-9]+ 1\] Append completed\.$/);
  c.send(`a9 APPEND INBOX {${m1.length}}\r\n`);
  assert.equal(await c.line(), '+ OK');
  c.send(`${m1} (\\Flagged) {${m1.length}}\r\n`);
  assert.equal(await c.line(), '+ OK');
  c.send(`${m1}\r\n`);
  assert.match(untimed((await c.until('a9'))[0]!), /^a9 OK \[APPENDUID [0-9]+ 2:3\] Append completed\.$/);
  assert.deepEqual(await cmd('b', 'APPEND nosuch {1+}\r\nx'), ['b NO [TRYCREATE] Mailbox doesn\'t exist: nosuch.']);
  assert.deepEqual(await cmd('b2', 'APPEND INBOX {0+}\r\n'), ['b2 NO Can\'t save a zero byte message.']);
  const st = await cmd('a12', 'STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE RECENT)');
  assert.match(st[0]!, new RegExp(`^\\* STATUS INBOX \\(MESSAGES 3 RECENT 3 UIDNEXT 4 UIDVALIDITY [0-9]+ UNSEEN 2 HIGHESTMODSEQ [0-9]+ SIZE ${3 * m1.length}\\)$`));
  assert.deepEqual(st.slice(1), ['a12 OK Status completed.']);
  assert.deepEqual(await cmd('e', 'STATUS INBOX'), ['e BAD Error in IMAP command STATUS: Missing arguments.']);
  assert.deepEqual(await cmd('f', 'STATUS INBOX (FOO)'), ['f BAD Error in IMAP command STATUS: Invalid status item FOO.']);
  const sel = await cmd('s', 'SELECT INBOX');
  assert.ok(sel.includes('* 3 EXISTS') && sel.includes('* OK [UNSEEN 2] First unseen.'), sel.join('\n'));
  assert.deepEqual((await cmd('s2', 'STATUS INBOX (MESSAGES)')), ['* STATUS INBOX (MESSAGES 3)', 's2 OK [CLIENTBUG] Status on selected mailbox completed.']);
  assert.deepEqual(await cmd('y', 'STORE 2 +FLAGS (\\Deleted)'), ['* 2 FETCH (FLAGS (\\Deleted \\Recent))', 'y OK Store completed.']);
  assert.deepEqual(await cmd('z', 'EXPUNGE'), ['* 2 EXPUNGE', 'z OK Expunge completed.']);
  assert.deepEqual(await cmd('z2', 'UNSELECT'), ['z2 OK Unselect completed.']);
  assert.deepEqual(await cmd('z3', 'CLOSE'), ['z3 BAD No mailbox selected.']);
});
