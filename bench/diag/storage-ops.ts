/*
 * Diagnostic: process CPU per write operation through the storage API on a mailbox of a given
 * size, the server-side cost of an IMAP STORE, APPEND or STORE \Deleted + EXPUNGE with the sync
 * that follows each (mda/storage/maildir). No network and no load generator, so it shows how a
 * change scales with the mailbox where the bench's noise would hide it. Not part of `make bench`;
 * ours only, no reference peer. The clock is moved ahead every 50 operations so stamps settle as
 * they would over a session.
 *
 *   node dist/bench/diag/storage-ops.js [messages=600] [operations=2000] [op=mix|store|append|expunge]
 *
 * TMPDIR chooses the filesystem (docs/performance.md, "Ninth session": a journal-less ext4 makes
 * every file create pay for recently deleted inodes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMailStore } from '../../mda/storage/api.js';

type Op = 'store' | 'append' | 'expunge';
const messages = Number(process.argv[2] ?? 600);
const operations = Number(process.argv[3] ?? 2000);
const only = process.argv[4] ?? 'mix';
const msg = (i: number): Buffer => Buffer.from(`From: a${i}@example.org\r\nTo: b@example.org\r\nSubject: message ${i}\r\nMessage-ID: <${i}@bench>\r\n\r\nbody ${i}\r\n`);

const dir = mkdtempSync(join(tmpdir(), 'postern-storage-ops-'));
try {
  const store = await openMailStore({ mailLocation: `maildir:${join(dir, 'Maildir')}`, home: dir, user: 'bench', hostname: 'bench' });
  for (let i = 0; i < messages; i++) await store.deliver('INBOX', msg(i));
  const view = await store.openMailbox('INBOX', { readOnly: false });
  await view.refresh();
  const realNow = Date.now.bind(Date);
  let ahead = 0;
  Date.now = () => realNow() + ahead;
  let seed = 1;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const count: Record<Op, number> = { store: 0, append: 0, expunge: 0 };
  const cpuUs: Record<Op, number> = { store: 0, append: 0, expunge: 0 };
  for (let i = 0; i < operations; i++) {
    const r = rnd();
    const op: Op = only !== 'mix' ? (only as Op) : r < 0.6 ? 'store' : r < 0.85 ? 'append' : 'expunge';
    const list = view.messages();
    const m = list[Math.floor(rnd() * list.length)]!;
    const before = process.cpuUsage();
    if (op === 'store') await view.store([m.uid], { mode: i % 2 === 0 ? 'add' : 'remove', flags: ['\\Seen'] });
    else if (op === 'append') await store.append('INBOX', msg(messages + i), { flags: ['\\Seen'] });
    else {
      await view.store([list[list.length - 1]!.uid], { mode: 'add', flags: ['\\Deleted'] });
      await view.expunge();
    }
    await view.refresh();
    const used = process.cpuUsage(before);
    count[op]++;
    cpuUs[op] += used.user + used.system;
    if (i % 50 === 0) ahead += 1100;
  }
  process.stdout.write(`${messages} messages at the start, ${view.messages().length} at the end, ${operations} operations (${only})\n`);
  for (const op of Object.keys(count) as Op[]) {
    if (count[op] > 0) process.stdout.write(`  ${op.padEnd(8)} ${String(count[op]).padStart(6)}  ${(cpuUs[op] / count[op] / 1000).toFixed(3)} CPU ms each\n`);
  }
  await view.close();
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
