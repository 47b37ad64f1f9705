/*
 * INTEROP: CONTEXT=SEARCH (RFC 5267 §4: SEARCH/SORT RETURN (UPDATE), ESEARCH ADDTO/REMOVEFROM,
 * CANCELUPDATE) against the real Dovecot 2.3 imap binary on the same maildir. Two sessions on each
 * server, driven one command at a time: A keeps live searches, B changes the mailbox (flags,
 * APPEND, EXPUNGE) so A's NOOP must report the result changes; A's own STORE/MOVE/APPEND are
 * reported too. Compared per command: the ESEARCH lines in order, the other untagged lines as a
 * set (Dovecot and we order FETCH/EXISTS differently within one announcement), and the tagged
 * status. \Recent and UIDVALIDITY are masked (storage bookkeeping, compared elsewhere).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oracleSkip } from '../../../helpers/oracle.js';
import { dovecotInteractive } from './dovecot-interactive.js';
import { TestClient } from './harness.js';
import { dovecotWithCorpus, posternOver, responseLines, splitByTag, type Reply } from './interop-helpers.js';

const messages = [1, 2, 3, 4, 5, 6].map((i) => ({
  base: `cs${i}`,
  bytes: Buffer.from(`From: a${i}@example.org\r\nSubject: s${7 - i}\r\nDate: Mon, ${i} Jan 2001 00:00:00 +0000\r\n\r\nbody ${i}\r\n`),
  thread: null,
}));

const NEW = 'From: n@example.org\r\nSubject: new\r\n\r\nhi\r\n';

/** [session, command]; `A` keeps the live searches. */
const STEPS: ['A' | 'B', string][] = [
  ['A', 'SELECT INBOX'],
  ['B', 'SELECT INBOX'],
  ['A', 'STORE 2,4 +FLAGS (\\Seen)'],
  ['A', 'SEARCH RETURN (UPDATE) UNSEEN'],
  ['A', 'UID SEARCH RETURN (COUNT UPDATE) UNSEEN'],
  ['A', 'SEARCH RETURN (MIN MAX UPDATE) 5:*'],
  ['A', 'UID SEARCH RETURN (ALL UPDATE) ALL'],
  ['A', 'UID SORT RETURN (ALL UPDATE) (SUBJECT) UTF-8 UNSEEN'],
  ['A', 'SORT RETURN (CONTEXT ALL) (SUBJECT) UTF-8 ALL'],
  ['A', 'STORE 1 +FLAGS (\\Seen)'],
  ['A', 'STORE 2 -FLAGS (\\Seen)'],
  ['A', 'NOOP'],
  // B learns A's changes first: Dovecot's STORE would announce them, ours defers them to a full sync.
  ['B', 'NOOP'],
  ['B', 'STORE 3 +FLAGS (\\Seen \\Deleted)'],
  ['B', `APPEND INBOX {${NEW.length}+}\r\n${NEW}`],
  ['A', 'NOOP'],
  ['B', 'EXPUNGE'],
  ['A', 'NOOP'],
  ['A', 'CANCELUPDATE "t3"'],
  ['A', 'CANCELUPDATE "t4" "nosuch" "t5"'],
  ['A', 'CANCELUPDATE'],
  ['A', 'CANCELUPDATE t6'],
  ['A', 'STORE 1 FLAGS (\\Answered)'],
  ['A', `APPEND INBOX {${NEW.length}+}\r\n${NEW}`],
  ['A', 'MOVE 2 INBOX'],
  ['A', 'SEARCH RETURN (UPDATE SAVE) ALL'],
  ['A', 'UID SEARCH RETURN (UPDATE) $'],
  ['A', 'STORE 1:* +FLAGS (\\Flagged)'],
  ['A', 'UNSELECT'],
  ['A', 'SELECT INBOX'],
  ['A', 'CANCELUPDATE "t6"'],
  ['A', 'SEARCH RETURN (UPDATE) ALL'],
  ['A', 'STORE 2 +FLAGS.SILENT (\\Deleted)'],
  ['A', 'EXPUNGE'],
];

function normal(r: Reply): string {
  const mask = (l: string) => l.replace(/\\Recent ?/g, '').replace(/ \)/g, ')').replace(/(UIDVALIDITY|APPENDUID|COPYUID) [0-9]+/g, '$1 v');
  const lines = r.untagged.filter((l) => !l.startsWith('* PREAUTH') && !l.startsWith('* CAPABILITY') && !/^\* [0-9]+ RECENT$/.test(l)).map(mask);
  const es = lines.filter((l) => l.startsWith('* ESEARCH'));
  const other = lines.filter((l) => !l.startsWith('* ESEARCH')).sort();
  return JSON.stringify({ es, other, tagged: mask(r.tagged) });
}

test('CONTEXT=SEARCH: real Dovecot imap vs Postern, two sessions', { skip: oracleSkip('doveadm') }, async (t) => {
  const dc = dovecotWithCorpus(t, messages);
  dc.imap('x EXAMINE INBOX\r\nz LOGOUT\r\n');
  const { server } = await posternOver(t, dc);

  const da = dovecotInteractive(dc);
  const db = dovecotInteractive(dc);
  const theirs: Reply[] = [];
  try {
    for (const [i, [who, cmd]] of STEPS.entries()) {
      const raw = await (who === 'A' ? da : db).cmd(`t${i}`, cmd);
      theirs.push(splitByTag(responseLines(raw)).get(`t${i}`)!);
    }
  } finally {
    await da.close();
    await db.close();
  }

  const a = await TestClient.connect(server.port);
  const b = await TestClient.connect(server.port);
  t.after(() => {
    a.close();
    b.close();
  });
  await a.login();
  await b.login();
  const ours: Reply[] = [];
  for (const [i, [who, cmd]] of STEPS.entries()) {
    ours.push(splitByTag(await (who === 'A' ? a : b).cmd(`t${i}`, cmd)).get(`t${i}`)!);
  }
  const diffs: string[] = [];
  STEPS.forEach(([who, cmd], i) => {
    const want = normal(theirs[i]!);
    const got = normal(ours[i]!);
    if (want !== got) diffs.push(`${who} ${cmd.split('\r\n')[0]}\n  dovecot: ${want}\n  postern: ${got}`);
  });
  if (diffs.length > 0) console.log(diffs.join('\n'));
  assert.equal(diffs.length, 0);
  const updates = ours.flatMap((r) => r.untagged).filter((l) => / (ADDTO|REMOVEFROM) /.test(l));
  if (process.env['POSTERN_SHOW'] === '1') console.log(updates.join('\n'));
  // The script is only a check if updates really flowed: both kinds, SEARCH and SORT, seqs and UIDs.
  assert.ok(updates.length >= 10, updates.join('\n'));
  assert.ok(updates.some((l) => l.includes(' UID ') && l.includes('REMOVEFROM')) && updates.some((l) => !l.includes(' UID ') && l.includes('ADDTO')));
  // An expunged result is removed by its old sequence number before the EXPUNGE announces it.
  const last = ours.at(-1)!.untagged;
  assert.deepEqual(last.slice(0, 2), [`* ESEARCH (TAG "t${STEPS.length - 3}") REMOVEFROM (0 2)`, '* 2 EXPUNGE']);
});
