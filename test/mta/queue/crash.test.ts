/*
 * Durability under a crash: a child process enqueues continuously and is killed with SIGKILL while
 * enqueues are in flight. Every enqueue whose promise had resolved (its ID reached our pipe) must be
 * in the queue, with its body, after reopening; recovery must find nothing corrupt.
 * (A process kill keeps the page cache, so this checks the write/commit ordering and recovery, not
 * the fsync itself; the fsync-before-resolve ordering was checked with strace, see the report.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/tmp.js';
import { QueueStore } from '../../../mta/queue/store.js';

const child = fileURLToPath(new URL('./crash-child.js', import.meta.url));

test('every acknowledged enqueue survives SIGKILL during enqueue', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, 'postern-crash-');
  const acked: Array<{ id: string; seq: number; size: number }> = [];
  await new Promise<void>((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    let killed = false;
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [id, seq, size] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        acked.push({ id: id!, seq: Number(seq), size: Number(size) });
      }
      if (!killed && acked.length >= 300) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited: ${_code}`))));
    proc.on('error', reject);
  });
  assert.ok(acked.length >= 300);

  const store = QueueStore.open({ queueDirectory: dir });
  t.after(() => store.close());
  const report = await store.recover();
  assert.deepEqual(report.corrupt, []);
  assert.equal(report.orphanBodies, 0);
  for (const a of acked) {
    const rec = store.get(a.id);
    assert.ok(rec, `acknowledged ${a.id} (#${a.seq}) is missing`);
    assert.equal(rec.attrs.seq, String(a.seq));
    const body = store.readBody(a.id);
    assert.equal(body.length, a.size);
    assert.equal(body[0], 65 + (a.seq % 26));
  }
  assert.ok(report.messages >= acked.length);
});
