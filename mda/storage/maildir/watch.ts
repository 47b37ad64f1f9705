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
}

const entries = new Map<string, Entry>();
const DEBOUNCE_MS = 25;

function fire(dir: string): void {
  const e = entries.get(dir);
  if (e === undefined || e.timer !== undefined) return;
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
  if (e === undefined) {
    e = { listeners: new Set(), watchers: [], timer: undefined };
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
    entry.listeners.delete(listener);
    if (entry.listeners.size === 0) {
      for (const w of entry.watchers) w.close();
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entries.delete(dir);
    }
  };
}
