/*
 * Interop: the real doveadm 2.3.19 and ours (bin/doveadm) against the same private Dovecot
 * configuration and the same maildirs must print the same stdout (byte for byte), the same stderr
 * and exit with the same status. The real one needs its auth service for -u, so a private real
 * Dovecot daemon is started (test/helpers/dovecot-daemon.ts; root only, never the system one).
 * Documented differences, normalised here only:
 * - MODSEQ values (`highestmodseq`, `modseq`): Dovecot counts in dovecot.index, Postern in its own
 *   sidecar; both are valid CONDSTORE sequences but not the same numbers;
 * - \Recent: session state kept in each one's index; fetched flags are compared without it;
 * - mailbox list order: Dovecot lists in readdir() order with INBOX last, Postern INBOX first then
 *   sorted; multi-mailbox outputs are compared as sorted lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open as openLmdb } from 'lmdb';
import { startDovecot } from '../../helpers/dovecot-daemon.js';
import { oracleSkip } from '../../helpers/oracle.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const OURS = join(ROOT, 'bin', 'doveadm');
const REAL = '/usr/bin/doveadm';
const asRoot = process.getuid?.() === 0;
const skip = oracleSkip('doveadm', 'dovecot') || (asRoot ? false : 'needs root to start a private Dovecot');

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: 'latin1', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TZ: 'UTC' }, timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function chownTree(p: string, uid: number): void {
  chownSync(p, uid, uid);
  if (statSync(p).isDirectory()) for (const e of readdirSync(p)) chownTree(join(p, e), uid);
}

type Norm = (s: string) => string;
const same: Norm = (s) => s;
const noModseq: Norm = (s) => s.replace(/(highestmodseq|modseq)([=:\t ]+"?)\d+/g, '$1$2N');
const noRecent: Norm = (s) => s.replace(/\\Recent/g, '').replace(/ +/g, ' ').replace(/ +$/gm, '').replace(/ \t|\t /g, '\t');
const sorted: Norm = (s) => s.split('\n').sort().join('\n');
const sortedJson: Norm = (s) => JSON.stringify((JSON.parse(s) as unknown[]).map((x) => JSON.stringify(x)).sort());

const MSG1 = 'From: Alice <a@x.example>\nTo: b@y.example\nSubject: hello world\nDate: Mon, 1 Jan 2024 10:00:00 +0100\nMessage-ID: <1@x>\n\nbody one\n';
const MSG2 = 'From: Bob <b@y.example>\nTo: a@x.example, "C. D." <c@z.example>\nSubject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?=\nDate: Tue, 2 Jan 2024 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain; charset=utf-8\n\nbody two\nline\n--b1\nContent-Type: application/octet-stream; name="a.bin"\nContent-Transfer-Encoding: base64\n\nAAEC\n--b1--\n';
const MSG3 = 'From: c@z.example\nSubject: third\n\nno date here\n';

test('doveadm interop: same stdout, stderr and exit codes as the real doveadm 2.3.19', { skip, timeout: 300_000 }, async (t) => {
  const uid = 65534;
  const d = await startDovecot(
    t,
    [
      'protocols = imap',
      'first_valid_uid = 100',
      `mail_uid = ${uid}`,
      `mail_gid = ${uid}`,
      'mail_location = maildir:@DIR@/home/%u/Maildir',
      'mail_plugins = quota',
      'plugin {',
      '  quota = maildir:User quota',
      '}',
      'passdb {',
      '  driver = passwd-file',
      '  args = @DIR@/passwd',
      '}',
      'userdb {',
      '  driver = passwd-file',
      '  args = @DIR@/passwd',
      '}',
    ].join('\n'),
    ['@DIR@/run/auth-userdb'],
  );
  writeFileSync(join(d.dir, 'passwd'), [
    `u1:{PLAIN}secret:${uid}:${uid}::${d.dir}/home/u1::userdb_quota_rule=*:storage=1M`,
    `u2:{PLAIN}secret:${uid}:${uid}::${d.dir}/home/u2::`,
    '',
  ].join('\n'));
  for (const u of ['u1', 'u2']) for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(d.dir, 'home', u, 'Maildir', sub), { recursive: true });
  const cur = join(d.dir, 'home', 'u1', 'Maildir', 'cur');
  writeFileSync(join(cur, '1700000000.M1P1.host:2,S'), MSG1);
  writeFileSync(join(cur, '1700000001.M2P1.host:2,F'), MSG2);
  writeFileSync(join(cur, '1700000002.M3P1.host:2,'), MSG3);
  chownTree(join(d.dir, 'home'), uid);
  const conf = d.conf;
  const real = (args: string[]): Run => exec(REAL, ['-c', conf, ...args]);
  const ours = (args: string[]): Run => exec(OURS, ['-c', conf, ...args]);
  // The real one first creates the uidlist (UIDs, UIDVALIDITY, mailbox GUIDs) both then share.
  assert.equal(real(['mailbox', 'create', '-u', 'u1', 'Work', 'Work.Sub']).status, 0);
  assert.equal(real(['search', '-u', 'u1', 'mailbox', '*', 'all']).status, 0);

  let compared = 0;
  const check = (args: string[], norm: Norm = same): void => {
    const r = real(args);
    const o = ours(args);
    assert.equal(norm(o.stdout), norm(r.stdout), `stdout of doveadm ${args.join(' ')} (ours: ${o.status} ${o.stderr})`);
    assert.equal(o.stderr, r.stderr, `stderr of doveadm ${args.join(' ')}`);
    assert.equal(o.status, r.status, `exit code of doveadm ${args.join(' ')}`);
    compared++;
  };
  const formats = ['flow', 'tab', 'table', 'json', 'pager'];

  await t.test('mailbox list and status, every format', () => {
    for (const f of formats) {
      check(['-f', f, 'mailbox', 'list', '-u', 'u1'], f === 'json' ? sortedJson : sorted);
      check(['-f', f, 'mailbox', 'list', '-u', 'u1', 'Work*'], sorted);
      check(['-f', f, 'mailbox', 'status', '-u', 'u1', 'messages recent unseen vsize uidnext uidvalidity guid', 'INBOX']);
      check(['-f', f, 'mailbox', 'status', '-u', 'u1', 'all', 'Work'], noModseq);
    }
    check(['mailbox', 'status', '-u', 'u1', 'guid messages', 'INBOX', 'Work'], sorted);
  });

  await t.test('fetch: several fields, several formats', () => {
    const fields = 'uid guid mailbox mailbox-guid seq size.physical size.virtual date.sent date.received date.saved pop3.uidl hdr.subject';
    for (const f of formats) check(['-f', f, 'fetch', '-u', 'u1', fields, 'mailbox', 'INBOX', 'all']);
    for (const f of ['pager', 'json', 'tab', 'flow']) check(['-f', f, 'fetch', '-u', 'u1', 'uid hdr body text', 'mailbox', 'INBOX', 'all']);
    check(['fetch', '-u', 'u1', 'imap.envelope imap.bodystructure imap.body', 'mailbox', 'INBOX', 'all']);
    check(['fetch', '-u', 'u1', 'flags modseq uid', 'mailbox', 'INBOX', 'all'], (s) => noRecent(noModseq(s)));
    check(['-f', 'table', 'fetch', '-u', 'u1', 'uid hdr', 'mailbox', 'INBOX', 'all']);
    check(['fetch', '-u', 'u1', 'uid bogus', 'all']);
  });

  await t.test('search: IMAP keys, doveadm forms, OR rules', () => {
    const queries = [
      ['mailbox', 'INBOX', 'all'], ['mailbox', 'INBOX', 'seen'], ['mailbox', 'INBOX', 'unseen'], ['mailbox', 'INBOX', 'subject', 'hello'],
      ['mailbox', 'INBOX', 'from', 'bob'], ['mailbox', 'INBOX', 'seen', 'or', 'flagged'], ['mailbox', 'INBOX', '(', 'seen', 'or', 'flagged', ')'],
      ['mailbox', 'INBOX', 'or', 'seen', 'flagged'], ['mailbox', 'INBOX', 'not', 'seen'], ['mailbox', 'INBOX', 'uid', '2:*'],
      ['mailbox', 'INBOX', 'since', '2020-01-01'], ['mailbox', 'INBOX', 'savedbefore', '30d'], ['mailbox', 'INBOX', 'larger', '300'],
      ['mailbox', 'INBOX', 'sentsince', '2-Jan-2024'], ['mailbox', 'INBOX', 'body', 'line'], ['mailbox', 'INBOX', 'text', 'third'],
      ['mailbox', 'Work', 'all'], ['mailbox', 'Nosuch', 'all'], ['mailbox', 'INBOX', 'bogus'],
    ];
    for (const q of queries) check(['search', '-u', 'u1', ...q]);
    check(['-f', 'tab', 'search', '-u', 'u1', 'mailbox', 'INBOX', 'all']);
    check(['-f', 'json', 'search', '-u', 'u1', 'mailbox', 'INBOX', 'all']);
  });

  await t.test('quota get, auth lookup, user', () => {
    for (const f of formats) check(['-f', f, 'quota', 'get', '-u', 'u1']);
    check(['quota', 'get', '-A']);
    check(['-f', 'flow', 'quota', 'get', '-A']);
    for (const f of formats) check(['-f', f, 'auth', 'lookup', 'u1']);
    check(['auth', 'lookup', 'u1', 'u2', 'nosuch']);
    for (const f of formats) check(['-f', f, 'user', 'u1']);
    check(['user', 'u1', 'u2']);
    check(['user', '-f', 'home', 'u1']);
    check(['user', 'u*']);
    check(['user', 'nosuch']);
  });

  await t.test('flags and expunge change the same maildir the same way', () => {
    // Ours changes, the real one reads (and the reverse): fetch results must agree afterwards.
    const fetchFlags = ['fetch', '-u', 'u1', 'uid flags', 'mailbox', 'INBOX', 'all'];
    const o1 = ours(['flags', 'add', '-u', 'u1', '\\Answered $Work', 'mailbox', 'INBOX', 'uid', '1']);
    assert.equal(o1.status, 0, o1.stderr);
    check(fetchFlags, noRecent);
    const r1 = real(['flags', 'replace', '-u', 'u1', '\\Deleted', 'mailbox', 'INBOX', 'uid', '3']);
    assert.equal(r1.status, 0, r1.stderr);
    check(fetchFlags, noRecent);
    assert.equal(ours(['flags', 'remove', '-u', 'u1', '\\Answered', 'mailbox', 'INBOX', '1']).status, 0);
    check(fetchFlags, noRecent);
    check(['flags', 'add', '-u', 'u1', '\\Bogus', 'mailbox', 'INBOX', 'all']);
    check(['flags', 'add', '-u', 'u1', '\\Seen']);
    const e = ours(['expunge', '-u', 'u1', 'mailbox', 'INBOX', 'deleted']);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(e.stdout, '');
    check(['search', '-u', 'u1', 'mailbox', 'INBOX', 'all']);
    check(['mailbox', 'status', '-u', 'u1', 'messages uidnext vsize', 'INBOX']);
    check(['expunge', '-u', 'u1', 'mailbox', 'INBOX']);
  });

  await t.test('exit codes: unknown user, unknown mailbox, bad usage', () => {
    check(['mailbox', 'list', '-u', 'nosuch']);
    check(['quota', 'get', '-u', 'nosuch']);
    check(['mailbox', 'status', '-u', 'u1', 'messages', 'Nosuch']);
    check(['mailbox', 'delete', '-u', 'u1', 'Nosuch']);
    check(['mailbox', 'rename', '-u', 'u1', 'Nosuch', 'X']);
    check(['mailbox', 'create', '-u', 'u1', 'Work']);
    check(['mailbox', 'create', '-u', 'u1', 'A/B']);
    check(['fetch', '-u', 'u1', 'uid', 'mailbox', 'Nosuch', 'all']);
    check(['fetch', '-u', 'u1', 'uid']);
    check(['mailbox', 'status', '-u', 'u1']);
    check(['-f', 'bogus', 'mailbox', 'list', '-u', 'u1']);
    check(['mailbox', 'status', '-u', 'u1', 'nosuchfield', 'INBOX']);
    assert.equal(ours(['nosuchcommand']).status, 64);
    assert.equal(ours(['mailbox', 'nosuch']).status, 64);
  });

  await t.test('mailbox create/rename/subscribe/delete as seen by the real one', () => {
    assert.equal(ours(['mailbox', 'create', '-u', 'u2', 'Projects', 'Projects.A']).status, 0);
    assert.equal(ours(['mailbox', 'subscribe', '-u', 'u2', 'Projects']).status, 0);
    assert.equal(ours(['mailbox', 'rename', '-u', 'u2', 'Projects.A', 'Projects.B']).status, 0);
    check(['mailbox', 'list', '-u', 'u2'], sorted);
    assert.equal(ours(['mailbox', 'unsubscribe', '-u', 'u2', 'Projects']).status, 0);
    assert.equal(ours(['mailbox', 'delete', '-u', 'u2', 'Projects.B']).status, 0);
    check(['mailbox', 'list', '-u', 'u2'], sorted);
  });
  await t.test('index: silent, the same exit codes; ours fills the sidecar with every message\'s content record', () => {
    check(['index', '-u', 'u1', 'INBOX']);
    check(['index', '-u', 'u1', '*']);
    check(['index', '-u', 'u1', '-n', '1', 'INBOX']);
    check(['index', '-u', 'u1', '-q', 'INBOX']);
    check(['index', '-u', 'u1', 'Nosuch']);
    check(['index', '-u', 'nosuch', 'INBOX']);
    check(['index', '-u', 'u1']);
    const inbox = ours(['search', '-u', 'u1', 'mailbox', 'INBOX', 'all']).stdout.trim().split('\n');
    const db = openLmdb<unknown, (string | number)[]>({ path: join(d.dir, 'home', 'u1', 'Maildir', 'postern-index.lmdb'), noSubdir: true, readOnly: true } as never);
    try {
      const boxGuid = inbox[0]!.split(' ')[0]!;
      const records = [...db.getRange({ start: ['c', boxGuid], end: ['c', boxGuid, Number.MAX_SAFE_INTEGER] })].map((e) => e.value as { envelope?: string; bodystructure?: string; header?: string[] });
      assert.equal(records.length, inbox.length, 'one record per INBOX message');
      for (const r of records) assert.ok(r.envelope !== undefined && r.bodystructure !== undefined && r.header !== undefined, JSON.stringify(r));
    } finally {
      void db.close();
    }
  });
  // Guards against a vacuous pass: the subtests above make 106 comparisons when they all run.
  assert.ok(compared >= 106, `compared ${compared} runs`);
});
