/*
 * The sidecar remembers its last reconcile answer per mailbox and reuses it while the mailbox's meta
 * entry and the input are unchanged (mda/storage/maildir/sidecar.ts `answered`). Two Sidecar
 * instances on one LMDB file stand for two processes: every change one makes must reach the other's
 * next answer, and an unchanged mailbox must not be read record by record again.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sidecar, type ReconcileInput } from '../../../../mda/storage/maildir/sidecar.js';

async function pair(t: TestContext): Promise<{ a: Sidecar; b: Sidecar; full: () => number }> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-sidecar-'));
  const path = join(dir, 'postern-index.lmdb');
  const a = await Sidecar.lmdb(path);
  const b = await Sidecar.lmdb(path);
  let n = 0;
  const proto = Sidecar.prototype as unknown as { reconcileIn: (...x: unknown[]) => unknown };
  const orig = proto.reconcileIn;
  t.mock.method(proto, 'reconcileIn', function (this: unknown, ...x: unknown[]) {
    n++;
    return orig.apply(this, x);
  });
  t.after(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { a, b, full: () => n };
}

const input = (flags: string[], opts: { claim?: boolean; nextUid?: number; uv?: number } = {}): ReconcileInput => ({
  uidValidity: opts.uv ?? 7,
  nextUid: opts.nextUid ?? flags.length + 1,
  messages: flags.map((f, i) => ({ uid: i + 1, flagsKey: f, inNew: false })),
  claimRecent: opts.claim ?? false,
});

/** The modseqs of an answer, in the order of its input's messages (input() gives UIDs 1, 2, 3 …). */
const modseqs = (r: { modseqs: readonly number[] }): number[] => [...r.modseqs];

test('an unchanged mailbox is answered from the last answer, without reading its records', async (t) => {
  const { a, full } = await pair(t);
  const first = await a.reconcile('box', input(['', '\\Seen', '']));
  const n = full();
  const again = await a.reconcile('box', input(['', '\\Seen', '']));
  assert.equal(full(), n, 'the second reconcile read the records again');
  assert.deepEqual(modseqs(again), modseqs(first));
  assert.equal(again.highestModseq, first.highestModseq);
  // A different input (one flag changed) gets a new modseq, still without reading every record:
  // nobody else moved the meta entry, so only the difference is written.
  const changed = await a.reconcile('box', input(['\\Flagged', '\\Seen', '']));
  assert.equal(full(), n, 'a change made only by this process read the records again');
  assert.equal(changed.highestModseq, first.highestModseq + 1);
  assert.equal(changed.modseqs[0], changed.highestModseq);
});

test('answers built from the last answer equal full passes over the records, step by step', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-sidecar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const inc = await Sidecar.lmdb(join(dir, 'inc.lmdb'));
  t.after(() => inc.close());
  const fullPath = join(dir, 'full.lmdb');
  // A seeded walk: flag changes, expunges (not only the last UID), appends, \Recent claims.
  let seed = 12345;
  const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const flagSets = ['', '\\Seen', '\\Flagged', '\\Seen \\Flagged', '\\Deleted', '$Junk'];
  let msgs: { uid: number; flagsKey: string; inNew: boolean }[] = [1, 2, 3, 4, 5].map((uid) => ({ uid, flagsKey: '', inNew: true }));
  let nextUid = 6;
  for (let step = 0; step < 120; step++) {
    const op = rnd(4);
    if (op === 0 && msgs.length > 0) {
      const i = rnd(msgs.length);
      msgs = msgs.map((m, j) => (j === i ? { ...m, flagsKey: flagSets[rnd(flagSets.length)]!, inNew: false } : m));
    } else if (op === 1 && msgs.length > 1) {
      const i = rnd(msgs.length);
      msgs = msgs.filter((_, j) => j !== i);
    } else if (op === 2) {
      const n = 1 + rnd(3);
      for (let k = 0; k < n; k++) msgs = [...msgs, { uid: nextUid++, flagsKey: '', inNew: true }];
    }
    const inp: ReconcileInput = { uidValidity: 7, nextUid, messages: msgs, claimRecent: op === 3 };
    const got = await inc.reconcile('box', inp);
    // A fresh instance each step has no remembered answer: always the full pass.
    const fresh = await Sidecar.lmdb(fullPath);
    const want = await fresh.reconcile('box', inp);
    const wantVanished = fresh.vanishedSince('box', 0);
    await fresh.close();
    assert.deepEqual(modseqs(got), modseqs(want), `step ${step}`);
    assert.deepEqual([got.highestModseq, got.claimedFrom, got.firstRecentUid], [want.highestModseq, want.claimedFrom, want.firstRecentUid], `step ${step}`);
    assert.deepEqual(inc.vanishedSince('box', 0), wantVanished, `step ${step}: expunge records`);
  }
});

