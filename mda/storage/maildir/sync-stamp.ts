/*
 * Change detection for maildir syncs, as Dovecot 2.3's maildir_sync_quick_check() does with
 * maildir_very_dirty_syncs = no: a directory (or the uidlist) whose stat is the same as at the
 * last scan has not changed, so the last scan's result still holds. Timestamps have a granularity
 * (a coarse kernel clock; a whole second on some filesystems), so a change in the same tick as
 * the one we saw would leave the mtime unchanged: a stamp whose mtime or ctime is within the dirty
 * window of the moment we took it is "dirty" and never reused. A stamp is taken before the read it
 * guards, so a change after the stat but before the read can only make the next stamp differ,
 * never hide a change.
 *
 * The window. Dovecot uses one second (MAILDIR_SYNC_SECS), right for filesystems that keep whole
 * seconds. A local Linux filesystem that keeps nanoseconds (ext4, xfs, btrfs, tmpfs, …) stamps a
 * change with the kernel's coarse clock, one tick (1-10 ms) behind the real time, so once the
 * newest timestamp is FINE_DIRTY_MS (several ticks) in the past, any later change must carry a
 * later timestamp. That window is used only when both hold: the directory is on a known local
 * filesystem (statfs type, asked once per mailbox by the caller: a network filesystem stamps with
 * its server's clock, which may run behind ours) and the stamp itself has a sub-second part (a
 * filesystem keeping whole seconds gives .000000000). Everything else gets Dovecot's second.
 * Why: a mailbox written every second (the IMAP benchmark's mix; any busy shared mailbox) was
 * never settled under the one-second rule, so new/ and cur/ were listed and the uidlist re-read on
 * nearly every command, though the process had usually seen the last change itself.
 *
 * The stat is synchronous, on purpose: it is metadata the kernel holds in its inode cache, a
 * statSync costs ~1.6 µs here against 10-40 µs of main-thread time for the promise API (its
 * thread-pool hop, promise and Stats object), and a sync stamps three or four paths on every
 * IMAP command (7 % of the IMAP server's CPU at 100 clients went to fs.promises.stat).
 * Dovecot's processes stat the same way. Message contents are still read asynchronously.
 *
 * Distrusts: the filesystem's clock only as far as above; a filesystem not in LOCAL_FS_TYPES gets
 * the one-second window, with Dovecot's limit (a server clock running ahead of ours by more than a
 * second could defeat it).
 */
import { statfsSync, statSync } from 'node:fs';

/** How long after a change a directory counts as dirty (Dovecot's MAILDIR_SYNC_SECS). */
export const SYNC_DIRTY_MS = 1000;
/** The window for sub-second timestamps on a local filesystem (see the top of the file). */
export const FINE_DIRTY_MS = 50;

/**
 * statfs f_type of local Linux filesystems that keep sub-second timestamps from the kernel's own
 * clock: ext2/3/4, xfs, btrfs, tmpfs, f2fs, zfs, overlayfs, bcachefs, ramfs.
 */
const LOCAL_FS_TYPES: ReadonlySet<number> = new Set([
  0xef53, 0x58465342, 0x9123683e, 0x01021994, 0xf2f52010, 0x2fc12fc1, 0x794c7630, 0xca451a4e, 0x858458f6,
]);

/**
 * Whether `dir` is on a filesystem whose sub-second timestamps may use FINE_DIRTY_MS; undefined when
 * it cannot be asked (missing: ask again later, and use the one-second window meanwhile).
 */
export function fineClockAt(dir: string): boolean | undefined {
  try {
    return LOCAL_FS_TYPES.has(Number(statfsSync(dir).type));
  } catch {
    return undefined;
  }
}

export interface Stamp {
  /** Identity of the file's state: inode, size, mtime and ctime (ns); 'absent' when missing. */
  readonly key: string;
  /** True when the state is old enough that any later change must alter `key`. */
  readonly settled: boolean;
  /** When it was taken (the `now` given to stampOf). */
  readonly at: number;
}

/**
 * Stamps `path`; `now` is a Date.now() taken before this call; `fineClock` is fineClockAt() of its
 * directory (false: Dovecot's one-second window whatever the timestamps look like).
 */
export function stampOf(path: string, now: number, fineClock = false): Stamp {
  // A missing file (dovecot-keywords usually is) without a thrown error: building the ENOENT error
  // and its stack on every command was 2 % of the IMAP server's CPU. Other errors are thrown.
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (st === undefined) return { key: 'absent', settled: true, at: now };
  const newestNs = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
  const newest = Number(newestNs / 1_000_000n);
  const subSecond = st.mtimeNs % 1_000_000_000n !== 0n || st.ctimeNs % 1_000_000_000n !== 0n;
  const window = fineClock && subSecond ? FINE_DIRTY_MS : SYNC_DIRTY_MS;
  return { key: `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, settled: newest <= now - window, at: now };
}

/**
 * A value remembered for one stamp, reused while the stamp is unchanged, by Dovecot 2.3's rule
 * (maildir_sync_quick_check, DIR_DELAYED_REFRESH): a value read while its stamp was settled holds
 * until the stamp changes; one read while the stamp was dirty holds while the stamp stays the same,
 * and is read once more when that stamp has settled and SYNC_DIRTY_MS have passed since the read
 * (a change made in the same clock tick after the read would not have moved the stamp, so the
 * second read sees it). Until then such a change is not seen, as if it had come a moment later:
 * the delay of at most a second Dovecot also accepts. A further change moves the stamp, and the
 * delay starts again with the next read, as Dovecot's check time moves with each of its own
 * changes: a mailbox this process keeps changing is not listed again after every change.
 * Why not re-read on every dirty stamp: a mailbox written every second (any busy mailbox; the
 * IMAP benchmark's mix) listed cur/ again on most commands.
 */
export class StampedCache<T> {
  private entry: { key: string; value: T; settled: boolean; refreshAt: number } | undefined;

  /** The value for `stamp`, and whether it was read with that stamp settled (complete for certain). */
  lookup(stamp: Stamp): { value: T; settled: boolean } | undefined {
    const e = this.entry;
    if (e === undefined || e.key !== stamp.key) return undefined;
    if (!e.settled && stamp.settled && stamp.at >= e.refreshAt) return undefined; // the delayed second read
    return { value: e.value, settled: e.settled };
  }

  get(stamp: Stamp): T | undefined {
    return this.lookup(stamp)?.value;
  }

  /** Remembers `value` as read with `stamp` (taken before the read). */
  set(stamp: Stamp, value: T): void {
    this.entry = { key: stamp.key, value, settled: stamp.settled, refreshAt: stamp.at + SYNC_DIRTY_MS };
  }

  clear(): void {
    this.entry = undefined;
  }

  /** The stamp key the kept value was read for, if any. */
  keptFor(): string | undefined {
    return this.entry?.key;
  }

  /** Forgets the value if it was read while its stamp was dirty (it may miss a change since). */
  dropIfDirty(): void {
    if (this.entry !== undefined && !this.entry.settled) this.entry = undefined;
  }
}
