/*
 * Quota enforcement at delivery (Dovecot quota plugin, backends `maildir` and `count`): before a
 * message is saved, used + size is compared with the limits (quota-rules.ts); over → a NOQUOTA
 * StorageError with Dovecot's text `Quota exceeded (mailbox for user is full)`, which LMTP turns
 * into 552 5.2.2 (452 4.2.2 with quota_full_tempfail). After a save the `maildir` backend appends
 * `<size> 1` to `maildirsize` (O_APPEND, as Courier and Dovecot do).
 *
 * Usage for a recount comes through the storage API (every mailbox's physical sizes); only the
 * `maildirsize` file itself is touched directly, in the maildir root named by mail_location.
 * The storage API has no quota call yet; if it gets one, this file should move behind it.
 *
 * Distrusts `maildirsize` (see maildirsize.ts): anything odd triggers a recount; the recount is
 * written to a temp file and renamed over the old one.
 */
import { appendFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError, type MailStore } from '../storage/api.js';
import { limitsFor, type QuotaConfig } from './quota-rules.js';
import { formatLimits, MAILDIRSIZE_MAX_AGE_MS, parseMaildirSize } from './maildirsize.js';

export const QUOTA_EXCEEDED_TEXT = 'Quota exceeded (mailbox for user is full)';

export interface QuotaUsage {
  readonly bytes: number;
  readonly count: number;
}

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

/** The maildir root of a `maildir:` mail_location (first field, `~` = home); undefined otherwise. */
export function maildirRoot(location: string, home: string | undefined): string | undefined {
  if (!location.startsWith('maildir:')) return undefined;
  let root = '';
  const s = location.slice('maildir:'.length);
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ':') {
      if (s[i + 1] === ':') {
        root += ':';
        i++;
        continue;
      }
      break;
    }
    root += s[i];
  }
  if (root === '~' || root.startsWith('~/')) {
    if (home === undefined || home === '') return undefined;
    root = home + root.slice(1);
  }
  return root.startsWith('/') ? root : undefined;
}

export class UserQuota {
  constructor(
    private readonly cfg: QuotaConfig,
    private readonly store: MailStore,
    /** Maildir root for the `maildir` backend. */
    private readonly root: string | undefined,
  ) {}

  private get file(): string | undefined {
    return this.cfg.backend === 'maildir' && this.root !== undefined ? join(this.root, 'maildirsize') : undefined;
  }

  private async recount(file: string): Promise<QuotaUsage> {
    const u = await storeUsage(this.store);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${formatLimits(this.cfg.root.bytes, this.cfg.root.messages)}\n${u.bytes} ${u.count}\n`, { mode: 0o600 });
    await rename(tmp, file);
    return u;
  }

  /** Current usage (recounting when maildirsize is missing, broken or stale). */
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
    if (parsed === undefined || parsed.bytesLimit !== this.cfg.root.bytes || parsed.countLimit !== this.cfg.root.messages) return this.recount(file);
    const over = (this.cfg.root.bytes > 0 && parsed.bytes > this.cfg.root.bytes) || (this.cfg.root.messages > 0 && parsed.count > this.cfg.root.messages);
    if (over && (parsed.lines > 1 || Date.now() - mtime > MAILDIRSIZE_MAX_AGE_MS)) return this.recount(file);
    return { bytes: parsed.bytes, count: parsed.count };
  }

  /** Throws NOQUOTA when a message of `size` bytes does not fit into `mailbox`. */
  async check(mailbox: string, size: number): Promise<void> {
    const limits = limitsFor(this.cfg, mailbox);
    if (limits.ignore || (limits.bytes === 0 && limits.messages === 0)) {
      if (this.file !== undefined) await this.usage();
      return;
    }
    const u = await this.usage();
    if ((limits.bytes > 0 && u.bytes + size > limits.bytes) || (limits.messages > 0 && u.count + 1 > limits.messages)) {
      throw new StorageError('NOQUOTA', QUOTA_EXCEEDED_TEXT, `quota ${this.cfg.name}: used ${u.bytes}B/${u.count} + ${size}B > ${limits.bytes}B/${limits.messages}`);
    }
  }

  /** Records a saved message (maildir backend). */
  async record(size: number): Promise<void> {
    const file = this.file;
    if (file !== undefined) await appendFile(file, `${size} 1\n`, { mode: 0o600 });
  }
}
