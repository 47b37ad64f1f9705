/*
 * imapflow (the Node IMAP client behind many webmails) against our server, a realistic session:
 * capability-driven login, LIST with SPECIAL-USE, SELECT with CONDSTORE, FETCH of envelopes,
 * bodystructure and bodies, flags, APPEND, MOVE, SEARCH, and IDLE woken by an LMTP-style delivery
 * through the storage API (which must arrive well within a second, as the issue asks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { msg, startTestServer } from './harness.js';

const MULTIPART = [
  'From: Alice <alice@example.org>',
  'To: Bob <bob@example.org>',
  'Subject: =?UTF-8?Q?caf=C3=A9?= report',
  'Date: Mon, 05 Feb 2024 12:42:32 +0000',
  'Message-ID: <mp1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'hello there',
  '--b1',
  'Content-Type: application/octet-stream; name="a.bin"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="a.bin"',
  '',
  'AAECAwQ=',
  '--b1--',
  '',
].join('\r\n');

test('imapflow: list, select, fetch, flags, append, move, search, idle', async (t) => {
  const s = await startTestServer(t, {
    mailboxes: [{ name: 'Trash', specialUse: '\\Trash', auto: 'subscribe' }, { name: 'Sent', specialUse: '\\Sent', auto: 'subscribe' }],
  });
  const store = await s.store('u1');
  await store.deliver('INBOX', Buffer.from(msg('first')));
  await store.deliver('INBOX', Buffer.from(MULTIPART));

  const client = new ImapFlow({ host: '127.0.0.1', port: s.port, secure: false, auth: { user: 'u1', pass: 'secret' }, logger: false, disableAutoIdle: true });
  await client.connect();
  t.after(() => client.close());
  assert.ok(client.capabilities.has('IDLE') && client.capabilities.has('CONDSTORE') && client.capabilities.has('SAVEDATE'));

  const list = await client.list();
  const byPath = new Map(list.map((b) => [b.path, b]));
  assert.deepEqual([...byPath.keys()].sort(), ['INBOX', 'Sent', 'Trash']);
  assert.equal(byPath.get('Trash')!.specialUse, '\\Trash');
  assert.equal(byPath.get('Sent')!.subscribed, true);

  const box = await client.mailboxOpen('INBOX');
  assert.equal(box.exists, 2);
  assert.ok(box.uidValidity > 0n);

  const got: { uid: number; subject: string | undefined; from: string | undefined; parts: number }[] = [];
  for await (const m of client.fetch('1:*', { uid: true, envelope: true, bodyStructure: true, flags: true, internalDate: true, size: true })) {
    got.push({ uid: m.uid, subject: m.envelope?.subject, from: m.envelope?.from?.[0]?.address, parts: m.bodyStructure?.childNodes?.length ?? 0 });
  }
  assert.deepEqual(got, [
    { uid: 1, subject: 'first', from: 'a@example.org', parts: 0 },
    { uid: 2, subject: 'café report', from: 'alice@example.org', parts: 2 },
  ]);

  const whole = await client.fetchOne('2', { source: true, bodyParts: ['1', '2'] });
  assert.ok(whole);
  assert.equal(whole.source!.toString('latin1'), MULTIPART);
  assert.equal(whole.bodyParts!.get('1')!.toString(), 'hello there');
  const dl = await client.download('2', '2');
  const chunks: Buffer[] = [];
  for await (const c of dl.content!) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), Buffer.from([0, 1, 2, 3, 4]));

  await client.messageFlagsAdd('1', ['\\Seen', '$Important']);
  const flagged = await client.fetchOne('1', { flags: true });
  assert.ok(flagged);
  assert.deepEqual([...flagged.flags!].sort(), ['$Important', '\\Recent', '\\Seen']);
  assert.deepEqual(await client.search({ seen: false }), [2]);
  assert.deepEqual(await client.search({ keyword: '$Important' }, { uid: true }), [1]);

  const appended = await client.append('Sent', Buffer.from(msg('sent one')), ['\\Seen'], new Date('2024-02-05T12:00:00Z'));
  assert.ok(appended);
  assert.equal(appended.destination, 'Sent');
  assert.equal(appended.uid, 1);

  const moved = await client.messageMove('1', 'Trash');
  assert.ok(moved);
  assert.deepEqual(moved.uidMap ? [...moved.uidMap.entries()] : [], [[1, 1]]);
  const trash = await client.status('Trash', { messages: true, unseen: true });
  assert.ok(trash);
  assert.equal(trash.messages, 1);
  assert.equal(client.mailbox && client.mailbox.exists, 1);

  // IDLE: a delivery into INBOX must wake it with EXISTS.
  const woke = new Promise<{ count: number; ms: number }>((resolve) => {
    const started = Date.now();
    client.on('exists', (d: { count: number }) => resolve({ count: d.count, ms: Date.now() - started }));
  });
  const idling = client.idle();
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  await store.deliver('INBOX', Buffer.from(msg('while idle')));
  const w = await woke;
  assert.equal(w.count, 2);
  assert.ok(Date.now() - t0 < 1000, `IDLE woke after ${Date.now() - t0} ms`);
  const last = await client.fetchOne('*', { envelope: true });
  assert.ok(last);
  assert.equal(last.envelope?.subject, 'while idle');
  await idling.catch(() => undefined);
  await client.logout();
});
