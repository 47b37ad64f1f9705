/*
 * INTEROP: QRESYNC (RFC 7162) against the real Dovecot 2.3 imap binary on the same maildir: each
 * step is a separate session on both servers (ENABLE QRESYNC, SELECT; flag changes; EXPUNGE with
 * VANISHED; SELECT (QRESYNC (uidvalidity modseq [known-uids])) giving VANISHED (EARLIER) and the
 * changed flags; UID FETCH (CHANGEDSINCE n VANISHED)). MODSEQ numbers are compared by shape only:
 * Dovecot's first modseq is 2, ours 1; each server's own HIGHESTMODSEQ from the first step is used.
 * Steps that change flags ENABLE CONDSTORE: Dovecot reports HIGHESTMODSEQ on every SELECT of a
 * mailbox whose index once had modseqs, we only when CONDSTORE is on (docs/imap-capabilities.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oracleSkip } from '../../../helpers/oracle.js';
import { TestClient } from './harness.js';
import { dovecotWithCorpus, posternOver, responseLines, splitByTag, type Reply } from './interop-helpers.js';

const messages = [1, 2, 3, 4, 5, 6].map((i) => ({ base: `qr${i}`, bytes: Buffer.from(`From: a@example.org\r\nSubject: s${i}\r\nMessage-ID: <q${i}@example.org>\r\n\r\nbody ${i}\r\n`), thread: null }));

/** Steps: lines of one session; `{uv}` and `{h0}` are filled in per server. */
const STEPS: string[][] = [
  ['ENABLE QRESYNC', 'SELECT INBOX'],
  ['ENABLE CONDSTORE', 'SELECT INBOX', 'STORE 2 +FLAGS.SILENT (\\Seen)'],
  ['ENABLE CONDSTORE', 'SELECT INBOX', 'STORE 4,6 +FLAGS.SILENT (\\Deleted)'],
  ['ENABLE QRESYNC', 'SELECT INBOX', 'EXPUNGE'],
  ['ENABLE QRESYNC', 'SELECT INBOX (QRESYNC ({uv} {h0}))'],
  ['ENABLE QRESYNC', 'EXAMINE INBOX (QRESYNC ({uv} {h0} 1:5))'],
  ['ENABLE QRESYNC', 'SELECT INBOX', 'UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h0} VANISHED)'],
  ['ENABLE QRESYNC', 'SELECT INBOX', 'UID FETCH 5:* (FLAGS) (CHANGEDSINCE {h0} VANISHED)'],
  ['SELECT INBOX (QRESYNC ({uv} {h0}))'],
  ['ENABLE QRESYNC', 'SELECT INBOX (QRESYNC ({uv}1 {h0}))'],
];

const normal = (r: Reply): Reply => ({
  untagged: r.untagged.filter((l) => !l.startsWith('* PREAUTH')).map((l) => l.replace(/MODSEQ \([0-9]+\)/g, 'MODSEQ (n)').replace(/HIGHESTMODSEQ [0-9]+/g, 'HIGHESTMODSEQ n').replace(/\\Recent ?/g, '').replace(/ \)/g, ')').replace(/UIDVALIDITY [0-9]+/, 'UIDVALIDITY v')),
  tagged: r.tagged.replace(/HIGHESTMODSEQ [0-9]+/g, 'HIGHESTMODSEQ n'),
});

function fill(line: string, vars: { uv: string; h0: string }): string {
  return line.replace('{uv}', vars.uv).replace('{h0}', vars.h0);
}

function vars(first: Reply[]): { uv: string; h0: string } {
  const all = first.flatMap((r) => r.untagged);
  const uv = /UIDVALIDITY ([0-9]+)/.exec(all.join('\n'))?.[1] ?? '0';
  const h0 = /HIGHESTMODSEQ ([0-9]+)/.exec(all.join('\n'))?.[1] ?? '0';
  return { uv, h0 };
}

test('QRESYNC: real Dovecot imap vs Postern', { skip: oracleSkip('doveadm') }, async (t) => {
  const dc = dovecotWithCorpus(t, messages);
  dc.imap('x EXAMINE INBOX\r\nz LOGOUT\r\n');
  const { server } = await posternOver(t, dc);

  const theirs: Reply[][] = [];
  let dv = { uv: '', h0: '' };
  for (const step of STEPS) {
    const script = step.map((l, i) => `s${i} ${fill(l, dv)}\r\n`).join('') + 'z LOGOUT\r\n';
    const byTag = splitByTag(responseLines(dc.imap(script).stdout.toString('latin1')));
    theirs.push(step.map((_l, i) => byTag.get(`s${i}`)!));
    if (theirs.length === 1) dv = vars(theirs[0]!);
  }
  const ours: Reply[][] = [];
  let pv = { uv: '', h0: '' };
  for (const step of STEPS) {
    const c = await TestClient.connect(server.port);
    await c.login();
    const replies: Reply[] = [];
    for (let i = 0; i < step.length; i++) replies.push(splitByTag(await c.cmd(`s${i}`, fill(step[i]!, pv))).get(`s${i}`)!);
    c.close();
    ours.push(replies);
    if (ours.length === 1) pv = vars(ours[0]!);
  }
  const diffs: string[] = [];
  STEPS.forEach((step, i) => {
    const want = theirs[i]!.map(normal);
    const got = ours[i]!.map(normal);
    if (JSON.stringify(want) !== JSON.stringify(got)) diffs.push(`${step.join(' / ')}\n  dovecot: ${JSON.stringify(want)}\n  postern: ${JSON.stringify(got)}`);
  });
  if (diffs.length > 0) console.log(diffs.join('\n'));
  assert.equal(diffs.length, 0);
});
