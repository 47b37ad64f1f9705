/*
 * Quota usage and enforcement behind the storage API (Dovecot quota plugin, backends `maildir` and
 * `count`), shared by LMTP delivery, doveadm `quota get` and anything else that saves mail. The
 * caller decides the limits (mda/deliver/quota-rules.ts parses quota/quota_rule); this file keeps
 * the usage: for `maildir`, the Maildir++ `maildirsize` file in the maildir root (the root comes
 * from the store, never re-derived from mail_location); for `count` (and stores without a maildir
 * root), a recount of every selectable mailbox's physical sizes through the MailStore.
 *
 * Over quota is a NOQUOTA StorageError with Dovecot's text `Quota exceeded (mailbox for user is
 * full)`, which LMTP maps to 552 5.2.2 (452 4.2.2 with quota_full_tempfail).
 * Distrusts `maildirsize` (see maildir/maildirsize.ts): anything odd triggers a recount, written to a
 * temp file and renamed over the old one; deltas are appended with O_APPEND as Courier and Dovecot do.
 */
import { appendFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { StorageError } from './errors.js';
import { formatLimits, MAILDIRSIZE_MAX_AGE_MS, parseMaildirSize } from './maildir/maildirsize.js';
import type { MailQuota, MailStore, QuotaLimits, QuotaRoot, QuotaUsage } from './api.js';

export const QUOTA_EXCEEDED_TEXT = 'Quota exceeded (mailbox for user is full)';

/** Sum of physical sizes and message count over all selectable mailboxes. */
export async function storeUsage(store: MailStore): Promise<QuotaUsage> {
  let bytes = 0;
  let count = 0;
  for (const e of await store.list()) {
    if (e.attributes.includes('\\Noselect') || e.attributes.includes('\\NonExistent')) continue;
    const view = await store.openMailbox(e.name, { readOnly: true, dropRecent: false });
    try {
      for (const m of view.messages()) {
        bytes += m.physicalSize ?? (await view.messageSizes(m.uid)).physical;
        count++;
      }
    } finally {
      await view.close();
    }
  }
  return { bytes, count };
}

export class StoreQuota implements MailQuota {
  constructor(
    readonly root: QuotaRoot,
    private readonly store: MailStore,
    /** `<maildir root>/maildirsize` for the maildir backend; undefined = recount every time. */
    private readonly file: string | undefined,
  ) {}

  private async recount(file: string): Promise<QuotaUsage> {
    const u = await storeUsage(this.store);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${formatLimits(this.root.bytes, this.root.messages)}\n${u.bytes} ${u.count}\n`, { mode: 0o600 });
    await rename(tmp, file);
    return u;
  }

  async usage(): Promise<QuotaUsage> {
    const file = this.file;
    if (file === undefined) return storeUsage(this.store);
    let text: string | undefined;
    let mtime = 0;
    try {
      text = await readFile(file, 'latin1');
      mtime = (await stat(file)).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const parsed = text === undefined ? undefined : parseMaildirSize(text);
    if (parsed === undefined || parsed.bytesLimit !== this.root.bytes || parsed.countLimit !== this.root.messages) return this.recount(file);
    const over = (this.root.bytes > 0 && parsed.bytes > this.root.bytes) || (this.root.messages > 0 && parsed.count > this.root.messages);
    if (over && (parsed.lines > 1 || Date.now() - mtime > MAILDIRSIZE_MAX_AGE_MS)) return this.recount(file);
    return { bytes: parsed.bytes, count: parsed.count };
  }

  async check(limits: QuotaLimits, size: number): Promise<void> {
    if (limits.ignore || (limits.bytes === 0 && limits.messages === 0)) {
      // Dovecot keeps maildirsize current even when nothing is enforced for this mailbox.
      if (this.file !== undefined) await this.usage();
      return;
    }
    const u = await this.usage();
    if ((limits.bytes > 0 && u.bytes + size > limits.bytes) || (limits.messages > 0 && u.count + 1 > limits.messages)) {
      throw new StorageError('NOQUOTA', QUOTA_EXCEEDED_TEXT, `quota ${this.root.name}: used ${u.bytes}B/${u.count} + ${size}B > ${limits.bytes}B/${limits.messages}`);
    }
  }

  async record(size: number): Promise<void> {
    if (this.file !== undefined) await appendFile(this.file, `${size} 1\n`, { mode: 0o600 });
  }
}
