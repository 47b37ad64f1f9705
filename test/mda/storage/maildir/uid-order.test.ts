/*
 * Pairing message lists by UID (mda/storage/maildir/uid-order.ts): the forward walk when both
 * lists are in UID order, a map when either is not, and the same answers either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byUidIn, indexByUid, isAscending, mergeByUid, sameStrings, uidFinder, uidIndexFinder } from '../../../../mda/storage/maildir/uid-order.js';

const msgs = (...uids: number[]) => uids.map((uid) => ({ uid, name: `m${uid}` }));

test('isAscending: strictly increasing UIDs only', () => {
  const cases: [number[], boolean][] = [[[], true], [[5], true], [[1, 2, 9], true], [[1, 1], false], [[2, 1], false], [[1, 3, 2], false]];
  for (const [uids, want] of cases) assert.equal(isAscending(msgs(...uids)), want, JSON.stringify(uids));
});

test('uidFinder: every asked UID finds its item or nothing, whatever the order of either list', () => {
  // [list searched, UIDs asked in this order]
  const cases: [number[], number[]][] = [
    [[1, 2, 3, 5, 8], [1, 3, 4, 8, 9]], // both ascending: the walk, with gaps on both sides
    [[], [1, 2]],
    [[1, 2], []],
    [[5, 1, 3], [1, 3, 4, 5]], // the list searched out of order
    [[1, 3, 5], [5, 1, 3, 4]], // the UIDs asked out of order (a view built from an unordered uidlist)
  ];
  for (const [list, asked] of cases) {
    const items = msgs(...list);
    const find = uidFinder(items, msgs(...asked));
    const got = asked.map((uid) => find(uid)?.name);
    assert.deepEqual(got, asked.map((uid) => (list.includes(uid) ? `m${uid}` : undefined)), `${JSON.stringify(list)} asked ${JSON.stringify(asked)}`);
  }
});

test('byUidIn: the item with that UID or nothing, in order (binary search) or not (a walk)', () => {
  const cases: [number[], number][] = [
    [[1, 2, 3, 5, 8], 1], [[1, 2, 3, 5, 8], 8], [[1, 2, 3, 5, 8], 5], [[1, 2, 3, 5, 8], 4], [[1, 2, 3, 5, 8], 9], [[1, 2, 3, 5, 8], 0],
    [[], 1], [[7], 7], [[7], 6],
    [[5, 1, 3], 1], [[5, 1, 3], 5], [[5, 1, 3], 4], [[9, 2, 4, 1], 1], // out of order
  ];
  for (const [list, uid] of cases) {
    assert.equal(byUidIn(msgs(...list), uid)?.name, list.includes(uid) ? `m${uid}` : undefined, `${JSON.stringify(list)} uid ${uid}`);
  }
});

test('sameStrings', () => {
  const a = ['x', 'y'];
  const cases: [string[], string[], boolean][] = [[a, a, true], [['x', 'y'], ['x', 'y'], true], [[], [], true], [['x'], ['x', 'y'], false], [['y', 'x'], ['x', 'y'], false]];
  for (const [x, y, want] of cases) assert.equal(sameStrings(x, y), want, `${JSON.stringify(x)} ${JSON.stringify(y)}`);
});

test('uidIndexFinder: the index of every asked UID, or -1, whatever the order of either list', () => {
  // [list searched, UIDs asked in this order]
  const cases: [number[], number[]][] = [
    [[1, 2, 3, 5, 8], [1, 3, 4, 8, 9]],
    [[], [1, 2]],
    [[4, 2, 9], [2, 4, 7, 9]],
    [[1, 2, 3], [3, 1]],
  ];
  for (const [list, asked] of cases) {
    const l = msgs(...list);
    const find = uidIndexFinder(l, msgs(...asked));
    for (const uid of asked) assert.equal(find(uid), list.indexOf(uid), `${JSON.stringify(list)} ${uid}`);
  }
});

test('indexByUid: a binary search, and a walk for a list out of order', () => {
  const cases: [number[], number, number][] = [
    [[1, 4, 6, 9], 6, 2], [[1, 4, 6, 9], 1, 0], [[1, 4, 6, 9], 9, 3], [[1, 4, 6, 9], 5, -1], [[], 1, -1], [[9, 2, 5], 5, 2], [[9, 2, 5], 3, -1],
  ];
  for (const [list, uid, want] of cases) assert.equal(indexByUid(msgs(...list), uid), want, `${JSON.stringify(list)} ${uid}`);
});

test('mergeByUid: two ascending lists as one, a UID of the second that the first has left out', () => {
  const cases: [number[], number[], number[]][] = [
    [[], [], []], [[1, 5], [], [1, 5]], [[], [2, 3], [2, 3]], [[1, 5, 9], [2, 6, 10], [1, 2, 5, 6, 9, 10]], [[1, 5], [5, 7], [1, 5, 7]], [[4], [1, 2], [1, 2, 4]],
  ];
  for (const [a, b, want] of cases) {
    const got = mergeByUid(msgs(...a), msgs(...b));
    assert.deepEqual(got.map((m) => m.uid), want, `${JSON.stringify(a)} + ${JSON.stringify(b)}`);
  }
  // An item both have is the first list's.
  const first = msgs(5);
  assert.equal(mergeByUid(first, msgs(5))[0], first[0]);
});
