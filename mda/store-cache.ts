/*
 * The users' opened mail stores of one process, shared by everything in it that works on the same
 * user's mail: the IMAP and POP3 sessions of that user, and deliveries to them. Each holder gets a
 * lease; a store is closed IDLE_CLOSE_MS after its last holder gave it back, and dropped from the
 * cache at once after a holder saw it fail (a TEMP or PERM storage error), so the next open starts
 * fresh while current holders finish with theirs. The key is everything the store is opened with (the
 * user, the expanded location and home, the options: mail-user.ts storeKey), so two holders share
 * only a store either would have opened alike.
 *
 * Why sessions share: a store keeps each mailbox's listing, uidlist, pairing and snapshot
 * (storage/maildir/mailbox.ts), about 1.2 KiB per message, and every session of a user opened its
 * own. Measured (a scratch script, heap per session with INBOX selected, 100 sessions of one user):
 * 150 messages 201 KiB each when every session opens its own store, 36 KiB when they share one;
 * 2,000 messages 2.4 MiB against 396 KiB; an empty INBOX 11.1 against 2.2 KiB. Dovecot's processes
 * share their index files through the page cache; sessions in one Node process share the objects.
 * Sharing is safe because the mailbox objects already expect other writers: every sync checks the
 * disk's stamps, and the caches are keyed by the identity of what they were built from. A
 * session's view (storage/maildir/view.ts) stays its own: sequence numbers, \Recent and pending
 * expunges are per session.
 * Why deliveries share: a burst of deliveries to one user opened the store (mkdir of the control
 * and index roots, the LMDB sidecar) once per message: 15 % of the LMTP server's time in bench/
 * (docs/performance.md). And a delivery noted in the shared mailbox object spares the user's
 * sessions a listing of new/ at their next sync.
 * Durability is untouched: stores hold no unwritten data; every save resolves only once durable.
 */
import type { MailUser } from './mail-user.js';

/** How long an unused store stays open (timers are unref'd: they never keep the process alive). */
export const IDLE_CLOSE_MS = 2000;

interface Entry {
  readonly opened: Promise<MailUser>;
  refs: number;
  timer: NodeJS.Timeout | undefined;
  broken: boolean;
}

export interface StoreLease {
  readonly mail: MailUser;
  /** Gives the store back; `failed` drops it from the cache (closed once no one else uses it). */
  release(failed: boolean): Promise<void>;
}

export class MailStoreCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly idleCloseMs = IDLE_CLOSE_MS) {}

  async acquire(key: string, open: () => Promise<MailUser>): Promise<StoreLease> {
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { opened: open(), refs: 0, timer: undefined, broken: false };
      this.entries.set(key, e);
    }
    const entry = e;
    entry.refs++;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    let mail: MailUser;
    try {
      mail = await entry.opened;
    } catch (err) {
      entry.refs--;
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw err;
    }
    let released = false;
    return {
      mail,
      release: async (failed) => {
        // Once per lease: a session's close() may be called again on its way out.
        if (released) return;
        released = true;
        await this.release(key, entry, mail, failed);
      },
    };
  }

  /** Stores open now (held or waiting for their idle close). */
  get size(): number {
    return this.entries.size;
  }

  private async release(key: string, entry: Entry, mail: MailUser, failed: boolean): Promise<void> {
    entry.refs--;
    if (failed) {
      entry.broken = true;
      if (this.entries.get(key) === entry) this.entries.delete(key);
    }
    if (entry.refs > 0) return;
    if (entry.broken) {
      // Not waited for: after a failed LMDB commit (a full disk) lmdb-js's close() never settles,
      // and the delivery's reply must not wait on it (test/mda/deliver/bad-input.test.ts).
      void mail.store.close().catch(() => undefined);
      return;
    }
    entry.timer = setTimeout(() => {
      if (entry.refs > 0 || this.entries.get(key) !== entry) return;
      this.entries.delete(key);
      void mail.store.close().catch(() => undefined);
    }, this.idleCloseMs);
    entry.timer.unref();
  }
}
