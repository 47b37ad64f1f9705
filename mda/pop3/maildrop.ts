/*
 * The maildrop of one POP3 session (RFC 1939 §5, TRANSACTION state), as Dovecot's pop3 keeps it: a snapshot of
 * INBOX taken at login — message numbers, CRLF sizes (the maildir `W`, i.e. virtualSize), UIDLs — that does not
 * change while the session lasts. DELE and RETR only mark messages in memory; update() (UPDATE state, at QUIT)
 * applies them in two storage calls: \Seen for retrieved messages, then one expunge of every deleted message (or,
 * with pop3_deleted_flag / pop3_delete_type = flag, the keyword instead). A session that ends without QUIT
 * still gets its \Seen flags (Dovecot commits them when the client is destroyed) but deletes nothing.
 * With pop3_deleted_flag set, messages already carrying that keyword are hidden from the session.
 *
 * Storage is reached only through the MailboxView of mda/storage/api.ts. Distrusts: message numbers (checked
 * by the commands), sizes missing from the file name (computed).
 */
import type { MailboxView, MessageInfo } from '../storage/api.js';
import { formatUidl } from './proto/uidl.js';
import type { Pop3Settings } from './settings.js';

export interface MaildropMessage {
  readonly uid: number;
  readonly size: number;
  readonly seen: boolean;
  readonly info: MessageInfo;
}

export class Maildrop {
  private readonly deleted = new Set<number>();
  private readonly seenNow = new Set<number>();
  private deletedSizeSum = 0;
  /** Highest message number retrieved or already \Seen (LAST, RFC 1460). */
  lastSeen = 0;

  private constructor(
    readonly view: MailboxView,
    private readonly settings: Pop3Settings,
    readonly messages: readonly MaildropMessage[],
    readonly totalSize: number,
  ) {
    messages.forEach((m, i) => {
      if (m.seen) this.lastSeen = i + 1;
    });
  }

  static async open(view: MailboxView, settings: Pop3Settings): Promise<Maildrop> {
    const flag = settings.pop3_deleted_flag;
    const out: MaildropMessage[] = [];
    let total = 0;
    // Dovecot (pop3-client.c): mails with a POP3 order (uidlist `O`, migrated mail) come first in that
    // order, the rest after them in UID order.
    const ordered = [...view.messages()].sort((a, b) => {
      const oa = a.pop3Order;
      const ob = b.pop3Order;
      if (oa !== undefined && ob !== undefined) return oa - ob || a.uid - b.uid;
      if (oa !== undefined) return -1;
      if (ob !== undefined) return 1;
      return a.uid - b.uid;
    });
    for (const info of ordered) {
      if (flag !== '' && info.flags.includes(flag)) continue;
      const size = info.virtualSize ?? (await view.messageSizes(info.uid)).virtual;
      out.push({ uid: info.uid, size, seen: info.flags.includes('\\Seen'), info });
      total += size;
    }
    return new Maildrop(view, settings, out, total);
  }

  get count(): number {
    return this.messages.length;
  }
  get deletedCount(): number {
    return this.deleted.size;
  }
  get deletedSize(): number {
    return this.deletedSizeSum;
  }
  get anyDeleted(): boolean {
    return this.deleted.size > 0;
  }

  /** 0-based index. */
  isDeleted(index: number): boolean {
    return this.deleted.has(index);
  }

  markDeleted(index: number): void {
    if (this.deleted.has(index)) return;
    this.deleted.add(index);
    this.deletedSizeSum += this.messages[index]!.size;
  }

  /** RETR of a message not yet \Seen (and flag updates allowed). */
  markRetrieved(index: number): void {
    if (index + 1 > this.lastSeen) this.lastSeen = index + 1;
    if (this.settings.pop3_no_flag_updates || this.messages[index]!.seen) return;
    this.seenNow.add(index);
  }

  /** RSET: forget deletions and pending \Seen changes. */
  reset(): void {
    this.deleted.clear();
    this.deletedSizeSum = 0;
    this.seenNow.clear();
    this.lastSeen = 0;
  }

  uidl(index: number): string {
    return formatUidl(this.settings.pop3_uidl_format, this.messages[index]!.info, this.view.uidValidity);
  }

  /** The stored bytes, unconverted (RETR/TOP convert them). */
  read(index: number): Promise<Buffer> {
    return this.view.read(this.messages[index]!.uid);
  }

  /** Applies pending \Seen flags only (session ended without QUIT). */
  async commitSeen(): Promise<void> {
    const uids = [...this.seenNow].filter((i) => !this.deleted.has(i)).map((i) => this.messages[i]!.uid);
    this.seenNow.clear();
    if (uids.length > 0) await this.view.store(uids, { mode: 'add', flags: ['\\Seen'] });
  }

  /** UPDATE state: \Seen for retrieved messages, then every deletion at once. */
  async update(): Promise<void> {
    await this.commitSeen();
    if (this.deleted.size === 0) return;
    const uids = [...this.deleted].sort((a, b) => a - b).map((i) => this.messages[i]!.uid);
    const useFlag = this.settings.pop3_delete_type === 'flag' ||
      (this.settings.pop3_delete_type === 'default' && this.settings.pop3_deleted_flag !== '');
    if (useFlag) await this.view.store(uids, { mode: 'add', flags: [this.settings.pop3_deleted_flag] });
    else await this.view.expunge({ uids, onlyDeleted: false });
  }
}
