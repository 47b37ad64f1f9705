/*
 * Remembers which file a table was built from (device, inode, mtime, size) so a long-running daemon
 * can notice a rebuilt table the way Postfix's dict_changed_name() does and restart or reopen it.
 * The check is a stat(2) per call; callers rate-limit it.
 */
import { statSync } from 'node:fs';

export interface FileStamp {
  readonly path: string;
  readonly key: string;
}

function stampKey(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.mtimeNs}:${st.size}`;
  } catch {
    return 'missing';
  }
}

export function takeStamp(path: string): FileStamp {
  return { path, key: stampKey(path) };
}

export function stampChanged(stamp: FileStamp): boolean {
  return stampKey(stamp.path) !== stamp.key;
}
