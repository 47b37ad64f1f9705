/*
 * Child process for the crash test (not a test file): enqueues without pause, several at a time,
 * and prints each queue ID on stdout only after its enqueue() promise resolved. The parent kills
 * it with SIGKILL in mid-stream. Usage: node crash-child.js QUEUE_DIRECTORY
 */
import { writeSync } from 'node:fs';
import { QueueStore } from '../../../mta/queue/store.js';

const store = QueueStore.open({ queueDirectory: process.argv[2]! });
let n = 0;

async function worker(): Promise<never> {
  for (;;) {
    const i = n++;
    const body = Buffer.alloc(20_000 + (i % 7) * 1000, 65 + (i % 26));
    const rec = await store.enqueue({ sender: 'crash@test', recipients: [{ address: `r${i}@test` }], attrs: { seq: String(i) } }, body);
    writeSync(1, `${rec.id} ${i} ${body.length}\n`);
  }
}
for (let w = 0; w < 8; w++) void worker();
