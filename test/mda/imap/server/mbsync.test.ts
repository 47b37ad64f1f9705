/*
 * mbsync (Debian's isync) syncing a mailbox tree both ways between our IMAP server and a local
 * Maildir++ tree: first run pulls INBOX, Work and Work.Sub down and pushes a local folder and a
 * local new message up (APPEND, CREATE); the second run carries a local flag change and a local
 * deletion up (STORE, EXPUNGE) and a server-side deletion and flag change down; a third run finds
 * nothing to do. Fails in CI when mbsync is missing, skips with a reason elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, unlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOracle, oracleSkip } from '../../../helpers/oracle.js';
import { tempDir } from '../../../helpers/tmp.js';
import { runClient } from './client-run.js';
import { msg, startTestServer } from './harness.js';

function files(dir: string): string[] {
  return ['new', 'cur'].flatMap((s) => readdirSync(join(dir, s)).map((f) => join(s, f))).sort();
}

function subjects(dir: string): string[] {
  return files(dir).map((f) => /^Subject: (.*)$/m.exec(readFileSync(join(dir, f), 'latin1'))?.[1]?.trim() ?? '?').sort();
}

test('mbsync syncs a mailbox tree both ways', { skip: oracleSkip('mbsync') }, async (t) => {
  const s = await startTestServer(t);
  const store = await s.store('u1');
  await store.deliver('INBOX', Buffer.from(msg('server one')));
  await store.deliver('INBOX', Buffer.from(msg('server two')));
  await store.create('Work');
  await store.create('Work.Sub');
  await store.append('Work', Buffer.from(msg('work item')), { flags: ['\\Flagged'] });
  await store.append('Work.Sub', Buffer.from(msg('deep item')), { flags: ['\\Seen'] });

  const dir = tempDir(t, 'postern-mbsync-');
  const local = join(dir, 'Mail');
  for (const d of ['', '.Local']) for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(local, d, sub), { recursive: true });
  writeFileSync(join(local, '.Local', 'cur', '1700000000.1_1.here:2,S'), msg('local folder msg'));
  writeFileSync(join(local, 'new', '1700000001.2_1.here'), msg('local new msg'));
  const rc = join(dir, 'mbsyncrc');
  writeFileSync(rc, [
    'IMAPAccount postern',
    'Host 127.0.0.1',
    `Port ${s.port}`,
    'User u1',
    'Pass secret',
    'SSLType None',
    'AuthMechs LOGIN',
    '',
    'IMAPStore remote',
    'Account postern',
    '',
    'MaildirStore local',
    `Inbox ${local}`,
    'SubFolders Maildir++',
    '',
    'Channel sync',
    'Far :remote:',
    'Near :local:',
    'Patterns *',
    'Create Both',
    'Remove None',
    'Expunge Both',
    'Sync All',
    `SyncState ${dir}/state/`,
    '',
  ].join('\n'));
  mkdirSync(join(dir, 'state'));
  const mbsync = findOracle('mbsync')!;
  const sync = async () => {
    const r = await runClient(mbsync, ['-c', rc, '-a'], { env: { ...process.env, HOME: dir } });
    assert.equal(r.status, 0, `mbsync failed: ${r.stdout}\n${r.stderr}`);
    return r;
  };

  await sync();
  // Down: every server folder exists locally with its messages and flags.
  assert.deepEqual(subjects(local), ['local new msg', 'server one', 'server two']);
  assert.deepEqual(subjects(join(local, '.Work')), ['work item']);
  assert.deepEqual(subjects(join(local, '.Work.Sub')), ['deep item']);
  assert.ok(files(join(local, '.Work')).every((f) => /:2,F$/.test(f)), files(join(local, '.Work')).join(' '));
  assert.ok(files(join(local, '.Work.Sub')).every((f) => /:2,S$/.test(f)));
  // Up: the local folder was created on the server and the local new message appended.
  const names = (await store.list()).map((e) => e.name).sort();
  assert.deepEqual(names, ['INBOX', 'Local', 'Work', 'Work.Sub']);
  const localBox = await store.openMailbox('Local', { readOnly: true });
  assert.equal(localBox.messages().length, 1);
  assert.deepEqual(localBox.messages()[0]!.flags, ['\\Seen']);
  const inbox = await store.openMailbox('INBOX', { readOnly: false });
  assert.equal(inbox.messages().length, 3);

  // Local changes: flag "server one" \Flagged\Seen, delete "server two"; server changes: delete
  // "work item", mark "deep item" \Answered.
  for (const f of files(local)) {
    const subject = /^Subject: (.*)$/m.exec(readFileSync(join(local, f), 'latin1'))?.[1];
    const base = f.replace(/:2,.*$/, '').replace(/^(new|cur)\//, '');
    if (subject === 'server one') renameSync(join(local, f), join(local, 'cur', `${base}:2,FS`));
    if (subject === 'server two') unlinkSync(join(local, f));
  }
  const work = await store.openMailbox('Work', { readOnly: false });
  await work.expunge({ onlyDeleted: false });
  const sub = await store.openMailbox('Work.Sub', { readOnly: false });
  await sub.store([1], { mode: 'add', flags: ['\\Answered'] });

  await sync();
  await inbox.refresh();
  const bySubject = new Map<string, readonly string[]>();
  for (const m of inbox.messages()) {
    const subj = /^Subject: (.*)$/m.exec((await inbox.read(m.uid)).toString('latin1'))![1]!.trim();
    bySubject.set(subj, m.flags);
  }
  assert.deepEqual([...bySubject.keys()].sort(), ['local new msg', 'server one']);
  assert.deepEqual(bySubject.get('server one'), ['\\Flagged', '\\Seen']);
  assert.deepEqual(subjects(join(local, '.Work')), []);
  assert.ok(files(join(local, '.Work.Sub')).every((f) => /:2,RS$/.test(f)), files(join(local, '.Work.Sub')).join(' '));

  // Converged: a third run changes nothing on either side.
  const before = files(local).join(' ');
  const r = await sync();
  assert.equal(files(local).join(' '), before);
  await inbox.refresh();
  assert.equal(inbox.messages().length, 2);
  assert.doesNotMatch(r.stderr, /error/i);
});
