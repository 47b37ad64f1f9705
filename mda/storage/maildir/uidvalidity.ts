/*
 * Allocates UIDVALIDITY values for new mailboxes as Dovecot 2.3 does (mailbox-uidvalidity.c):
 * `<root>/dovecot-uidvalidity` holds the last value issued (hex), next to an empty marker file
 * `dovecot-uidvalidity.<hex>`. A new mailbox gets last + 1; the first one gets the current time.
 * Renaming the marker from the old to the new value is the atomic claim between processes.
 *
 * Distrusts: a missing or garbled counter file (falls back to the highest marker, then the clock).
 */
import { readdir, readFile, rename, open, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { formatUidValidityHex, parseUidValidityFile } from './control-files.js';

const FILE = 'dovecot-uidvalidity';

export async function nextUidValidity(dir: string, now: () => number = () => Math.floor(Date.now() / 1000)): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    let fileValue: number | undefined;
    try {
      fileValue = parseUidValidityFile(await readFile(join(dir, FILE), 'utf8'));
    } catch {
      fileValue = undefined;
    }
    const markers: number[] = [];
    for (const e of await readdir(dir)) {
      const m = /^dovecot-uidvalidity\.([0-9a-f]{8})$/.exec(e);
      if (m !== null) markers.push(parseInt(m[1]!, 16));
    }
    const highestMarker = markers.length > 0 ? Math.max(...markers) : undefined;
    const last = Math.max(fileValue ?? 0, highestMarker ?? 0);
    let next = last === 0 ? now() : last + 1;
    if (next > 0xffffffff) next = 1;
    const newMarker = join(dir, `${FILE}.${formatUidValidityHex(next)}`);
    try {
      if (highestMarker !== undefined) {
        await rename(join(dir, `${FILE}.${formatUidValidityHex(highestMarker)}`), newMarker);
      } else {
        await (await open(newMarker, 'wx', 0o444)).close();
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EEXIST') continue;
      throw err;
    }
    for (const m of markers) {
      if (m !== highestMarker && m !== next) await unlink(join(dir, `${FILE}.${formatUidValidityHex(m)}`)).catch(() => undefined);
    }
    // The marker is the claim; the counter file is a hint, so a plain temp + rename is enough
    // (readers take the maximum of both). The temp name is unique per call, not just per process.
    const tmp = join(dir, `.${FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      await fh.writeFile(formatUidValidityHex(next));
      await fh.close();
      await rename(tmp, join(dir, FILE));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return next;
  }
  throw new Error(`could not allocate a UIDVALIDITY in ${dir} (too much contention)`);
}
