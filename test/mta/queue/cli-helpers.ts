/* Shared by the postqueue/postsuper tests: a temporary main.cf + queue, and running the built CLIs. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { tempDir } from '../../helpers/tmp.js';
import { QueueStore } from '../../../mta/queue/store.js';
import type { NewEnvelope, QueueRecord, RecipientOutcome } from '../../../mta/queue/types.js';

/** Fri Nov 27 17:42:39 2026 UTC; the CLIs run with TZ=UTC. */
export const ARRIVAL_MS = Date.UTC(2026, 10, 27, 17, 42, 39);

export interface QueueFixture {
  configDir: string;
  queueDirectory: string;
}

export function queueFixture(t: TestContext, extraMainCf = ''): QueueFixture {
  const root = tempDir(t, 'postern-qcli-');
  const configDir = join(root, 'etc');
  const queueDirectory = join(root, 'spool');
  mkdirSync(configDir);
  mkdirSync(queueDirectory);
  writeFileSync(join(configDir, 'main.cf'), `queue_directory = ${queueDirectory}\n${extraMainCf}`);
  return { configDir, queueDirectory };
}

/** Opens the queue in this process, runs `fn`, closes it again (so a CLI child sees a quiet queue). */
export async function withStore<T>(fx: QueueFixture, fn: (s: QueueStore) => Promise<T>, long = false): Promise<T> {
  const store = QueueStore.open({ queueDirectory: fx.queueDirectory, clockMs: () => ARRIVAL_MS, longQueueIds: long });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function enqueueDeferred(
  s: QueueStore, env: NewEnvelope, size: number, reasons: string[],
): Promise<QueueRecord> {
  const rec = await s.enqueue(env, Buffer.alloc(size, 0x78));
  await s.takeDue(100);
  const outcomes: RecipientOutcome[] = reasons.map((reason, index) => ({ index, kind: 'deferred', dsnStatus: '4.4.1', reason }));
  await s.applyOutcomes(rec.id, outcomes);
  return rec;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs dist/mta/cli/<tool>.js asynchronously (the test process may be serving the control socket). */
export function runTool(tool: string, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const entry = fileURLToPath(new URL(`../../../mta/cli/${tool}.js`, import.meta.url));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [entry, ...args], { env: { ...process.env, TZ: 'UTC', ...opts.env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout, stderr }));
    p.stdin.end(opts.input ?? '');
  });
}
