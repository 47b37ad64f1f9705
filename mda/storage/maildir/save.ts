/*
 * Saving a message into a maildir: the LMTP/LDA delivery path and IMAP APPEND (Dovecot 2.3
 * maildir-save.c). Input CRLF becomes LF (`mail_save_crlf = no`); the file is written to tmp/,
 * fsync'd, renamed into new/ (no flags, as LMTP does) or cur/`:2,<flags>` (APPEND with flags),
 * the directory is fsync'd, and only then is the UID assigned through the uidlist. The base name
 * is `<sec>.M<usec>P<pid>.<host>,S=<size>,W=<vsize>`, unique within the process by bumping usec.
 *
 * Distrusts: the message stream (any bytes; it may fail half-way: the tmp file is then removed)
 * and the clock (usec is bumped so two saves in one microsecond still get distinct names).
 */
import { closeSync, renameSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fsyncDir, fsyncFd, openFd, unlinkQuietly, writeAllSync } from '../../../shared/fs/atomic.js';
import { encodeFlagLetters, formatFilename, formatUniqueBase, withSizes, type SystemFlag } from './filename.js';
import type { MaildirMailbox } from './mailbox.js';
import { stampOf } from './sync-stamp.js';

export interface SaveInput {
  readonly data: Uint8Array | AsyncIterable<Uint8Array>;
  readonly system?: readonly SystemFlag[];
  readonly keywords?: readonly string[];
  /** INTERNALDATE; becomes the file's mtime. */
  readonly internalDate?: Date;
}

export interface SaveResult {
  readonly uid: number;
  readonly uidValidity: number;
  readonly basename: string;
  readonly size: number;
  readonly vsize: number;
}

let lastSec = 0;
let lastUsec = 0;

/** Dovecot's maildir_filename_generate(): time-based, bumped to stay unique within the process. */
export function nextUniqueName(host = hostname()): string {
  const nowUs = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  let sec = Math.floor(nowUs / 1_000_000);
  let usec = nowUs % 1_000_000;
  if (sec < lastSec || (sec === lastSec && usec <= lastUsec)) {
    sec = lastSec;
    usec = lastUsec + 1;
    if (usec === 1_000_000) {
      sec++;
      usec = 0;
    }
  }
  lastSec = sec;
  lastUsec = usec;
  return formatUniqueBase(sec, usec, process.pid, host);
}

async function* chunks(data: Uint8Array | AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  if (data instanceof Uint8Array) yield data;
  else yield* data;
}

/** Writes `data` with CRLF -> LF to `fh`; returns [size, vsize]. */
async function writeLf(fd: number, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<[number, number]> {
  let size = 0;
  let lfs = 0;
  let pendingCr = false;
  let lastWasCr = false;
  for await (const chunk of chunks(data)) {
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let o = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (pendingCr) {
        pendingCr = false;
        if (b !== 0x0a) {
          out[o++] = 0x0d;
          lastWasCr = true;
        }
      }
      if (b === 0x0d) {
        pendingCr = true;
        continue;
      }
      if (b === 0x0a && !lastWasCr) lfs++;
      lastWasCr = false;
      out[o++] = b;
    }
    if (o > 0) {
      writeAllSync(fd, out.subarray(0, o));
      size += o;
    }
  }
  if (pendingCr) {
    writeAllSync(fd, Buffer.from([0x0d]));
    size++;
  }
  return [size, size + lfs];
}

/** Saves one message; resolves only once it is durable in new/ or cur/ and has a UID. */
export async function saveMessage(box: MaildirMailbox, input: SaveInput, host = hostname()): Promise<SaveResult> {
  const system = input.system ?? [];
  const kwIdx = (input.keywords?.length ?? 0) > 0 ? await box.keywords.indexesOf(input.keywords!) : [];
  const dir = box.paths.dir;
  let unique = '';
  let tmpPath = '';
  let fd: number | undefined;
  for (let attempt = 0; fd === undefined; attempt++) {
    unique = nextUniqueName(host);
    tmpPath = join(dir, 'tmp', unique);
    try {
      fd = await openFd(tmpPath, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw err;
    }
  }
  let size: number;
  let vsize: number;
  try {
    [size, vsize] = await writeLf(fd, input.data);
    // DURABILITY: the message bytes must be on disk before the rename publishes the file in
    // new/ or cur/; a crash before this leaves only a tmp/ file (removed after 36 h), never a
    // truncated message that readers would see.
    await fsyncFd(fd);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* the write's or fsync's error is the one to report */
    }
    unlinkQuietly(tmpPath);
    throw err;
  }
  closeSync(fd);
  const basename = withSizes(unique, size, vsize);
  const letters = encodeFlagLetters(system, kwIdx);
  const sub = letters === '' ? 'new' : 'cur';
  const finalName = letters === '' ? basename : formatFilename(basename, letters);
  // The directory's stamp around the rename: the sync after this save may derive its listing from
  // the last one plus this file while nobody else changed the directory (mailbox.ts noteOwnSave).
  let stampBefore = '';
  let stampAfter = '';
  try {
    if (input.internalDate !== undefined) {
      const t = input.internalDate.getTime() / 1000;
      utimesSync(tmpPath, t, t);
    }
    stampBefore = stampOf(join(dir, sub), Date.now()).key;
    renameSync(tmpPath, join(dir, sub, finalName));
    stampAfter = stampOf(join(dir, sub), Date.now()).key;
  } catch (err) {
    unlinkQuietly(tmpPath);
    throw err;
  }
  // DURABILITY: fsync the directory so the rename survives a crash. Between the rename and this
  // point a crash may lose the message; the caller has not acknowledged it yet, so the sender
  // retries (at-least-once). The uidlist update runs while the fsync waits for the disk: both
  // finish before the caller acknowledges, and either order on disk is safe after a crash (a
  // record whose file is gone is dropped at the next sync; a file without a record gets its UID
  // there). One wait instead of two: each is a turn of an event loop other sessions share
  // (docs/performance.md, "Twelfth session").
  const [, list] = await Promise.all([fsyncDir(join(dir, sub)), box.uidlist.update({ add: [basename] })]);
  // From the end: the new record is among the last ones.
  const rec = list.records.findLast((r) => r.basename === basename);
  if (rec === undefined) throw new Error(`uidlist has no record for ${basename} after update`);
  box.noteOwnSave(sub, finalName, list, stampBefore, stampAfter);
  // RFC 8514 SAVEDATE: the time the message was saved into this mailbox (Dovecot caches it at save).
  // Not awaited: the save date is a cache entry, not part of the delivery's durability (DESIGN.md
  // §3), and a reader that finds no entry yet records one itself in a later transaction, which
  // commits after this one and so reads this value (sidecar.ts). A failure only loses the cache
  // entry (the reader then falls back to the file's ctime, as for a file we did not save).
  void box.sidecar.recordSaveDates(list.guid ?? box.paths.dir, [{ uid: rec.uid, seconds: Math.floor(Date.now() / 1000) }], true).catch(() => undefined);
  return { uid: rec.uid, uidValidity: list.uidValidity, basename, size, vsize };
}
