/*
 * yescrypt off the event loop: one lazily started worker thread (unref'd, so it never keeps the
 * process alive) computes yescryptCrypt for the auth service, whose process also serves IMAP, POP3
 * and LMTP and must not stall for the ~0.3-0.7 s one Debian-default hash takes. Requests are
 * answered in order. If the worker cannot start or dies, the computation runs inline.
 *
 * This file is both the client (main thread) and the worker's entry (when loaded as a worker).
 * Distrusts nothing beyond yescrypt.ts; passwords cross the thread boundary only in memory.
 */
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { yescryptCrypt } from './yescrypt.js';

interface Request {
  id: number;
  passwd: Uint8Array;
  setting: string;
}

interface Reply {
  id: number;
  out: string | undefined;
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on('message', (m: Request) => {
    let out: string | undefined;
    try {
      out = yescryptCrypt(m.passwd, m.setting);
    } catch {
      out = undefined;
    }
    port.postMessage({ id: m.id, out } satisfies Reply);
  });
}

let worker: Worker | undefined;
let broken = false;
let nextId = 1;
const pending = new Map<number, { resolve: (v: string | undefined) => void; passwd: Uint8Array; setting: string }>();

function failAllInline(): void {
  broken = true;
  worker = undefined;
  for (const [id, p] of pending) {
    pending.delete(id);
    p.resolve(yescryptCrypt(p.passwd, p.setting));
  }
}

function getWorker(): Worker | undefined {
  if (broken) return undefined;
  if (worker) return worker;
  try {
    const w = new Worker(new URL(import.meta.url));
    w.unref();
    w.on('message', (m: Reply) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      p.resolve(m.out);
    });
    w.on('error', failAllInline);
    w.on('exit', () => {
      if (worker === w) failAllInline();
    });
    worker = w;
    return w;
  } catch {
    broken = true;
    return undefined;
  }
}

/** yescryptCrypt on the worker thread (inline when no worker is available). */
export function yescryptCryptAsync(passwd: Uint8Array, setting: string): Promise<string | undefined> {
  const w = getWorker();
  if (!w) return Promise.resolve(yescryptCrypt(passwd, setting));
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, { resolve, passwd, setting });
    // Keep the process alive while a caller awaits an answer.
    w.ref();
    w.postMessage({ id, passwd: Uint8Array.from(passwd), setting } satisfies Request);
  });
}
