/*
 * INTEROP: THREAD / UID THREAD with ORDEREDSUBJECT, REFERENCES and REFS (RFC 5256, Dovecot's REFS)
 * against the real Dovecot 2.3 imap binary: the corpus's thread messages alone (T1-T9: reply
 * chains, missing parents, loops, duplicate Message-IDs, encoded Re:), the whole corpus, and
 * threads over a search result. Dovecot's answers are produced at test time, never stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oracleSkip } from '../../../helpers/oracle.js';
import { compareScript, dovecotReplies, dovecotWithCorpus, loadCorpus, posternOver } from './interop-helpers.js';

const ALGOS = ['ORDEREDSUBJECT', 'REFERENCES', 'REFS'];
const SCRIPT = [
  ...ALGOS.map((a) => `THREAD ${a} UTF-8 ALL`),
  ...ALGOS.map((a) => `UID THREAD ${a} US-ASCII ALL`),
  ...ALGOS.map((a) => `THREAD ${a} UTF-8 NOT SUBJECT planning`),
  ...ALGOS.map((a) => `UID THREAD ${a} UTF-8 SUBJECT nosuchsubjectanywhere`),
  'THREAD NOSUCH UTF-8 ALL',
  'THREAD REFERENCES UTF-8',
  'THREAD (REFERENCES) UTF-8 ALL',
  'THREAD REFERENCES X-NOSUCH-CHARSET ALL',
];

for (const [name, filter] of [
  ['thread messages', (m: { thread: string | null }) => m.thread !== null],
  ['whole corpus', () => true],
] as const) {
  test(`THREAD (${name}): real Dovecot imap vs Postern`, { skip: oracleSkip('doveadm') }, async (t) => {
    const dc = dovecotWithCorpus(t, loadCorpus(filter));
    const theirs = dovecotReplies(dc, ['EXAMINE INBOX'], SCRIPT);
    const { client } = await posternOver(t, dc);
    const diffs = await compareScript(client, ['EXAMINE INBOX'], SCRIPT, theirs);
    if (diffs.length > 0) console.log(diffs.join('\n'));
    assert.equal(diffs.length, 0);
  });
}
