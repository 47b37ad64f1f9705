/*
 * The sidecar commits without fsync (mda/storage/maildir/sidecar-marks.ts): a writer marks the
 * database when it opens it (and again before a write once the mark went), and removes the mark once
 * writes stopped for a quiet spell and an fsync covered them;
 * at open, a mark of another boot condemns the file (a system crash may have torn it) and a mark of
 * a dead process of this boot is adopted (its writes are in the page cache). A killed child process
 * stands for a crashed daemon; another boot id passed to Sidecar.lmdb stands for a reboot.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sidecar, type ReconcileInput } from '../../../../mda/storage/maildir/sidecar.js';
import { judgeMarks, markName, parseMark, UnsyncedMark, type Mark } from '../../../../mda/storage/maildir/sidecar-marks.js';

const BOOT = '0a1b2c3d-0000-4000-8000-000000000001';
const LATER_BOOT = '0a1b2c3d-0000-4000-8000-000000000002';

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'postern-marks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const marksIn = (dir: string): string[] => readdirSync(dir).filter((n) => n.includes('.unsynced-')).sort();
/** The marks of other processes (an open sidecar of this one has its own). */
const othersMarksIn = (dir: string): string[] => marksIn(dir).filter((n) => parseMark(n.slice(0, n.indexOf('.unsynced-')), n)?.pid !== process.pid);

const input = (flags: string[]): ReconcileInput => ({
  uidValidity: 7,
  nextUid: flags.length + 1,
  messages: flags.map((f, i) => ({ uid: i + 1, flagsKey: f, inNew: false })),
  claimRecent: false,
});

test('mark names: written and parsed back; other names are not marks', () => {
  const name = markName('postern-index.lmdb', BOOT, 4242, 3);
  assert.equal(name, `postern-index.lmdb.unsynced-${BOOT}-4242-3`);
  assert.deepEqual(parseMark('postern-index.lmdb', name), { name, boot: BOOT, pid: 4242 });
  const rows: [string, string][] = [
    ['postern-index.lmdb', 'postern-index.lmdb'],
    ['postern-index.lmdb', 'postern-index.lmdb-lock'],
    ['postern-index.lmdb', `other.lmdb.unsynced-${BOOT}-1-1`],
    ['postern-index.lmdb', `postern-index.lmdb.unsynced-${BOOT}-x-1`],
    ['postern-index.lmdb', 'postern-index.lmdb.unsynced-'],
    ['postern-index.lmdb', 'postern-index.lmdb.rebuild.lock'],
  ];
  for (const [db, n] of rows) assert.equal(parseMark(db, n), undefined, n);
});

test('judgeMarks: other boots condemn the file, dead processes of this boot are adopted, live ones kept', () => {
  const m = (boot: string, pid: number): Mark => ({ name: `${boot}-${pid}`, boot, pid });
  const alive = (pid: number): boolean => pid < 100;
  const rows: { marks: Mark[]; rebuild: boolean; adopt: number[]; stale: number[] }[] = [
    { marks: [], rebuild: false, adopt: [], stale: [] },
    { marks: [m(BOOT, 5)], rebuild: false, adopt: [], stale: [] },
    { marks: [m(BOOT, 500)], rebuild: false, adopt: [500], stale: [] },
    // A mark of an earlier boot condemns the file even if its pid is alive now (pids restart at boot).
    { marks: [m(LATER_BOOT, 5)], rebuild: true, adopt: [], stale: [5] },
    { marks: [m(BOOT, 5), m(BOOT, 600), m(LATER_BOOT, 700)], rebuild: true, adopt: [600], stale: [700] },
  ];
  for (const r of rows) {
    const j = judgeMarks(r.marks, BOOT, alive);
    assert.equal(j.rebuild, r.rebuild, JSON.stringify(r.marks));
    assert.deepEqual(j.adopt.map((x) => x.pid), r.adopt);
    assert.deepEqual(j.stale.map((x) => x.pid), r.stale);
  }
});

test('opening marks the database; a flush removes the mark unless a write came during it; a write after that marks again', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'postern-index.lmdb');
  const sidecar = await Sidecar.lmdb(path, BOOT);
  t.after(() => sidecar.close());
  const marks = marksIn(dir);
  assert.equal(marks.length, 1, 'the open marks the database, before any write');
  assert.equal(parseMark('postern-index.lmdb', marks[0]!)?.pid, process.pid);
  await sidecar.reconcile('box', input(['', '']));
  assert.deepEqual(marksIn(dir), marks, 'a write keeps the one mark');
  // Our own mark instance, on a second database, to drive the flush by hand.
  const own = new UnsyncedMark(join(dir, 'second.lmdb'), BOOT);
  writeFileSync(join(dir, 'second.lmdb'), 'x');
  const second = (): number => marksIn(dir).filter((n) => n.startsWith('second.lmdb')).length;
  await own.create();
  assert.equal(second(), 1);
  own.beforeWrite();
  const flushing = own.flush();
  own.beforeWrite(); // a write while the fsync runs: not covered by it
  await flushing;
  assert.equal(second(), 1, 'a write during the flush lost its mark');
  await own.flush();
  assert.equal(second(), 0, 'a flush with no write after it kept the mark');
  own.beforeWrite();
  assert.equal(second(), 1, 'a write after the mark went did not create it again before writing');
  await own.close();
  await sidecar.close();
  assert.deepEqual(marksIn(dir), [], 'close() left the mark');
});

