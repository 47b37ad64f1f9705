/*
 * Change notification for IMAP IDLE: an in-process hub that our own writers (delivery, APPEND,
 * STORE, EXPUNGE, COPY) poke directly, plus fs.watch on new/ and cur/ so that writes by other
 * processes (real Dovecot, our LMTP in another process, procmail) are noticed too. Listeners only
 * learn "this mailbox may have changed"; they then call refresh() to get the actual changes.
 *
 * Distrusts: fs.watch (it can miss events or fail on some filesystems): events are debounced and
 * a watcher error just stops that watcher; IMAP's periodic NOOP/IDLE keepalive still syncs.
 */
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

type Listener = () => void;

interface Entry {
  listeners: Set<Listener>;
  watchers: FSWatcher[];
  timer: NodeJS.Timeout | undefined;
  /** Set while nobody listens: closes the watchers when it fires. */
  linger: NodeJS.Timeout | undefined;
}

const entries = new Map<string, Entry>();
const DEBOUNCE_MS = 25;
/**
 * How long a mailbox's watchers stay open after its last listener left. A client leaves IDLE for a
 * command and enters it again a moment later; adding an inotify watch to a directory marks every
 * dentry the kernel holds for it (fsnotify_set_children_dentry_flags, which includes the names of
 * renamed-away files), so re-adding it per IDLE cost time in proportion to the mailbox: 3.2 % of the
 * machine in the IMAP bench (docs/performance.md, "Tenth session").
 */
export const WATCH_LINGER_MS = 5000;

function fire(dir: string): void {
  const e = entries.get(dir);
  if (e === undefined || e.timer !== undefined || e.listeners.size === 0) return;
  e.timer = setTimeout(() => {
    e.timer = undefined;
    for (const l of [...e.listeners]) {
      try {
        l();
      } catch {
        /* a listener's failure must not stop the others */
      }
    }
  }, DEBOUNCE_MS);
  e.timer.unref?.();
}

/** Tells listeners of maildir `dir` that it changed (called by our own writers). */
export function notifyMailboxChanged(dir: string): void {
  fire(dir);
}

/** Calls `listener` (debounced) whenever maildir `dir` may have changed. Returns the unsubscribe. */
export function watchMailbox(dir: string, listener: Listener): () => void {
  let e = entries.get(dir);
  if (e?.linger !== undefined) {
    clearTimeout(e.linger);
    e.linger = undefined;
  }
  if (e === undefined) {
    e = { listeners: new Set(), watchers: [], timer: undefined, linger: undefined };
    entries.set(dir, e);
    for (const sub of ['new', 'cur']) {
      try {
        const w = watch(join(dir, sub), { persistent: false }, () => fire(dir));
        w.on('error', () => w.close());
        e.watchers.push(w);
      } catch {
        /* directory missing or watch unsupported: in-process notifications still work */
      }
    }
  }
  e.listeners.add(listener);
  const entry = e;
  return () => {
    if (!entry.listeners.delete(listener) || entry.listeners.size > 0) return;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.linger = setTimeout(() => {
      for (const w of entry.watchers) w.close();
      if (entries.get(dir) === entry) entries.delete(dir);
    }, WATCH_LINGER_MS);
    entry.linger.unref?.();
  };
}

/** How many mailboxes have watchers open (listened to, or lingering). For tests. */
export function watchedMailboxes(): number {
  return entries.size;
}
