/*
 * uid/gid names to numbers through /etc/passwd and /etc/group (Node has no getpwnam), for
 * passwd-file and static userdb fields such as `uid=vmail`. Numbers pass through. Files are read
 * per call (they are small and change rarely; the auth service caches results per lookup only).
 *
 * Distrusts the files: malformed lines are skipped.
 */
import { readFileSync } from 'node:fs';

function lookupName(file: string, name: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && /^[0-9]+$/.test(f[2])) return f[2];
  }
  return undefined;
}

/** A uid as digits: numbers unchanged, names resolved; undefined when the name is unknown. */
export function resolveUid(v: string, passwdFile = '/etc/passwd'): string | undefined {
  return /^[0-9]+$/.test(v) ? v : lookupName(passwdFile, v);
}

export function resolveGid(v: string, groupFile = '/etc/group'): string | undefined {
  return /^[0-9]+$/.test(v) ? v : lookupName(groupFile, v);
}