test('the mark goes after a quiet spell of idleMs, not while writes keep coming', async (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'db.lmdb'), 'x');
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const own = new UnsyncedMark(join(dir, 'db.lmdb'), BOOT, 1000);
  await own.create();
  t.after(() => own.close());
  const gone = async (waitMs: number): Promise<boolean> => {
    // The flush's fsync is real I/O: give it real time, in turns of the event loop (setImmediate
    // and performance.now are not mocked). A count of turns was not enough on a busy machine.
    const end = performance.now() + waitMs;
    while (marksIn(dir).length > 0 && performance.now() < end) await new Promise((r) => setImmediate(r));
    return marksIn(dir).length === 0;
  };
  t.mock.timers.tick(900);
  own.beforeWrite();
  t.mock.timers.tick(200); // the timer armed at create() fires 100 ms after the write: too soon
  assert.equal(await gone(200), false, 'the mark went 100 ms after a write');
  t.mock.timers.tick(900); // 1000 ms after the write
  assert.equal(await gone(10_000), true, 'the mark stayed after a quiet spell');
});

/** A child process that writes to the sidecar at `path` and is then killed (no close, no flush). */
function crashWriter(path: string, boot: string): void {
  const sidecarUrl = new URL('../../../../mda/storage/maildir/sidecar.js', import.meta.url).href;
  const script = `
    const { Sidecar } = await import(${JSON.stringify(sidecarUrl)});
    const s = await Sidecar.lmdb(${JSON.stringify(path)}, ${JSON.stringify(boot)});
    const input = { uidValidity: 7, nextUid: 4, claimRecent: false, messages: [1, 2, 3].map((uid) => ({ uid, flagsKey: uid === 2 ? '\\\\Seen' : '', inNew: false })) };
    await s.reconcile('box', input);
    await s.reconcile('box', { ...input, messages: input.messages.map((m) => m.uid === 3 ? { ...m, flagsKey: '\\\\Flagged' } : m) });
    process.kill(process.pid, 'SIGKILL');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('.', import.meta.url)) });
  assert.equal(r.signal, 'SIGKILL', r.stderr.toString());
}

/** A writer of boot BOOT killed after two commits, then the sidecar opened again in boot `boot`. */
async function openAfterCrash(t: TestContext, boot: string): Promise<{ dir: string; path: string; s: Sidecar }> {
  const dir = tmp(t);
  const path = join(dir, 'postern-index.lmdb');
  crashWriter(path, BOOT);
  assert.equal(marksIn(dir).length, 1, 'the killed writer left no mark');
  const s = await Sidecar.lmdb(path, boot);
  t.after(() => s.close());
  return { dir, path, s };
}

test('a crashed writer of this boot: its mark is adopted at the next open and its writes are kept', async (t) => {
  const { dir, s } = await openAfterCrash(t, BOOT);
  assert.deepEqual(othersMarksIn(dir), [], 'the dead writer\'s mark was not adopted');
  // Its two commits are there: message 3 changed after the first, so it has the highest modseq.
  const r = await s.reconcile('box', input(['', '\\Seen', '\\Flagged']));
  assert.equal(r.highestModseq, 2);
  assert.deepEqual([...r.modseqs], [1, 1, 2]);
});

test('a writer\'s mark from an earlier boot: the database is rebuilt (its history is gone, as with a deleted index)', async (t) => {
  const { dir, path, s } = await openAfterCrash(t, LATER_BOOT);
  assert.deepEqual(othersMarksIn(dir), [], 'the earlier boot\'s mark was not removed');
  assert.ok(!existsSync(`${path}.rebuild.lock`));
  // A fresh sidecar: every message starts again at modseq 1.
  const r = await s.reconcile('box', input(['', '\\Seen', '\\Flagged']));
  assert.equal(r.highestModseq, 1);
  assert.deepEqual([...r.modseqs], [1, 1, 1]);
});

test('a clean close in an earlier boot leaves no mark: the next boot keeps the history', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'postern-index.lmdb');
  const a = await Sidecar.lmdb(path, BOOT);
  await a.reconcile('box', input(['', '']));
  await a.reconcile('box', input(['\\Seen', '']));
  await a.close();
  const b = await Sidecar.lmdb(path, LATER_BOOT);
  t.after(() => b.close());
  const r = await b.reconcile('box', input(['\\Seen', '']));
  assert.equal(r.highestModseq, 2);
});

test('the sidecars of one file in a process share its handle and mark; the last close closes them', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'postern-index.lmdb');
  // Opened at the same time, as two sessions of one user logging in together.
  const [a, b] = await Promise.all([Sidecar.lmdb(path, BOOT), Sidecar.lmdb(path, BOOT)]);
  assert.equal(marksIn(dir).length, 1, 'one mark for the file, not one per sidecar');
  await a.reconcile('box', input(['', '']));
  await a.close();
  await a.close(); // twice: still one release
  assert.equal(marksIn(dir).length, 1, 'the first close took the mark from the other sidecar');
  // b still works on the shared handle, and sees a's commit.
  const r = await b.reconcile('box', input(['\\Seen', '']));
  assert.ok(r.highestModseq > 1);
  const c = await Sidecar.lmdb(path, BOOT);
  assert.equal(marksIn(dir).length, 1);
  await b.close();
  assert.equal(marksIn(dir).length, 1, 'closed while c was open');
  await c.close();
  assert.deepEqual(marksIn(dir), [], 'the last close left the mark');
  // Opened again after the last close: a new handle and a new mark.
  const d = await Sidecar.lmdb(path, BOOT);
  t.after(() => d.close());
  assert.equal(marksIn(dir).length, 1);
  assert.equal((await d.reconcile('box', input(['\\Seen', '']))).highestModseq, r.highestModseq, 'the commits survived the close');
});
