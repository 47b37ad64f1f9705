/*
 * mutt in batch mode against our server: it opens INBOX over imap://, and a pushed key sequence
 * pipes a message body to a file (FETCH of headers, bodies and BODYSTRUCTURE), flags one message,
 * copies one to another folder (COPY/UID COPY), deletes one and syncs (STORE \Deleted, EXPUNGE),
 * then quits. mutt needs a terminal: it runs under util-linux `script`, which gives it a pty.
 * Fails in CI when mutt is missing, skips with a reason elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOracle, oracleSkip } from '../../../helpers/oracle.js';
import { tempDir } from '../../../helpers/tmp.js';
import { runClient } from './client-run.js';
import { msg, startTestServer } from './harness.js';

test('mutt reads, flags, copies and deletes over IMAP', { skip: oracleSkip('mutt', 'script') }, async (t) => {
  const s = await startTestServer(t);
  const store = await s.store('u1');
  await store.deliver('INBOX', Buffer.from(msg('alpha', 'alpha body line\r\n')));
  await store.deliver('INBOX', Buffer.from(msg('beta', 'beta body line\r\n')));
  await store.deliver('INBOX', Buffer.from(msg('gamma', 'gamma body line\r\n')));
  await store.create('Archive');

  const dir = tempDir(t, 'postern-mutt-');
  const out = join(dir, 'piped.txt');
  const rc = join(dir, 'muttrc');
  writeFileSync(rc, [
    `set folder="imap://u1@127.0.0.1:${s.port}/"`,
    'set imap_user="u1"',
    'set imap_pass="secret"',
    'set spoolfile="+INBOX"',
    'set ssl_starttls=no',
    'set ssl_force_tls=no',
    'set imap_passive=no',
    'set header_cache=""',
    'set message_cachedir=""',
    'set record=""',
    'set copy=no',
    'set move=no',
    'set mark_old=no',
    'set confirmappend=no',
    'set confirmcreate=no',
    'set delete=yes',
    'set quit=yes',
    'set wait_key=no',
    'set sort=date-sent',
    'set pipe_decode=yes',
    'set timeout=1',
    '',
  ].join('\n'));
  // Messages sort by arrival (same Date:): 1 alpha, 2 beta, 3 gamma.
  const keys = [
    '<first-entry>', `<pipe-message>cat > ${out}<enter>`,
    '<next-entry>', '<flag-message>',
    '<next-entry>', '<copy-message>=Archive<enter>',
    '<first-entry>', '<delete-message>',
    '<sync-mailbox>', '<quit>',
  ].join('');
  const mutt = findOracle('mutt')!;
  const cmd = `${mutt} -n -F ${rc} -f imap://u1@127.0.0.1:${s.port}/INBOX -e 'push "${keys}"'`;
  const r = await runClient(findOracle('script')!, ['-qec', cmd, '/dev/null'], {
    env: { ...process.env, HOME: dir, TERM: 'vt100', COLUMNS: '120', LINES: '40' },
    timeoutMs: 60_000,
  });
  assert.equal(r.status, 0, `mutt failed: ${r.stdout.slice(-2000)}\n${r.stderr}`);

  assert.ok(existsSync(out), 'mutt did not pipe the message');
  const piped = readFileSync(out, 'latin1');
  assert.match(piped, /^Subject: alpha$/m);
  assert.match(piped, /alpha body line/);

  const inbox = await store.openMailbox('INBOX', { readOnly: true });
  const state: Record<string, readonly string[]> = {};
  for (const m of inbox.messages()) {
    const subj = /^Subject: (.*)$/m.exec((await inbox.read(m.uid)).toString('latin1'))![1]!.trim();
    state[subj] = m.flags;
  }
  // alpha was read (\Seen by the pipe), then deleted and expunged; beta flagged; gamma untouched.
  assert.deepEqual(Object.keys(state).sort(), ['beta', 'gamma']);
  assert.ok(state['beta']!.includes('\\Flagged'), JSON.stringify(state));
  const archive = await store.openMailbox('Archive', { readOnly: true });
  assert.equal(archive.messages().length, 1);
  assert.match((await archive.read(archive.messages()[0]!.uid)).toString('latin1'), /^Subject: gamma$/m);
});
