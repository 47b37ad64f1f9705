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

function pair(t: TestContext): { a: Sidecar; b: Sidecar; full: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'postern-sidecar-'));
  const path = join(dir, 'postern-index.lmdb');
  const a = Sidecar.lmdb(path);
  const b = Sidecar.lmdb(path);
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

const modseqs = (r: { modseqs: ReadonlyMap<number, number> }): number[] => [...r.modseqs.entries()].sort((x, y) => x[0] - y[0]).map(([, m]) => m);

test('an unchanged mailbox is answered from the last answer, without reading its records', async (t) => {
  const { a, full } = pair(t);
  const first = await a.reconcile('box', input(['', '\\Seen', '']));
  const n = full();
  const again = await a.reconcile('box', input(['', '\\Seen', '']));
  assert.equal(full(), n, 'the second reconcile read the records again');
  assert.deepEqual(modseqs(again), modseqs(first));
  assert.equal(again.highestModseq, first.highestModseq);
  // A different input (one flag changed) is not answered from memory, and gets a new modseq.
  const changed = await a.reconcile('box', input(['\\Flagged', '\\Seen', '']));
  assert.ok(full() > n);
  assert.equal(changed.highestModseq, first.highestModseq + 1);
  assert.equal(changed.modseqs.get(1), changed.highestModseq);
});

test("another process's flag change, expunge and \\Recent claim reach the next answer", async (t) => {
  const { a, b } = pair(t);
  const base = await a.reconcile('box', input(['', '', '']));
  await a.reconcile('box', input(['', '', '']));
  // B sees message 2 flagged: a new modseq. A, whose view still says unflagged, must not answer from
  // memory: its own input now differs from the record, so it takes yet another modseq.
  const fromB = await b.reconcile('box', input(['', '\\Flagged', '']));
  assert.equal(fromB.highestModseq, base.highestModseq + 1);
  const fromA = await a.reconcile('box', input(['', '', '']));
  assert.equal(fromA.highestModseq, fromB.highestModseq + 1);
  assert.equal(fromA.modseqs.get(2), fromA.highestModseq);
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
  const { a, b } = pair(t);
  await a.reconcile('box', input(['', '\\Seen']));
  await a.reconcile('box', input(['\\Seen', '\\Seen']));
  b.drop('box');
  const fresh = await a.reconcile('box', input(['\\Seen', '\\Seen']));
  assert.deepEqual(modseqs(fresh), [1, 1]);
  const uv = await a.reconcile('box', input(['\\Seen', '\\Seen'], { uv: 8 }));
  assert.deepEqual(modseqs(uv), [1, 1]);
  assert.equal(uv.highestModseq, 1);
});
