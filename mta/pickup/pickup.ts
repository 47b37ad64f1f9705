/*
 * pickup(8): takes locally submitted mail from $queue_directory/maildrop into the queue. The MTA
 * main calls startPickup(); it scans maildrop at start, whenever the directory changes (fs.watch)
 * and every `pollSeconds` (Postfix's pickup wakes up every 60 s as well), feeds each complete file
 * to cleanup with origin 'pickup', and deletes the file only after cleanup reported the message
 * durable in the queue. Logs `QID: uid=N from=<sender>` as Postfix's pickup.
 *
 * Files: names starting with `.` are sendmail's temporary files (ignored; removed when older than
 * a day). A file that is not a complete maildrop file (no trailer) is retried later unless it is
 * older than an hour, then moved aside like an unreadable file: renamed into `maildrop/.corrupt-*`
 * and logged. Cleanup's permanent refusals (size limit, no recipients) are logged and the file
 * removed; temporary ones leave it for the next scan.
 * Distrusts the files (any local user writes them): parsed by maildrop-format.ts with validation.
 */
import { readdir, readFile, rename, stat, unlink, mkdir } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Log } from '../../shared/log/logger.js';
import type { Cleanup } from '../cleanup/api.js';
import { mtaEvents } from '../log-events.js';
import { decodeMaildrop, MaildropFormatError } from './maildrop-format.js';

export interface PickupOptions {
  queueDirectory: string;
  cleanup: Cleanup;
  log: Log;
  pollSeconds?: number;
  now?: () => number;
}

export interface Pickup {
  /** One scan now (tests, and the daemon's wake-ups). Resolves when the scan is done. */
  scan(): Promise<number>;
  stop(): void;
}

export function maildropDir(queueDirectory: string): string {
  return join(queueDirectory, 'maildrop');
}

/** Processes one maildrop file; returns true when it was consumed. */
async function pickOne(o: PickupOptions, path: string, name: string): Promise<boolean> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch {
    return false; // gone meanwhile
  }
  let parsed;
  try {
    parsed = decodeMaildrop(data);
  } catch (err) {
    if (!(err instanceof MaildropFormatError)) throw err;
    const age = (o.now ?? Date.now)() - (await stat(path)).mtimeMs;
    if (err.message === 'incomplete file' && age < 3600_000) return false;
    o.log.warn(`maildrop/${name}: ${err.message}: moved to maildrop/.corrupt-${name}`);
    await rename(path, join(maildropDir(o.queueDirectory), `.corrupt-${name}`));
    return true;
  }
  const e = parsed.envelope;
  const content = data.subarray(parsed.contentStart, parsed.contentEnd);
  const res = await o.cleanup.submit(
    {
      origin: 'pickup',
      sender: e.sender,
      recipients: e.recipients.map((address) => (e.notify ? { address, notify: e.notify } : { address })),
      localUid: e.uid,
      ...(e.fullName !== undefined ? { fullName: e.fullName } : {}),
      ...(e.envid !== undefined ? { envid: e.envid } : {}),
      ...(e.ret !== undefined ? { ret: e.ret } : {}),
      ...(e.bodyType !== undefined ? { bodyType: e.bodyType } : {}),
      extractRecipients: e.extract,
    },
    content,
  );
  if (res.kind === 'rejected') {
    if (res.reply.code < 500) return false;
    o.log.warn(`maildrop/${name}: message from uid=${e.uid} from=<${e.sender}> refused: ${res.reply.code} ${res.reply.enhanced ?? ''} ${res.reply.text}`.replace(/  +/g, ' '));
  } else {
    o.log.info(mtaEvents.pickup.accepted(res.queueId, e.uid, e.sender));
  }
  // DURABILITY: cleanup resolved `queued` only after the queue commit was fsync'd, so the
  // maildrop copy can go. Crash window: between that commit and this unlink the file is picked up
  // again after a restart and the message queued twice (duplicate, never lost).
  await unlink(path);
  return true;
}

export function startPickup(o: PickupOptions): Pickup {
  const dir = maildropDir(o.queueDirectory);
  let running: Promise<number> | undefined;
  let again = false;
  let watcher: FSWatcher | undefined;
  let stopped = false;
  const scanOnce = async (): Promise<number> => {
    await mkdir(dir, { recursive: true, mode: 0o730 });
    let n = 0;
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      if (name.startsWith('.')) {
        if (!name.startsWith('.corrupt-')) {
          const st = await stat(path).catch(() => undefined);
          if (st && (o.now ?? Date.now)() - st.mtimeMs > 86_400_000) await unlink(path).catch(() => undefined);
        }
        continue;
      }
      try {
        if (await pickOne(o, path, name)) n++;
      } catch (err) {
        o.log.warn(`maildrop/${name}: ${(err as Error).message}`);
      }
    }
    return n;
  };
  const scan = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      do {
        again = false;
        total += await scanOnce();
      } while (again);
      running = undefined;
      return total;
    })();
    return running;
  };
  const timer = setInterval(() => void scan().catch((err: Error) => o.log.warn(`pickup: ${err.message}`)), (o.pollSeconds ?? 60) * 1000);
  timer.unref();
  void scan()
    .then(() => {
      if (stopped) return;
      try {
        watcher = watch(dir, () => void scan().catch(() => undefined));
      } catch {
        /* polling only */
      }
    })
    .catch((err: Error) => o.log.warn(`pickup: ${err.message}`));
  return {
    scan,
    stop: () => {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
    },
  };
}
