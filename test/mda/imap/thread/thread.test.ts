/*
 * Table tests for the pure THREAD pieces: message-id extraction (Dovecot's message-id.c rules),
 * REFERENCES/REFS trees (RFC 5256 §2.2 examples in Dovecot's variant), ORDEREDSUBJECT and the
 * response writer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatThread } from '../../../../mda/imap/thread/format.js';
import { messageIds } from '../../../../mda/imap/thread/message-id.js';
import { threadOrderedSubject } from '../../../../mda/imap/thread/ordered-subject.js';
import { threadReferences, threadRefs, type ThreadInput } from '../../../../mda/imap/thread/tree.js';

test('message ids as Dovecot extracts them', () => {
  const cases: [string, string[]][] = [
    ['<a@b>', ['a@b']],
    ['<a@b> <c@d>', ['a@b', 'c@d']],
    ['(comment) <a@b> no-brackets@x <c @ d>', ['a@b', 'c@d']],
    ['<noat> <x@y>', ['x@y']],
    ['<"quoted local"@example.com>', ['quoted local@example.com']],
    ['<a (c) @b>', ['a@b']],
    ['<unterminated@x', []],
    ['', []],
  ];
  for (const [input, want] of cases) assert.deepEqual(messageIds(input), want, input);
});

const msg = (uid: number, id: string | undefined, refs: string[], subject: string, date: number): ThreadInput =>
  ({ uid, messageId: id, references: refs, subject, date });

test('REFERENCES: chains, missing parents, loops, duplicate ids and subject merging', () => {
  const msgs = [
    msg(1, 'a@x', [], 'Plan', 100),
    msg(2, 'b@x', ['a@x'], 'Re: Plan', 200),
    msg(3, 'c@x', ['a@x'], 'Re: Plan', 150),
    msg(4, 'd@x', ['gone@x'], 'Other', 50),
    msg(5, 'e@x', ['gone@x'], 'Other', 60),
    msg(6, 'f@x', ['g@x'], 'Loop', 300),
    msg(7, 'g@x', ['f@x', 'g@x'], 'Loop', 310),
    msg(8, 'a@x', ['a@x'], 'Plan', 400),
    msg(9, undefined, [], 'Lunch', 500),
    msg(10, undefined, [], 'RE: lunch', 510),
  ];
  assert.equal(formatThread(threadReferences(msgs)), 'THREAD ((4)(5))(1 (3)(2)(8))(7 6)(9 10)');
  assert.equal(formatThread(threadRefs(msgs)), 'THREAD ((4)(5))(7 6)(1 (3)(2)(8))(9)(10)');
  assert.equal(formatThread([], (n) => n), 'THREAD ');
});

test('ORDEREDSUBJECT: runs of one base subject, ordered by the first date', () => {
  const roots = threadOrderedSubject([
    { id: 1, seq: 1, base: 'B', date: 10 },
    { id: 2, seq: 2, base: 'A', date: 30 },
    { id: 3, seq: 3, base: 'B', date: 5 },
    { id: 4, seq: 4, base: 'A', date: 20 },
    { id: 5, seq: 5, base: 'B', date: 40 },
  ]);
  assert.equal(formatThread(roots), 'THREAD (3 (1)(5))(4 2)');
});
