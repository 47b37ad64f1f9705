/*
 * Atomic, durable file replacement: write a temporary file in the same directory, fsync it,
 * rename it over the target, fsync the directory. A failure at any point leaves the original
 * file intact (the temporary file is removed), which is what `postconf -e` and `postmap` promise.
 */
import { open, rename, unlink, stat } from 'node:fs/promises';
import { open as openCb, openSync, readSync, writeSync, fsync, fsyncSync, closeSync, renameSync, unlinkSync, statSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

function tempName(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

/**
 * Writes all of `buf`, at the descriptor's position or from byte `at` of the file: write(2) may
 * write less than asked (a filling disk writes what fits, and only the next call fails with
 * ENOSPC), so one call could leave a silently truncated file.
 */
export function writeAllSync(fd: number, buf: Uint8Array, at?: number): void {
  for (let off = 0; off < buf.length;) {
    const n = writeSync(fd, buf, off, buf.length - off, at === undefined ? null : at + off);
    if (n <= 0) throw Object.assign(new Error('write() wrote nothing'), { code: 'EIO' });
    off += n;
  }
}

/**
 * Up to `length` bytes of `fd` from byte `position`, fewer only at end of file: read(2) may return
 * less than asked before the end (the twin of writeAllSync).
 */
export function readAtSync(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** Replaces `target` with `data` durably. Keeps the original file's mode when it exists. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mode?: number): Promise<void> {
  let fileMode = mode;
  if (fileMode === undefined) {
    try {
      fileMode = (await stat(target)).mode & 0o7777;
    } catch {
      fileMode = 0o644;
    }
  }
  const tmp = tempName(target);
  const fh = await open(tmp, 'wx', fileMode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(target));
}

/** Synchronous twin of writeFileAtomic, for CLI tools that are synchronous end to end. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array, mode?: number): void {
  let fileMode = mode;
  if (fileMode === undefined) {
    try {
      fileMode = statSync(target).mode & 0o7777;
    } catch {
      fileMode = 0o644;
    }
  }
  const tmp = tempName(target);
  const fd = openSync(tmp, 'wx', fileMode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    writeAllSync(fd, buf);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, target);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  fsyncDirSync(dirname(target));
}

/**
 * fsync(2) of an open descriptor on the thread pool: it waits for the disk. Callers on the mail
 * store write, rename and close synchronously (docs/architecture.md, "Local file-system calls");
 * this and file creation (openFd) go off the event loop.
 */
export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** unlink(2), ignoring any failure: for clean-up paths where the file may already be gone. */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * open(2) on the thread pool, for creating files (O_CREAT). A create needs an ext4 journal handle,
 * and starting one waits while a journal commit (anybody's fsync) holds the journal: done
 * synchronously, the LMTP end-to-end bench (one maildir, concurrent deliveries) spent half of the
 * MDA's samples blocked in open(O_CREAT|O_EXCL) and ran 30 % slower. Renames and unlinks also take
 * a handle but showed 1-2 % there, and are kept synchronous.
 */
export function openFd(path: string, flags: string, mode?: number): Promise<number> {
  return new Promise((resolve, reject) => openCb(path, flags, mode, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** fsync a directory so a rename or create inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
