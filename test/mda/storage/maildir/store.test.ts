/* Behaviour tests on temp dirs: delivery, APPEND, folders, subscriptions, adopting foreign maildirs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../../../../mda/storage/api.js';
import { corpus, corpusBytes, tempStore } from '../helpers.js';

const NAME_RE = /^(\d+)\.M(\d+)P(\d+)\.testhost,S=(\d+),W=(\d+)$/;

async function kind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof StorageError, String(err));
    return err.kind;
  }
}

test('deliver writes new/<sec>.M<usec>P<pid>.<host>,S=,W= with LF line ends and appends uidlist records', async (t) => {
  const { store, root } = await tempStore(t);
  const entries = corpus().slice(0, 40);
  const uids: number[] = [];
  for (const e of entries) uids.push((await store.deliver('INBOX', corpusBytes(e))).uid);
  assert.deepEqual(uids, entries.map((_, i) => i + 1));
  const files = readdirSync(join(root, 'new')).sort();
  assert.equal(files.length, entries.length);
  assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  const uidlist = readFileSync(join(root, 'dovecot-uidlist'), 'utf8').split('\n');
  assert.match(uidlist[0]!, /^3 V\d+ N1 G[0-9a-f]{32}$/);
  for (let i = 0; i < entries.length; i++) {
    const [uid, base] = uidlist[i + 1]!.split(' :');
    assert.equal(Number(uid), i + 1);
    const m = NAME_RE.exec(base!);
    assert.ok(m, base);
    assert.equal(Number(m[3]), process.pid);
    const bytes = readFileSync(join(root, 'new', base!));
    assert.equal(bytes.length, entries[i]!.lfSize, entries[i]!.file);
    assert.equal(Number(m[4]), bytes.length);
    assert.ok(!bytes.includes(Buffer.from('\r\n')) || entries[i]!.eol === 'raw', entries[i]!.file);
  }
  const uv = readFileSync(join(root, 'dovecot-uidvalidity'), 'utf8');
  assert.match(uv, /^[0-9a-f]{8}$/);
  assert.ok(existsSync(join(root, `dovecot-uidvalidity.${uv}`)));
  assert.equal(Number(uidlist[0]!.split(' ')[1]!.slice(1)), parseInt(uv, 16));
  const st = await store.status('INBOX');
  assert.equal(st.messages, 40);
  assert.equal(st.recent, 40);
  assert.equal(st.unseen, 40);
  assert.equal(st.uidNext, 41);
  assert.equal(st.highestModseq >= 1, true);
  // Delivery and STATUS leave new/ alone (Dovecot: only a read-write SELECT moves to cur/).
  assert.equal(readdirSync(join(root, 'new')).length, 40);
});

test('a failing delivery stream leaves nothing behind', async (t) => {
  const { store, root } = await tempStore(t);
  async function* broken(): AsyncIterable<Uint8Array> {
    yield Buffer.from('Subject: x\r\n\r\nhalf');
    throw new Error('client went away');
  }
  await assert.rejects(store.deliver('INBOX', broken()));
  assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  assert.deepEqual(readdirSync(join(root, 'new')), []);
});

test('append with flags, keywords and internal date goes to cur/ with sorted letters', async (t) => {
  const { store, root } = await tempStore(t);
  const date = new Date('2023-04-05T06:07:08Z');
  const r = await store.append('INBOX', Buffer.from('Subject: a\r\n\r\nbody\r\n'), { flags: ['\\Seen', 'project', '\\Draft', '$Junk'], internalDate: date });
  assert.equal(r.uid, 1);
  const [name] = readdirSync(join(root, 'cur'));
  assert.match(name!, /,S=17,W=20:2,DSab$/);
  assert.equal(readFileSync(join(root, 'dovecot-keywords'), 'utf8'), '0 project\n1 $Junk\n');
  assert.equal(statSync(join(root, 'cur', name!)).mtime.getTime(), date.getTime());
  const v = await store.openMailbox('INBOX', { readOnly: true });
  assert.deepEqual(v.messages()[0]!.flags, ['\\Seen', '\\Draft', 'project', '$Junk']);
  assert.equal((await v.internalDate(1)).getTime(), date.getTime());
  assert.equal(await kind(store.append('INBOX', Buffer.from('x'), { flags: ['\\Bogus'] })), 'PARAMS');
});

test('folders: create, list, subscriptions, rename with children, delete', async (t) => {
  const { store, root } = await tempStore(t);
  await store.create('Work.Sub');
  await store.create('Entwürfe');
  await store.create('Sent');
  assert.ok(existsSync(join(root, '.Work.Sub', 'cur')));
  assert.equal(readFileSync(join(root, '.Work.Sub', 'maildirfolder'), 'utf8'), '');
  assert.ok(existsSync(join(root, '.Entw&APw-rfe', 'maildirfolder')));
  assert.match(readFileSync(join(root, '.Sent', 'dovecot-uidlist'), 'utf8'), /^3 V\d+ N1 G[0-9a-f]{32}\n$/);
  const uvs = ['.Work.Sub', '.Entw&APw-rfe', '.Sent'].map((d) => Number(/V(\d+)/.exec(readFileSync(join(root, d, 'dovecot-uidlist'), 'utf8'))![1]));
  assert.deepEqual([uvs[1]! - uvs[0]!, uvs[2]! - uvs[1]!], [1, 1]);
  const list = await store.list();
  assert.deepEqual(list.map((e) => [e.name, e.attributes.join(' ')]), [
    ['INBOX', '\\HasNoChildren'], ['Entwürfe', '\\HasNoChildren'], ['Sent', '\\HasNoChildren'],
    ['Work', '\\NonExistent \\HasChildren'], ['Work.Sub', '\\HasNoChildren']]);
  await store.subscribe('Work.Sub');
  await store.subscribe('Entwürfe');
  await store.subscribe('INBOX');
  await store.subscribe('INBOX');
  assert.equal(readFileSync(join(root, 'subscriptions'), 'utf8'), 'V\t2\n\nWork\tSub\nEntw&APw-rfe\nINBOX\n');
  await store.unsubscribe('Entwürfe');
  assert.deepEqual(await store.subscriptions(), ['Work.Sub', 'INBOX']);

  assert.equal(await kind(store.create('Sent')), 'EXISTS');
  assert.equal(await kind(store.create('inbox')), 'EXISTS');
  assert.equal(await kind(store.create('a/b')), 'PARAMS');
  assert.equal(await kind(store.create('../escape')), 'PARAMS');
  assert.equal(await kind(store.create('bad\x07name')), 'PARAMS');
  assert.equal(await kind(store.delete('INBOX')), 'NOTPOSSIBLE');
  assert.equal(await kind(store.delete('Nope')), 'NOTFOUND');
  assert.equal(await kind(store.openMailbox('Nope', { readOnly: true })), 'NOTFOUND');
  assert.equal(await kind(store.deliver('Nope', Buffer.from('x'))), 'NOTFOUND');

  await store.deliver('Work.Sub', Buffer.from('Subject: s\n\nx\n'));
  await store.create('Work');
  const before = readFileSync(join(root, '.Work.Sub', 'dovecot-uidlist'), 'utf8');
  await store.rename('Work', 'Projects');
  assert.ok(!existsSync(join(root, '.Work')) && !existsSync(join(root, '.Work.Sub')));
  assert.equal(readFileSync(join(root, '.Projects.Sub', 'dovecot-uidlist'), 'utf8'), before);
  assert.equal((await store.status('Projects.Sub')).messages, 1);
  assert.equal(await kind(store.rename('Projects', 'Projects.Inner')), 'PARAMS');
  assert.equal(await kind(store.rename('Projects', 'Sent')), 'EXISTS');
  assert.equal(await kind(store.rename('Gone', 'Other')), 'NOTFOUND');

  await store.delete('Projects.Sub');
  assert.ok(!existsSync(join(root, '.Projects.Sub')));
  assert.deepEqual((await store.list()).map((e) => e.name), ['INBOX', 'Entwürfe', 'Projects', 'Sent']);
});

test('LAYOUT=fs keeps folders as real directories', async (t) => {
  const { store, dir } = await tempStore(t, { location: 'maildir:~/mail:LAYOUT=fs:INBOX=~/mail/INBOX' });
  assert.equal(store.separator, '/');
  await store.create('Work/Sub');
  await store.deliver('Work/Sub', Buffer.from('Subject: x\n\nbody\n'));
  await store.deliver('INBOX', Buffer.from('Subject: y\n\nbody\n'));
  assert.ok(existsSync(join(dir, 'mail', 'Work', 'Sub', 'new')));
  assert.ok(existsSync(join(dir, 'mail', 'INBOX', 'new')));
  assert.deepEqual((await store.list()).map((e) => `${e.name} ${e.attributes.join(' ')}`), [
    'INBOX \\HasNoChildren', 'Work \\Noselect \\HasChildren', 'Work/Sub \\HasNoChildren']);
  await store.rename('Work', 'Old');
  assert.equal((await store.status('Old/Sub')).messages, 1);
  for (const bad of ['a/../b', 'cur', 'x/tmp']) {
    await assert.rejects(store.create(bad), (e: StorageError) => e.kind === 'PARAMS');
  }
});

test('a foreign maildir is adopted in Dovecot order; existing UIDs are never renumbered', async (t) => {
  const { store, root } = await tempStore(t);
  for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  const files: [string, string][] = [
    ['new', '1700000000.12345_0.otherhost'],
    ['cur', '1700000001.12346_0.otherhost:2,SR'],
    ['cur', '1700000002.12347_0.otherhost,S=22:2,Sa'],
    ['cur', '1700000004.1_0.otherhost:2,XS'],
    ['new', '1700000005.1_0.otherhost:2,F'],
  ];
  for (const [d, f] of files) writeFileSync(join(root, d, f), 'Subject: foreign\n\nhello\n');
  mkdirSync(join(root, '.Archive.2023', 'cur'), { recursive: true });
  mkdirSync(join(root, '.Archive.2023', 'new'), { recursive: true });
  const v = await store.openMailbox('INBOX', { readOnly: true });
  assert.deepEqual(v.messages().map((m) => [m.uid, m.flags.join(' ')]), [
    [1, ''], [2, '\\Answered \\Seen'], [3, '\\Seen unknown-0'], [4, '\\Seen'], [5, '\\Flagged']]);
  assert.ok((await store.list()).some((e) => e.name === 'Archive.2023'));

  // Somebody else (Dovecot) had UIDs 7 and 9 with N12; one more file appears.
  const uidlist = readFileSync(join(root, 'dovecot-uidlist'), 'utf8').split('\n');
  const header = uidlist[0]!.replace(/ N\d+/, ' N12');
  const recs = uidlist.slice(1).filter(Boolean).map((l, i) => l.replace(/^\d+/, String([7, 9, 10, 11, 12][i])));
  rmSync(join(root, 'postern-index.lmdb'), { force: true });
  rmSync(join(root, 'postern-index.lmdb-lock'), { force: true });
  writeFileSync(join(root, 'dovecot-uidlist'), `${header}\n${recs.join('\n')}\n`);
  writeFileSync(join(root, 'new', '1600000000.1_0.early'), 'Subject: late arrival, early name\n\nx\n');
  const st = await store.status('INBOX');
  assert.equal(st.messages, 6);
  assert.equal(st.uidNext, 14);
  const v2 = await store.openMailbox('INBOX', { readOnly: true });
  assert.deepEqual(v2.messages().map((m) => m.uid), [7, 9, 10, 11, 12, 13]);
  assert.equal(v2.messages()[5]!.guid, '1600000000.1_0.early');
  // Appending never rewrote the old records.
  assert.ok(readFileSync(join(root, 'dovecot-uidlist'), 'utf8').startsWith(`${header}\n${recs.join('\n')}\n13 :1600000000.1_0.early\n`));
});

test('a mail root given through ~ and an expander; INDEX=MEMORY keeps no sidecar file', async (t) => {
  const { store, dir } = await tempStore(t, { location: 'maildir:~/%u:INDEX=MEMORY', expand: (s) => s.replace('%u', 'alice') });
  await store.deliver('INBOX', Buffer.from('x\n'));
  assert.ok(existsSync(join(dir, 'alice', 'new')));
  assert.ok(!readdirSync(join(dir, 'alice')).some((f) => f.startsWith('postern-index')));
});