test('modseqs come in the order of the input\'s messages, also when that is not UID order', async (t) => {
  const { a } = await pair(t);
  const asc = input(['', '\\Seen', '']);
  await a.reconcile('box', asc);
  // Message 2 changes; the input lists the messages backwards (a hand-edited uidlist's order).
  const changed = { ...asc, messages: [{ uid: 3, flagsKey: '', inNew: false }, { uid: 2, flagsKey: '', inNew: false }, { uid: 1, flagsKey: '', inNew: false }] };
  const got = await a.reconcile('box', changed);
  assert.equal(got.highestModseq, 2);
  assert.deepEqual(modseqs(got), [1, 2, 1]);
  // And from that remembered (backwards) answer, a change to message 3 takes the next modseq.
  const next = await a.reconcile('box', { ...changed, messages: [{ uid: 3, flagsKey: '\\Flagged', inNew: false }, ...changed.messages.slice(1)] });
  assert.deepEqual(modseqs(next), [3, 2, 1]);
});

test("another process's flag change, expunge and \\Recent claim reach the next answer", async (t) => {
  const { a, b } = await pair(t);
  const base = await a.reconcile('box', input(['', '', '']));
  await a.reconcile('box', input(['', '', '']));
  // B sees message 2 flagged: a new modseq. A, whose view still says unflagged, must not answer from
  // memory: its own input now differs from the record, so it takes yet another modseq.
  const fromB = await b.reconcile('box', input(['', '\\Flagged', '']));
  assert.equal(fromB.highestModseq, base.highestModseq + 1);
  const fromA = await a.reconcile('box', input(['', '', '']));
  assert.equal(fromA.highestModseq, fromB.highestModseq + 1);
  assert.equal(fromA.modseqs[1], fromA.highestModseq);
  // B expunges message 3: A (same input as its last call) must see the new HIGHESTMODSEQ.
  await a.reconcile('box', input(['', '', '']));
  const exp = await b.reconcile('box', input(['', ''], { nextUid: 4 }));
  const afterExp = await a.reconcile('box', input(['', ''], { nextUid: 4 }));
  assert.equal(afterExp.highestModseq, exp.highestModseq);
  assert.deepEqual(modseqs(afterExp), modseqs(exp));
  // B claims \Recent; A asking to claim gets nothing new (claimedFrom = nextUid), not its old answer.
  const claimB = await b.reconcile('box', input(['', ''], { nextUid: 4, claim: true }));
  assert.equal(claimB.firstRecentUid, 4);
  const claimA = await a.reconcile('box', input(['', ''], { nextUid: 4, claim: true }));
  assert.equal(claimA.claimedFrom, 4);
  assert.equal(claimA.firstRecentUid, 4);
});

test('a dropped mailbox and a new UIDVALIDITY start again from modseq 1', async (t) => {
  const { a, b } = await pair(t);
  await a.reconcile('box', input(['', '\\Seen']));
  await a.reconcile('box', input(['\\Seen', '\\Seen']));
  b.drop('box');
  const fresh = await a.reconcile('box', input(['\\Seen', '\\Seen']));
  assert.deepEqual(modseqs(fresh), [1, 1]);
  const uv = await a.reconcile('box', input(['\\Seen', '\\Seen'], { uv: 8 }));
  assert.deepEqual(modseqs(uv), [1, 1]);
  assert.equal(uv.highestModseq, 1);
});

test('changedByOthers: another writer\'s change is seen once, our own changes are not', async (t) => {
  const { a, b } = await pair(t);
  assert.equal(a.changedByOthers('box'), true, 'never reconciled here: nothing is known');
  await a.reconcile('box', input(['', '']));
  assert.equal(a.changedByOthers('box'), false);
  await a.reconcile('box', input(['\\Seen', '']));
  assert.equal(a.changedByOthers('box'), false, 'our own flag change');
  // b (another process or another store) changes a flag: a learns it once, and not again after
  // its own reconcile has taken the change in.
  await b.reconcile('box', input(['\\Seen', '\\Flagged']));
  assert.equal(a.changedByOthers('box'), true);
  await a.reconcile('box', input(['\\Seen', '\\Flagged']));
  assert.equal(a.changedByOthers('box'), false);
  // b's change lands after a looked and before a's reconcile: the next look still reports it.
  assert.equal(a.changedByOthers('box'), false);
  await b.reconcile('box', input(['', '\\Flagged']));
  await a.reconcile('box', input(['', '\\Flagged']));
  assert.equal(a.changedByOthers('box'), true, 'a change between the look and the reconcile was lost');
  assert.equal(a.changedByOthers('box'), false);
});
