/*
 * Diagnostic: CPU per refresh of an unchanged, settled maildir through the storage API, the cost an
 * idle IMAP session pays for every NOOP/IDLE wake-up (mda/storage/maildir/mailbox.ts reuses its
 * snapshot when nothing changed). Not part of `make bench`; ours only, no reference peer.
 *
 *   node dist/bench/diag/noop-refresh.js [messages=5000] [refreshes=500]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMailStore } from '../../mda/storage/api.js';

const messages = Number(process.argv[2] ?? 5000);
const refreshes = Number(process.argv[3] ?? 500);
const dir = mkdtempSync(join(tmpdir(), 'postern-noop-'));
try {
  const root = join(dir, 'Maildir');
  for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(root, s), { recursive: true });
  for (let i = 0; i < messages; i++) {
    writeFileSync(join(root, 'cur', `${1_700_000_000 + i}.M${i}P1.host,S=40,W=42:2,${i % 3 === 0 ? '' : 'S'}`), 'Subject: x\n\nbody of the message here...\n');
  }
  const store = await openMailStore({ mailLocation: `maildir:${root}`, home: dir, user: 'u', hostname: 'h' });
  const view = await store.openMailbox('INBOX', { readOnly: false });
  // Past the one-second dirty window, so the directories count as settled.
  await new Promise((r) => setTimeout(r, 1200));
  await view.refresh();
  const before = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < refreshes; i++) await view.refresh();
  const cpu = process.cpuUsage(before);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(`${messages} messages, ${refreshes} refreshes: ${((cpu.user + cpu.system) / refreshes).toFixed(0)} us CPU and ${(wallMs * 1000 / refreshes).toFixed(0)} us wall per refresh\n`);
  await view.close();
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
