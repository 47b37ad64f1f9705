/*
 * INTEROP: SAVEDATE (RFC 8514) and SENT* on messages without a usable Date: against the real
 * Dovecot 2.3 imap binary on the same maildir. Save dates are wall-clock times (the file's ctime
 * for files neither server saved, the time of the APPEND for ours), so their values are masked and
 * checked to be today; everything else must be equal. Observed on Dovecot: a missing or
 * unparsable Date: is 1-Jan-1970 for SENTBEFORE/SENTON/SENTSINCE (not the INTERNALDATE).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oracleSkip } from '../../../helpers/oracle.js';
import { formatImapDate } from './savedate-dates.js';
import { dovecotReplies, dovecotWithCorpus, posternOver, splitByTag, type Reply } from './interop-helpers.js';

const messages = [
  { base: 'sd1', bytes: Buffer.from('From: a@example.org\r\nSubject: no date\r\n\r\nbody\r\n'), thread: null },
  { base: 'sd2', bytes: Buffer.from('From: a@example.org\r\nSubject: garbage\r\nDate: garbage here\r\n\r\nbody\r\n'), thread: null },
  { base: 'sd3', bytes: Buffer.from('From: a@example.org\r\nSubject: dated\r\nDate: Thu, 3 Feb 2011 01:00:00 +0500\r\n\r\nbody\r\n'), thread: null },
];

test('SAVEDATE and SENT* without Date: real Dovecot imap vs Postern', { skip: oracleSkip('doveadm') }, async (t) => {
  const today = formatImapDate(new Date());
  const script = [
    'FETCH 1:* (SAVEDATE)',
    'FETCH 1:* (FLAGS SAVEDATE ENVELOPE INTERNALDATE)',
    'UID FETCH 2 (SAVEDATE RFC822.SIZE)',
    'SEARCH SAVEDATESUPPORTED',
    'SEARCH NOT SAVEDATESUPPORTED',
    `SEARCH SAVEDSINCE ${today}`,
    `SEARCH SAVEDON ${today}`,
    `SEARCH SAVEDBEFORE ${today}`,
    'SEARCH SAVEDBEFORE 1-Jan-2000',
    'SEARCH OR SAVEDON 1-Jan-2000 SUBJECT garbage',
    'SEARCH SENTON 1-Jan-1970',
    'SEARCH SENTBEFORE 2-Jan-1970',
    'SEARCH SENTSINCE 2-Jan-1970',
    'SEARCH SENTBEFORE 1-Jan-2006',
    'SEARCH SENTSINCE 1-Jan-2029',
    'SEARCH SENTON 3-Feb-2011',
    'SEARCH SENTON 2-Feb-2011',
    'SEARCH ON 1-Jan-2024',
  ];
  const dc = dovecotWithCorpus(t, messages);
  dc.imap('x EXAMINE INBOX\r\nz LOGOUT\r\n');
  const { client } = await posternOver(t, dc);
  const theirs = dovecotReplies(dc, ['SELECT INBOX'], script);
  await client.cmd('p0', 'SELECT INBOX');
  const maskLine = (l: string): string => l.replace(/\\Recent ?/g, '').replace(/ \)/g, ')').replace(/SAVEDATE "([^"]+)"/g, (_m, d: string) => {
    assert.match(d, new RegExp(`^${today.padStart(11, '0')} `), `save date ${d} is not today`);
    return 'SAVEDATE "D"';
  });
  // \Recent is masked: each Dovecot command runs in a new session (storage bookkeeping, compared elsewhere).
  const mask = (r: Reply): string => JSON.stringify({ untagged: r.untagged.map(maskLine), tagged: r.tagged });
  const diffs: string[] = [];
  for (const [i, cmd] of script.entries()) {
    const ours = splitByTag(await client.cmd(`t${i}`, cmd)).get(`t${i}`)!;
    const want = theirs.get(`t${i}`)!;
    want.untagged = want.untagged.filter((l) => !l.startsWith('* PREAUTH'));
    if (mask(want) !== mask(ours)) diffs.push(`${cmd}\n  dovecot: ${mask(want)}\n  postern: ${mask(ours)}`);
  }
  if (diffs.length > 0) console.log(diffs.join('\n'));
  assert.equal(diffs.length, 0);

  // APPEND: the save date is the time of the APPEND, whatever INTERNALDATE says.
  const body = 'Subject: appended\r\n\r\nx\r\n';
  await client.cmd('a1', `APPEND INBOX "01-Jan-2001 00:00:00 +0000" {${body.length}+}\r\n${body}`);
  const f = (await client.cmd('a2', 'FETCH 4 (SAVEDATE INTERNALDATE)')).join('\n');
  assert.match(f, new RegExp(`SAVEDATE "${today.padStart(11, '0')} [0-9:]+ [-+][0-9]{4}" INTERNALDATE "01-Jan-2001 00:00:00 \\+0000"`));
});
