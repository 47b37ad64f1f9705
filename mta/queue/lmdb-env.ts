/*
 * Opens the queue's LMDB environment and its sub-databases with the same options in every process
 * (the daemon, postsuper as a second writer, postqueue read-only), since lmdb-js's overlapping-sync
 * meta handling is an environment property all writers must agree on.
 *
 * Layout (keys in lmdb-js ordered-binary, values raw bytes):
 *   envelope  queueId → record JSON (record.ts)
 *   body      [queueId, segment] → message bytes (body.ts)
 *   due       [queue, dueMs, queueId] → empty: incoming and deferred messages by due time, so qmgr
 *             scans each queue from its earliest due message without reading records
 *   corrupt   queueId → {reason, at, raw} for records set aside as unreadable
 * Files: directory 0700, data and lock files created 0600 before LMDB opens them (LMDB keeps the
 * mode of an existing file). Never noSync: durability is the point.
 */
import { closeSync, chmodSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { QueuePaths } from './paths.js';

export type BodyKey = [string, number];
export type DueKey = [string, number, string];

export interface QueueDbs {
  root: RootDatabase<Buffer, string>;
  envelope: Database<Buffer, string>;
  body: Database<Buffer, BodyKey>;
  due: Database<Buffer, DueKey>;
  corrupt: Database<Buffer, string>;
}

function ensureFile(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}

/** Opens (creating when `readOnly` is false) the environment. Throws ENOENT when read-only and absent. */
export function openQueueDbs(paths: QueuePaths, readOnly = false): QueueDbs {
  if (!readOnly) {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    chmodSync(paths.dir, 0o700);
    ensureFile(paths.lmdb);
    ensureFile(`${paths.lmdb}-lock`);
  } else if (!existsSync(paths.lmdb)) {
    throw Object.assign(new Error(`open ${paths.lmdb}: No such file or directory`), { code: 'ENOENT' });
  }
  const root = open<Buffer, string>({
    path: paths.lmdb,
    noSubdir: true,
    encoding: 'binary',
    readOnly,
    maxDbs: 8,
    maxReaders: 254,
    // Default on Linux, spelled out: commits become visible first and are fsync'd after, outside
    // the write lock; enqueue() waits for that flush (see store.ts, DURABILITY).
    overlappingSync: !readOnly,
    // With event-turn batching, a failed commit (disk full) also rejects an internal promise that
    // nobody holds, and Node ends the process on it (observed with lmdb-js 3.5.6 on a full tmpfs).
    // Without it, writes still share commits: everything queued before the setImmediate that
    // starts a transaction, or while one is being written, goes into the same transaction.
    eventTurnBatching: false,
  });
  const sub = <K extends string | BodyKey | DueKey>(name: string) =>
    root.openDB<Buffer, K>({ name, encoding: 'binary' }) as Database<Buffer, K>;
  return {
    root,
    envelope: sub<string>('envelope'),
    body: sub<BodyKey>('body'),
    due: sub<DueKey>('due'),
    corrupt: sub<string>('corrupt'),
  };
}
