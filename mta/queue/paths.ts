/*
 * Where the queue lives under queue_directory.
 *
 * Postfix keeps one directory per queue (reference/postfix.md §6.1); Postern keeps every queue in one
 * LMDB environment, `$queue_directory/postern/queue.lmdb` (directory 0700, files 0600, like the
 * mode-0600 files cleanup creates), and the qmgr control socket in `public/`, where Postfix keeps
 * the qmgr and flush endpoints that postqueue talks to.
 */
import { join } from 'node:path';

export interface QueuePaths {
  /** $queue_directory/postern */
  dir: string;
  /** The LMDB data file (its lock file is the same name with `-lock`). */
  lmdb: string;
  /** $queue_directory/public */
  publicDir: string;
  /** The control socket postqueue -f/-i/-s and postsuper talk to. */
  controlSocket: string;
  /** How warnings name the socket, relative to queue_directory like Postfix's `public/qmgr`. */
  controlSocketName: string;
}

export function queuePaths(queueDirectory: string): QueuePaths {
  const dir = join(queueDirectory, 'postern');
  const publicDir = join(queueDirectory, 'public');
  return {
    dir,
    lmdb: join(dir, 'queue.lmdb'),
    publicDir,
    controlSocket: join(publicDir, 'postern-qmgr'),
    controlSocketName: 'public/postern-qmgr',
  };
}
