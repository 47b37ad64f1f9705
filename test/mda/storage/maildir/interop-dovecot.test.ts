/*
 * INTEROP with real Dovecot 2.3 (doveadm, dovecot-lda) on the same maildir:
 * (a) what our backend writes, Dovecot reads with the same UIDs, UIDVALIDITY, flags, keywords,
 *     folders and subscriptions (and its own size computation agrees with our S=/W=);
 * (b) what Dovecot writes (save, LDA delivery, flags, move, create, subscribe), we read the same;
 * (c) interleaved writers never renumber or reuse a UID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openMailStore, type MailStore } from '../../../../mda/storage/api.js';
import { oracleSkip } from '../../../helpers/oracle.js';
import { corpus, corpusBytes } from '../helpers.js';
import { createDovecot, type Dovecot } from '../dovecot-oracle.js';

const skip = oracleSkip('doveadm');

const fetchRows = (dc: Dovecot, mailbox: string): Record<string, string>[] =>
  dc.table(['fetch', 'uid flags guid size.physical size.virtual', 'mailbox', mailbox, 'all']);

const dovecotFlags = (s: string): string => s.split(' ').filter((f) => f !== '' && f !== '\\Recent').join(' ');

async function ours(t: import('node:test').TestContext, dc: Dovecot): Promise<MailStore> {
  const store = await openMailStore({ mailLocation: dc.mailLocation, user: dc.user, hostname: 'postern' });
  t.after(() => store.close());
  return store;
}

test('Dovecot reads what our backend wrote', { skip }, async (t) => {
  const dc = createDovecot(t);
  const store = await ours(t, dc);
  const msgs = corpus().slice(0, 12);
  for (const e of msgs) await store.deliver('INBOX', corpusBytes(e));
  await store.append('INBOX', Buffer.from('Subject: appended\r\n\r\nhi\r\n'), { flags: ['\\Seen', '\\Draft', 'project'] });
  await store.create('Work.Sub');
  await store.create('Entwürfe');
  await store.subscribe('Work.Sub');
  await store.subscribe('Entwürfe');
  const v = await store.openMailbox('INBOX', { readOnly: false });
  await v.store([2, 3], { mode: 'add', flags: ['\\Flagged', '$Junk'] });
  await v.store([4], { mode: 'add', flags: ['\\Answered', '\\Deleted'] });
  await v.expunge();
  await v.move([5], 'Work.Sub');
  await v.refresh();

  const rows = fetchRows(dc, 'INBOX');
  assert.deepEqual(rows.map((r) => Number(r['uid'])), v.messages().map((m) => m.uid));
  for (const [i, m] of v.messages().entries()) {
    const r = rows[i]!;
    assert.equal(dovecotFlags(r['flags']!), m.flags.join(' '), `uid ${m.uid}`);
    assert.equal(r['guid'], m.guid);
    assert.equal(Number(r['size.virtual']), m.virtualSize);
    assert.equal(Number(r['size.physical']), m.physicalSize);
  }
  // Dovecot's own size computation (ignoring our S=/W=) agrees.
  const recount = dc.table(['-o', 'maildir_broken_filename_sizes=yes', 'fetch', 'uid size.virtual', 'mailbox', 'INBOX', 'all']);
  assert.deepEqual(recount.map((r) => Number(r['size.virtual'])), v.messages().map((m) => m.virtualSize));

  const [st] = dc.table(['mailbox', 'status', 'messages uidnext uidvalidity unseen vsize', 'INBOX']);
  const mine = v.status();
  assert.equal(Number(st!['uidvalidity']), v.uidValidity);
  assert.equal(Number(st!['uidnext']), v.uidNext);
  assert.equal(Number(st!['messages']), mine.messages);
  assert.equal(Number(st!['unseen']), mine.unseen);
  assert.equal(Number(st!['vsize']), mine.size);

  const sub = fetchRows(dc, 'Work.Sub');
  assert.deepEqual(sub.map((r) => r['uid']), ['1']);
  assert.equal(dc.table(['mailbox', 'status', 'uidvalidity', 'Work.Sub'])[0]!['uidvalidity'], String((await store.status('Work.Sub')).uidValidity));
  const list = dc.doveadm(['mailbox', 'list']).stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(list, ['Entwürfe', 'INBOX', 'Work', 'Work.Sub']);
  const subs = dc.doveadm(['mailbox', 'list', '-s']).stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(subs, ['Entwürfe', 'Work.Sub']);
  // Dovecot kept our uidlist records (no renumbering). The expunged 4 and moved-away 5 are still
  // listed: 2 dead of 13 is below the compression threshold, for Dovecot as for us.
  const recs = readFileSync(join(dc.root, 'dovecot-uidlist'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => Number(l.split(' ')[0]));
  assert.deepEqual(recs, [...v.messages().map((m) => m.uid), 4, 5].sort((a, b) => a - b));
});

test('we read what Dovecot wrote (doveadm save, dovecot-lda, flags, move, create, subscribe)', { skip }, async (t) => {
  const dc = createDovecot(t);
  for (const e of corpus().slice(20, 25)) assert.equal(dc.doveadm(['save'], corpusBytes(e).toString('latin1')).status, 0);
  const lda = dc.lda('From: a@example.org\nSubject: via lda\n\nhello\n');
  assert.equal(lda.status, 0, lda.stderr);
  assert.equal(dc.doveadm(['flags', 'add', '\\Seen $Label1 project', 'uid', '2:3']).status, 0);
  assert.equal(dc.doveadm(['flags', 'add', '\\Answered', 'uid', '5']).status, 0);
  assert.equal(dc.doveadm(['mailbox', 'create', '-s', 'Projekte.Ünter']).status, 0);
  assert.equal(dc.doveadm(['move', 'Projekte.Ünter', 'mailbox', 'INBOX', 'uid', '4']).status, 0);
  assert.equal(dc.doveadm(['expunge', 'mailbox', 'INBOX', 'uid', '1']).status, 0);

  const store = await ours(t, dc);
  const rows = fetchRows(dc, 'INBOX');
  const v = await store.openMailbox('INBOX', { readOnly: true });
  assert.deepEqual(v.messages().map((m) => m.uid), rows.map((r) => Number(r['uid'])));
  assert.deepEqual(v.messages().map((m) => m.flags.join(' ')), rows.map((r) => dovecotFlags(r['flags']!)));
  assert.deepEqual(v.messages().map((m) => m.guid), rows.map((r) => r['guid']));
  for (const m of v.messages()) {
    assert.equal((await v.read(m.uid, { crlf: true })).length, m.virtualSize);
  }
  const [st] = dc.table(['mailbox', 'status', 'uidvalidity uidnext', 'INBOX']);
  assert.equal(v.uidValidity, Number(st!['uidvalidity']));
  assert.equal(v.uidNext, Number(st!['uidnext']));
  assert.ok((await store.list()).some((e) => e.name === 'Projekte.Ünter'));
  assert.deepEqual(await store.subscriptions(), ['Projekte.Ünter']);
  const moved = await store.openMailbox('Projekte.Ünter', { readOnly: true });
  assert.deepEqual(moved.messages().map((m) => m.uid), fetchRows(dc, 'Projekte.Ünter').map((r) => Number(r['uid'])));
  assert.equal(v.keywords().join(' '), '$Label1 project');
});

test('interleaved writers share one UID sequence and Dovecot sees our flag changes', { skip }, async (t) => {
  const dc = createDovecot(t);
  assert.equal(dc.doveadm(['save'], 'Subject: d1\n\nx\n').status, 0);
  const store = await ours(t, dc);
  assert.equal((await store.deliver('INBOX', Buffer.from('Subject: p1\r\n\r\ny\r\n'))).uid, 2);
  assert.equal(dc.doveadm(['save'], 'Subject: d2\n\nz\n').status, 0);
  assert.equal((await store.deliver('INBOX', Buffer.from('Subject: p2\r\n\r\nw\r\n'))).uid, 4);
  const v = await store.openMailbox('INBOX', { readOnly: false });
  assert.deepEqual(v.messages().map((m) => m.uid), [1, 2, 3, 4]);
  await v.store([1, 4], { mode: 'add', flags: ['\\Seen', 'NonJunk'] });
  assert.equal(dc.doveadm(['flags', 'add', '\\Flagged', 'uid', '2']).status, 0);
  const ch = await v.refresh();
  assert.deepEqual(ch.flagChanges.map((m) => [m.uid, m.flags.join(' ')]), [[2, '\\Flagged']]);
  const rows = fetchRows(dc, 'INBOX');
  assert.deepEqual(rows.map((r) => [Number(r['uid']), dovecotFlags(r['flags']!)]),
    [[1, '\\Seen NonJunk'], [2, '\\Flagged'], [3, ''], [4, '\\Seen NonJunk']]);
  const search = dc.doveadm(['search', 'mailbox', 'INBOX', 'KEYWORD', 'NonJunk']).stdout.trim().split('\n').map((l) => Number(l.split(' ')[1]));
  assert.deepEqual(search, [1, 4]);
});
