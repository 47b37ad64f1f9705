/*
 * The runner's temporary directories are removed when the whole run ends, not when a peer stops.
 * Why: on ext4 without a journal (this machine's root filesystem) every file create skips the
 * inodes freed in the last 60 s (360 s while their inode table block is dirty), reading each one's
 * dtime: fs/ext4/ialloc.c recently_deleted(), which applies only when there is no journal. Removing
 * a peer's 15,000-message mail root right before the other side's round made that round's creates
 * (APPEND's tmp/ file, every uidlist lock) walk thousands of such inodes: `perf record -a` showed
 * ext4_create at 15-17 % of the machine's CPU in the round after a removal and 10 % without one,
 * and the first round of a run (which follows no removal) was the reference's fastest in run R.
 * BENCH_KEEP=1 keeps them all.
 */
import { rmSync } from 'node:fs';

const scratch: string[] = [];

/** Removes `dir` when the run ends (removeScratch), unless BENCH_KEEP=1. */
export function removeLater(dir: string): void {
  if (process.env['BENCH_KEEP'] !== '1') scratch.push(dir);
}

/** Removes every directory handed to removeLater. */
export function removeScratch(): void {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
}
