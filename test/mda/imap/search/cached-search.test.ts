/*
 * SEARCH answered from what the caches hold (mda/imap/search/evaluate.ts testNow): for a table of
 * search programs mixing flags, headers, dates, sizes and body text, searchMessages() (the
 * synchronous pass where the header cache and the known INTERNALDATEs answer, reads for the rest)
 * finds exactly the messages the per-message asynchronous test finds (messageMatches); on a
 * mailbox whose headers are cached a header SEARCH reads no file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageMatches, searchMessages, type SearchEnv } from '../../../../mda/imap/search/evaluate.js';
import { parseSearchProgram } from '../../../../mda/imap/proto/search-keys.js';
import { atom, list, quoted, type ImapArg } from '../../../../mda/imap/proto/values.js';
import { tempStore } from '../../storage/helpers.js';

const msg = (i: number): Buffer => Buffer.from(
  `From: ${i % 2 === 0 ? 'Alice <alice@example.org>' : 'bob@example.net'}\r\n` +
  `Subject: ${i % 3 === 0 ? 'Planning the week' : `note ${i}`}\r\n` +
  `Date: ${i + 1} Jan 2024 10:00:00 +0000\r\n\r\n` + `body ${i % 4 === 0 ? 'needle' : 'hay'} ${'x'.repeat(i * 40)}\r\n`);

test('searchMessages equals the per-message test, cold and with the caches warm', async (t) => {
  const { store } = await tempStore(t);
  for (let i = 0; i < 14; i++) {
    await store.append('INBOX', msg(i), {
      flags: i % 3 === 1 ? ['\\Seen'] : i % 5 === 0 ? ['\\Flagged', '\\Seen'] : [],
      internalDate: new Date(Date.UTC(2024, 0, 1 + 2 * i, 12)),
    });
  }
  const view = await store.openMailbox('INBOX', { readOnly: true });
  t.after(() => view.close());
  const env: SearchEnv = { view, saved: [], now: Date.UTC(2024, 1, 1) };
  const cases: ImapArg[][] = [
    [atom('FROM'), quoted('alice')],
    [atom('SUBJECT'), quoted('planning'), atom('UNSEEN')],
    [atom('OR'), atom('FLAGGED'), atom('SUBJECT'), quoted('note 7')],
    [atom('NOT'), atom('FROM'), quoted('example.net')],
    [atom('SINCE'), atom('10-Jan-2024'), atom('NOT'), atom('DELETED')],
    [atom('BEFORE'), atom('5-Jan-2024')],
    [atom('SENTSINCE'), atom('8-Jan-2024'), atom('SENTBEFORE'), atom('12-Jan-2024')],
    [atom('LARGER'), atom('300')],
    [atom('BODY'), quoted('needle'), atom('FROM'), quoted('alice')],
    [atom('OR'), atom('BODY'), quoted('needle'), atom('HEADER'), quoted('Subject'), quoted('week')],
    [atom('YOUNGER'), atom(String(30 * 86400))],
    [list(atom('SEEN'), atom('SUBJECT'), quoted('note'))],
  ];
  const reference = async (args: ImapArg[]): Promise<number[]> => {
    const { key } = parseSearchProgram(args);
    const out: number[] = [];
    for (const m of view.messages()) if (await messageMatches(env, key, m)) out.push(m.uid);
    return out;
  };
  // Cold: nothing of this new mailbox is cached yet, so the first searches read.
  const coldFirst = (await searchMessages(env, parseSearchProgram(cases[0]!).key)).map((m) => m.uid);
  assert.deepEqual(coldFirst, await reference(cases[0]!), 'cold FROM');
  for (const args of cases) {
    const want = await reference(args);
    const got = (await searchMessages(env, parseSearchProgram(args).key)).map((m) => m.uid);
    assert.deepEqual(got, want, JSON.stringify(args));
  }
  assert.ok((await reference(cases[0]!)).length > 0, 'the table must find something');
  // Warm: the headers are cached now, so a header search reads no file.
  const read = t.mock.method(view, 'read');
  const warm = await searchMessages(env, parseSearchProgram([atom('SUBJECT'), quoted('planning')]).key);
  assert.equal(read.mock.callCount(), 0, 'a header SEARCH on cached headers read files');
  assert.deepEqual(warm.map((m) => m.uid), await reference([atom('SUBJECT'), quoted('planning')]));
  // And a date search on known INTERNALDATEs asks the view for none.
  const dates = t.mock.method(view, 'internalDate');
  const since = await searchMessages(env, parseSearchProgram([atom('SINCE'), atom('10-Jan-2024')]).key);
  assert.equal(dates.mock.callCount(), 0, 'a SINCE search on known dates waited for the view');
  assert.equal(read.mock.callCount(), 0);
  assert.deepEqual(since.map((m) => m.uid), (await reference([atom('SINCE'), atom('10-Jan-2024')])));
});
