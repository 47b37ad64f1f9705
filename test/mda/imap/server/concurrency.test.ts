/*
 * Two sessions on one mailbox see each other's changes with correct untagged responses (RFC 3501
 * §7.4.1, §5.2), FETCH/STORE/COPY/MOVE/SEARCH replies, and IDLE woken by a delivery through the
 * storage API (as LMTP delivers) within a second. Also: a client that stops reading does not make
 * the server buffer a whole FETCH.
 * The two-session tests run twice: each session with its own store (as sessions in different
 * processes), and both sharing one store with the direct deliveries (as in a mail worker,
 * mda/store-cache.ts), where one session's sync may hand the other the very objects it built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msg, startTestServer, TestClient, untimed } from './harness.js';

const MODES = [
  { name: 'own stores', sharedStores: false },
  { name: 'one shared store', sharedStores: true },
] as const;

async function two(t: Parameters<typeof startTestServer>[0], sharedStores: boolean) {
  const s = await startTestServer(t, { sharedStores });
  const store = await s.store('u1');
  for (const n of ['one', 'two', 'three']) await store.deliver('INBOX', Buffer.from(msg(n)));
  const a = await TestClient.connect(s.port);
  const b = await TestClient.connect(s.port);
  t.after(() => { a.close(); b.close(); });
  await a.login();
  await b.login();
  const ca = async (tag: string, text: string) => (await a.cmd(tag, text)).map(untimed);
  const cb = async (tag: string, text: string) => (await b.cmd(tag, text)).map(untimed);
  return { s, store, a, b, ca, cb };
}

for (const mode of MODES) {
  test(`flag changes, expunges and appends by one session reach the other (${mode.name})`, async (t) => {
    const { store, ca, cb } = await two(t, mode.sharedStores);
    const sa = await ca('a', 'SELECT INBOX');
    // The first read-write session claims the three deliveries as \Recent; the second sees none.
    assert.ok(sa.includes('* 3 EXISTS') && sa.includes('* 3 RECENT'), sa.join('\n'));
    const sb = await cb('b', 'SELECT INBOX');
    assert.ok(sb.includes('* 3 EXISTS') && sb.includes('* 0 RECENT'), sb.join('\n'));
    const st = await ca('a1', 'STORE 2 +FLAGS (\\Flagged $Work)');
    assert.deepEqual(st.slice(0, 2), [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] Flags permitted.',
    ]);
    assert.equal(st[2], '* 2 FETCH (FLAGS (\\Flagged \\Recent $Work))');
    assert.equal(st[3], 'a1 OK Store completed.');
    const n1 = await cb('b1', 'NOOP');
    assert.ok(n1.includes('* 2 FETCH (FLAGS (\\Flagged $Work))'), n1.join('\n'));
    assert.ok(n1.includes('* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)'), n1.join('\n'));
    // FETCH must not announce an expunge (RFC 3501 §7.4.1); NOOP does.
    await ca('a2', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(await ca('a3', 'EXPUNGE'), ['* 1 EXPUNGE', 'a3 OK Expunge completed.']);
    const f = await cb('b2', 'FETCH 1 (FLAGS)');
    assert.ok(!f.some((l) => l.includes('EXPUNGE')), f.join('\n'));
    const n2 = await cb('b3', 'NOOP');
    assert.ok(n2.includes('* 1 EXPUNGE'), n2.join('\n'));
    await store.deliver('INBOX', Buffer.from(msg('four')));
    const n3 = await cb('b4', 'NOOP');
    assert.ok(n3.includes('* 3 EXISTS'), n3.join('\n'));
    const n4 = await ca('a4', 'UID FETCH 1:* (UID FLAGS)');
    assert.ok(n4.includes('* 3 EXISTS'), n4.join('\n'));
    assert.deepEqual(await cb('b5', 'UID SEARCH FLAGGED'), ['* SEARCH 2', 'b5 OK Search completed.']);
    assert.deepEqual(await cb('b6', 'SEARCH RETURN (MIN MAX COUNT ALL) ALL'), ['* ESEARCH (TAG "b6") MIN 1 MAX 3 ALL 1:3 COUNT 3', 'b6 OK Search completed.']);
    assert.deepEqual(await cb('b7', 'SEARCH SUBJECT four'), ['* SEARCH 3', 'b7 OK Search completed.']);
    assert.deepEqual(await cb('b8', 'SEARCH FOO'), ['b8 BAD Error in IMAP command SEARCH: Unknown argument FOO.']);
    assert.deepEqual(await cb('b9', 'SEARCH CHARSET FOO BODY x'), ['b9 NO [BADCHARSET] Unknown charset.']);
    assert.deepEqual(await cb('c1', 'SEARCH RETURN (SAVE) SUBJECT t'), ['c1 OK Search completed.']);
    assert.deepEqual(await cb('c2', 'FETCH $ (UID)'), ['* 1 FETCH (UID 2)', '* 2 FETCH (UID 3)', 'c2 OK Fetch completed.']);
    assert.deepEqual(await cb('c3', 'FETCH 9 FLAGS'), ['c3 BAD Error in IMAP command FETCH: Invalid messageset.']);
    assert.deepEqual(await cb('c4', 'FETCH 1 FOO'), ['c4 BAD Error in IMAP command FETCH: Unknown parameter: FOO.']);
  });

  test(`FETCH items, \\Seen on BODY[], COPY/MOVE with COPYUID, STORE UNCHANGEDSINCE (${mode.name})`, async (t) => {
    const { ca } = await two(t, mode.sharedStores);
    await ca('a', 'SELECT INBOX');
    const f = await ca('f', 'FETCH 1 (RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Subject)] UID ENVELOPE)');
    const m1 = msg('one');
    assert.equal(f[0], `* 1 FETCH (RFC822.SIZE ${m1.length} UID 1 BODY[HEADER.FIELDS (SUBJECT)] {16}\r\nSubject: one\r\n\r\n ENVELOPE ("Mon, 05 Feb 2024 12:42:32 +0000" "one" (("A" NIL "a" "example.org")) (("A" NIL "a" "example.org")) (("A" NIL "a" "example.org")) (("B" NIL "b" "example.org")) NIL NIL NIL "<one@example.org>"))`);
    const g = await ca('g', 'FETCH 1 (BODY[TEXT])');
    assert.match(g[0]!, /^\* 1 FETCH \(FLAGS \(\\Seen \\Recent\) BODY\[TEXT\] \{7\}\r\nhello\r\n\)$/);
    const h = await ca('h', 'UID FETCH 1 (BODY[]<0.4>)');
    assert.equal(h[0], '* 1 FETCH (UID 1 BODY[]<0> {4}\r\nFrom)');
    assert.deepEqual(await ca('c0', 'CREATE Dst'), ['c0 OK Create completed.']);
    const c = await ca('c', 'COPY 1:2 Dst');
    assert.match(c[0]!, /^c OK \[COPYUID [0-9]+ 1:2 1:2\] Copy completed\.$/);
    assert.deepEqual(await ca('i', 'COPY 1 nosuch'), ['i NO [TRYCREATE] Mailbox doesn\'t exist: nosuch.']);
    const mv = await ca('m', 'UID MOVE 2 Dst');
    assert.match(mv[0]!, /^\* OK \[COPYUID [0-9]+ 2 3\] Moved UIDs\.$/);
    assert.equal(mv[1], '* 2 EXPUNGE');
    assert.equal(mv.at(-1), 'm OK Move completed.');
    const ms = await ca('ms', 'FETCH 1 (MODSEQ)');
    assert.match(ms[0]!, /^\* OK \[HIGHESTMODSEQ [0-9]+\] Highest$/);
    const modseq = Number(/MODSEQ \(([0-9]+)\)/.exec(ms[1]!)![1]);
    const u = await ca('u', `STORE 1 (UNCHANGEDSINCE ${modseq - 1}) +FLAGS (\\Draft)`);
    assert.deepEqual(u, ['u OK [MODIFIED 1] Conditional store failed.']);
    const u2 = await ca('u2', `STORE 1 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Draft)`);
    assert.match(u2[0]!, /^\* 1 FETCH \(MODSEQ \([0-9]+\) FLAGS \(\\Seen \\Draft \\Recent\)\)$/);
    assert.deepEqual(await ca('s', 'STORE 1 +FLAGS (\\Bogus)'), ['s BAD Error in IMAP command STORE: Invalid system flag \\BOGUS.']);
    await ca('e', 'EXAMINE INBOX');
    assert.deepEqual(await ca('e2', 'STORE 1 +FLAGS (\\Seen)'), ['e2 OK Store ignored with read-only mailbox.']);
  });

  test(`IDLE is woken by a delivery through the storage API within a second (${mode.name})`, async (t) => {
    const { store, a, ca } = await two(t, mode.sharedStores);
    await ca('a', 'SELECT INBOX');
    a.send('i IDLE\r\n');
    assert.equal(await a.line(), '+ idling');
    const t0 = Date.now();
    await store.deliver('INBOX', Buffer.from(msg('five')));
    const l = await a.line(3000);
    assert.equal(l, '* 4 EXISTS');
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    assert.equal(await a.line(), '* 4 RECENT');
    a.send('DONE\r\n');
    assert.deepEqual((await a.until('i')).map(untimed), ['i OK Idle completed.']);
  });
}

test('IDLE reports at once what changed between the previous command and IDLE (it starts with a sync when the stamps moved)', async (t) => {
  const { store, a, ca } = await two(t, false);
  await ca('a', 'SELECT INBOX');
  await ca('n', 'NOOP');
  // Delivered after the NOOP's sync and before IDLE: no watcher was listening then.
  await store.deliver('INBOX', Buffer.from(msg('gap')));
  a.send('i IDLE\r\n');
  assert.equal(await a.line(), '+ idling');
  assert.equal(await a.line(3000), '* 4 EXISTS');
  assert.equal(await a.line(), '* 4 RECENT');
  a.send('DONE\r\n');
  assert.deepEqual((await a.until('i')).map(untimed), ['i OK Idle completed.']);
});

test('a client that stops reading: the server stops producing (bounded buffering)', async (t) => {
  const { s, store, a, ca } = await two(t, false);
  const big = msg('big', `${'x'.repeat(998)}\r\n`.repeat(1000));
  for (let i = 0; i < 20; i++) await store.deliver('INBOX', Buffer.from(big));
  await ca('a', 'SELECT INBOX');
  a.socket.pause();
  a.send('f FETCH 1:* (BODY.PEEK[])\r\n');
  await new Promise((r) => setTimeout(r, 500));
  // ~20 MB requested; the socket buffers plus one message is all the server may have queued.
  const queued = (a.socket as unknown as { readableLength: number }).readableLength;
  assert.ok(queued < 20 * big.length / 2, `client already holds ${queued} bytes`);
  a.socket.resume();
  const r = await a.until('f', 20_000);
  assert.equal(r.filter((l) => l.includes(' FETCH (')).length, 23);
  void s;
});
