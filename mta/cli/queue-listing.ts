/*
 * The queue listing shared by `postqueue -p`, `postqueue -j` and `mailq`: reads the LMDB queue
 * read-only (the daemon may be writing; LMDB readers see the last committed state and never block
 * it) and prints with the existing formatters (mta/showq/format.ts). Postfix asks its showq
 * service and reads the queue itself when the mail system is down; Postern always reads the queue.
 */
import { formatJsonLine, formatMailq } from '../showq/format.js';
import { QueueStore } from '../queue/store.js';
import { showqMessage, showqOrder } from '../queue/showq-view.js';
import type { QueueSettings } from '../queue/settings.js';
import type { QueueRecord } from '../queue/types.js';

export async function readQueue(settings: QueueSettings): Promise<QueueRecord[]> {
  let store: QueueStore;
  try {
    store = QueueStore.open({ queueDirectory: settings.queueDirectory, readOnly: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []; // no message was ever queued
    throw err;
  }
  try {
    return [...store.list(['incoming', 'active', 'deferred', 'hold'])].sort(showqOrder);
  } finally {
    await store.close();
  }
}

export function renderListing(records: readonly QueueRecord[], json: boolean, longIds: boolean): string {
  const msgs = records.map(showqMessage);
  if (json) return msgs.map((m) => `${formatJsonLine(m)}\n`).join('');
  return formatMailq(msgs, longIds);
}
