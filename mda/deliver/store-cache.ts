/*
 * Keeps a recipient's opened mail store for a moment after a delivery, so a burst of deliveries to
 * the same user opens it (mkdir of the control and index roots, the LMDB sidecar environment) once
 * instead of per message: opening was 15 % of the LMTP server's time in bench/ (docs/performance.md).
 * A store is shared by concurrent deliveries to the same user (the storage API serialises what
 * must be serialised through the uidlist lock and LMDB), closed IDLE_CLOSE_MS after its last user
 * released it, and dropped at once after a failed delivery, so the next one starts from a fresh
 * open. The key is everything the opener reads: the user name and the userdb fields (home, mail).
 * Durability is untouched: stores hold no unwritten data; every save resolves only once durable.
 */
import type { MailUser } from '../mail-user.js';

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

export class DeliveryStoreCache {
  private readonly entries = new Map<string, Entry>();

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
    return { mail, release: (failed) => this.release(key, entry, mail, failed) };
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
    }, IDLE_CLOSE_MS);
    entry.timer.unref();
  }

  /** Closes every idle store (daemon shutdown); stores in use close when released. */
  async closeIdle(): Promise<void> {
    const idle = [...this.entries].filter(([, e]) => e.refs === 0);
    for (const [key, e] of idle) {
      if (e.timer !== undefined) clearTimeout(e.timer);
      this.entries.delete(key);
      await (await e.opened).store.close().catch(() => undefined);
    }
  }
}
