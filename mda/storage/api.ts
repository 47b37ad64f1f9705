/*
 * The storage API: the only door to mail for the MDA's protocol code (LMTP delivery, IMAP, POP3,
 * doveadm-style tools). Protocol-neutral, shaped after Dovecot's lib-storage: a MailStore per user
 * (mailbox list, subscriptions, status, delivery) and a MailboxView per session (a snapshot with
 * sequence numbers that changes only when the session calls refresh(), as IMAP requires).
 *
 * How the protocols use it:
 * - LMTP/LDA: `store = await openMailStore({mailLocation, home, user})`, then
 *   `await store.deliver('INBOX', stream)`; it resolves only when the file is fsync'd in new/ and
 *   has a UID, so the 250 reply may follow. NOTFOUND for a missing folder (fall back to INBOX),
 *   NOQUOTA -> 552, anything else is TEMP -> 451.
 * - IMAP: SELECT = `store.openMailbox(name, {readOnly: false, dropRecent: true})`, EXAMINE =
 *   `{readOnly: true}`; FETCH/STORE/SEARCH use `view.messages()`; NOOP/IDLE/after commands call
 *   `view.refresh()` and turn its result into EXPUNGE/EXISTS/RECENT/FETCH; IDLE registers
 *   `view.watch()` and calls refresh() when it fires. STATUS = `store.status(name)`.
 * - POP3: `openMailbox('INBOX', {readOnly: false, dropRecent: !pop3_no_flag_updates})`; LIST sizes
 *   are `virtualSize`; UIDL is `pop3Uidl ?? %08X(uid)%08X(uidValidity)`; DELE at QUIT =
 *   `view.expunge({uids, onlyDeleted: false})`. pop3_lock_session = `store.lockPop3Session?.(…)`,
 *   the dotlock real Dovecot's pop3 takes too (pop3-session-lock.ts).
 *
 * Names are UTF-8 (IMAP decodes modified UTF-7 from the client); the hierarchy separator is
 * `store.separator`. Flags are IMAP spellings: system flags with a backslash, keywords without;
 * \Recent is never a stored flag (see MessageInfo.recent). Every failure is a StorageError.
 */
import type { Readable } from 'node:stream';
import { StorageError, type StorageErrorKind } from './errors.js';
import { openMaildirStore } from './maildir/store.js';
import type { Pop3SessionLock, Pop3SessionLockOptions } from './pop3-session-lock.js';
import { StoreQuota } from './quota.js';

export { DELETED_UNDER_US_TEXT, StorageError, INTERNAL_ERROR_TEXT, isStorageError } from './errors.js';
export { QUOTA_EXCEEDED_TEXT } from './quota.js';
export type { Pop3SessionLock, Pop3SessionLockOptions } from './pop3-session-lock.js';
export type { StorageErrorKind };

export type SystemFlag = '\\Answered' | '\\Flagged' | '\\Deleted' | '\\Seen' | '\\Draft';
export const SYSTEM_FLAGS: readonly SystemFlag[] = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

export type SpecialUse = '\\All' | '\\Archive' | '\\Drafts' | '\\Flagged' | '\\Junk' | '\\Sent' | '\\Trash';

export interface OpenStoreOptions {
  /** `mail_location` with %-variables already expanded (or see `expand`). */
  readonly mailLocation: string;
  readonly home?: string;
  readonly user: string;
  /** Expands %-variables in mailLocation (e.g. shared/config/dovecot/var-expand.ts). */
  readonly expand?: (template: string) => string;
  /** Namespace hierarchy separator clients see; default `.` (Maildir++) or `/` (LAYOUT=fs). */
  readonly separator?: string;
  /** Special-use attributes from the namespace's `mailbox { special_use = … }` blocks. */
  readonly specialUse?: Readonly<Record<string, SpecialUse>>;
  /** Hostname for new filenames (default os.hostname()). */
  readonly hostname?: string;
}

export interface MailboxListEntry {
  readonly name: string;
  readonly separator: string;
  /** `\Noselect`/`\NonExistent`, `\HasChildren`/`\HasNoChildren`, `\Subscribed`, special-use. */
  readonly attributes: readonly string[];
}

export type StatusItem = 'messages' | 'recent' | 'uidnext' | 'uidvalidity' | 'unseen' | 'highestmodseq' | 'size';

export interface MailboxStatus {
  readonly messages: number;
  readonly recent: number;
  readonly uidNext: number;
  readonly uidValidity: number;
  readonly unseen: number;
  readonly highestModseq: number;
  /** Sum of virtual (CRLF) sizes: STATUS=SIZE. */
  readonly size: number;
  /** Sequence number of the first unseen message, or 0 (SELECT's [UNSEEN n]). */
  readonly firstUnseenSeq: number;
  /** The mailbox GUID where the backend has one (maildir: the uidlist's; doveadm's `guid`). */
  readonly guid?: string;
}

export interface SaveOptions {
  readonly flags?: readonly string[];
  /** INTERNALDATE (file mtime). */
  readonly internalDate?: Date;
}

export interface SaveResult {
  readonly uid: number;
  readonly uidValidity: number;
  /** The maildir base name, also the message's GUID (X-GUID). */
  readonly guid: string;
}

export interface MailStore {
  readonly user: string;
  readonly separator: string;
  list(opts?: { subscribedOnly?: boolean }): Promise<MailboxListEntry[]>;
  create(name: string): Promise<void>;
  delete(name: string): Promise<void>;
  /** Renames a mailbox and all its children. */
  rename(from: string, to: string): Promise<void>;
  subscribe(name: string): Promise<void>;
  unsubscribe(name: string): Promise<void>;
  subscriptions(): Promise<string[]>;
  status(name: string): Promise<MailboxStatus>;
  openMailbox(name: string, opts: { readOnly: boolean; dropRecent?: boolean }): Promise<MailboxView>;
  /** LMTP/LDA path: durable in new/ with a UID before it resolves. */
  deliver(name: string, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<SaveResult>;
  /** IMAP APPEND. */
  append(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts?: SaveOptions): Promise<SaveResult>;
  /** Calls `listener` when mailbox `name` may have changed (by anyone). */
  watch(name: string, listener: () => void): () => void;
  /**
   * pop3_lock_session across processes: Dovecot's `dovecot-pop3-session.lock`. Undefined when
   * another session (ours or real Dovecot's) held it for all of `timeoutMs`; other failures are
   * TEMP. Optional: a backend without it has only the caller's in-process exclusion.
   */
  lockPop3Session?(opts: Pop3SessionLockOptions): Promise<Pop3SessionLock | undefined>;
  close(): Promise<void>;
}

export interface MessageInfo {
  readonly seq: number;
  readonly uid: number;
  /** System flags (Dovecot's order) then keywords (dovecot-keywords order); no \Recent. */
  readonly flags: readonly string[];
  readonly recent: boolean;
  readonly modseq: number;
  readonly guid: string;
  /** From the filename / uidlist when known; else computed by messageSizes(). */
  readonly physicalSize: number | undefined;
  readonly virtualSize: number | undefined;
  readonly pop3Uidl: string | undefined;
  /**
   * POP3 message order kept with migrated mail (Dovecot's `O` uidlist field, written by its
   * migration tools); POP3 lists these first, in this order. Absent for ordinary mail.
   */
  readonly pop3Order?: number;
}

export interface SyncChanges {
  /** UIDs that are gone, ascending; IMAP emits EXPUNGE for their old seqs from the highest down. */
  readonly expunged: readonly number[];
  /** Sequence numbers those UIDs had before this refresh, descending (ready for EXPUNGE). */
  readonly expungedSeqs: readonly number[];
  /** Messages that appeared (now at the end of messages()). */
  readonly added: readonly MessageInfo[];
  /** Messages whose flags or modseq changed (not counting this view's own store() calls). */
  readonly flagChanges: readonly MessageInfo[];
  readonly exists: number;
  readonly recent: number;
  /** Keywords defined in the mailbox (for the untagged FLAGS reply); changed when true. */
  readonly keywordsChanged: boolean;
}

export type StoreMode = 'add' | 'remove' | 'replace';

export interface StoreRequest {
  readonly mode: StoreMode;
  readonly flags: readonly string[];
  /** CONDSTORE UNCHANGEDSINCE: messages with a higher modseq are left alone and returned in `modified`. */
  readonly unchangedSince?: number;
}

export interface StoreResult {
  readonly updated: readonly MessageInfo[];
  /** UIDs that failed UNCHANGEDSINCE. */
  readonly modified: readonly number[];
  /** A new keyword was defined: IMAP sends FLAGS and PERMANENTFLAGS before the FETCHes. */
  readonly keywordsChanged: boolean;
}

export interface CopyResult {
  readonly uidValidity: number;
  readonly srcUids: readonly number[];
  readonly dstUids: readonly number[];
}

export interface ReadOptions {
  /** Convert bare LF to CRLF (what IMAP/POP3 send); sizes then match virtualSize. */
  readonly crlf?: boolean;
  /** Byte range [start, end) of the (possibly converted) message. */
  readonly start?: number;
  readonly end?: number;
}

/**
 * Values the IMAP server computes from a message's content, as a backend keeps them across
 * sessions, processes and restarts (Dovecot's dovecot.index.cache fields imap.envelope,
 * imap.bodystructure, imap.body and hdr.*). Each is exactly what would be computed from the file.
 */
export interface ContentRecord {
  readonly envelope?: string;
  readonly bodystructure?: string;
  readonly body?: string;
  /** The top-level header fields, name and value alternating (message/header.ts's parse). */
  readonly header?: readonly string[];
}

/** A backend's keeping of ContentRecords, per message of one open mailbox. */
export interface ContentStore {
  /** What is kept for message `uid` if it was computed for its file `guid` (MessageInfo.guid). */
  get(uid: number, guid: string): ContentRecord | undefined;
  /**
   * Adds values for message `uid` (file `guid`), merged with those kept. Written later, in
   * batches; a failed write only loses the cache, never fails the caller.
   */
  add(uid: number, guid: string, values: ContentRecord): void;
}

export interface MailboxView {
  readonly name: string;
  readonly readOnly: boolean;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly highestModseq: number;
  /** The session snapshot: index i = sequence number i + 1. */
  messages(): readonly MessageInfo[];
  bySeq(seq: number): MessageInfo | undefined;
  byUid(uid: number): MessageInfo | undefined;
  /** Keywords defined in this mailbox (for FLAGS / PERMANENTFLAGS). */
  keywords(): readonly string[];
  status(): MailboxStatus;
  refresh(): Promise<SyncChanges>;
  store(uids: readonly number[], req: StoreRequest): Promise<StoreResult>;
  copy(uids: readonly number[], dest: string): Promise<CopyResult>;
  move(uids: readonly number[], dest: string): Promise<CopyResult>;
  /** Unlinks messages (default: only \Deleted ones, limited to `uids` when given). Reported by the next refresh(). */
  expunge(opts?: { uids?: readonly number[]; onlyDeleted?: boolean }): Promise<number[]>;
  read(uid: number, opts?: ReadOptions): Promise<Buffer>;
  stream(uid: number, opts?: { crlf?: boolean }): Promise<Readable>;
  messageSizes(uid: number): Promise<{ physical: number; virtual: number }>;
  internalDate(uid: number): Promise<Date>;
  /** INTERNALDATE if the view knows it without a read (undefined otherwise). Optional. */
  internalDateNow?(uid: number): Date | undefined;
  /**
   * RFC 8514 SAVEDATE: when the message was saved into this mailbox (delivery, APPEND, COPY or
   * MOVE). Optional: a backend without save dates leaves it out; read it through saveDateOf().
   */
  saveDate?(uid: number): Promise<Date>;
  /** QRESYNC: UIDs expunged after `modseq`. */
  vanishedSince(modseq: number): Promise<number[]>;
  watch(listener: () => void): () => void;
  /**
   * False only when refresh() would certainly report nothing (a cheap check of the files' stamps);
   * optional: without it, callers refresh.
   */
  mayHaveChanged?(): boolean;
  /**
   * Whether the mailbox the view opened is still there (not deleted, renamed away, or replaced by a
   * new one of its name): asked after a failure, to tell a mailbox deleted under the view.
   */
  exists(): Promise<boolean>;
  /**
   * Where content-derived values of this mailbox's messages are kept beyond the process (optional:
   * without it, or without a mailbox GUID, the IMAP server keeps them in memory only).
   */
  readonly contentStore?: ContentStore;
  close(): Promise<void>;
}

/** Opens a user's mail store from a resolved `mail_location`. */
export async function openMailStore(opts: OpenStoreOptions): Promise<MailStore> {
  const location = opts.expand !== undefined ? opts.expand(opts.mailLocation) : opts.mailLocation;
  const driver = location.split(':', 1)[0];
  if (driver === 'maildir') return openMaildirStore({ ...opts, mailLocation: location });
  throw new StorageError('NOTPOSSIBLE', 'Unsupported mail storage', `mail_location driver ${JSON.stringify(driver)} is not supported`);
}

/**
 * The mailbox GUID of an open view (Dovecot's mailbox-guid: the `G` field of dovecot-uidlist for
 * maildir), or '' when the backend keeps none. For doveadm's `mailbox status guid`, `fetch
 * mailbox-guid` and `search` output.
 */
export function mailboxGuidOf(view: MailboxView): string {
  const g = (view as { readonly mailboxGuid?: unknown }).mailboxGuid;
  return typeof g === 'string' ? g : '';
}

/**
 * The save date of a message (RFC 8514), or undefined when the backend keeps none (IMAP then
 * answers `SAVEDATE NIL` and SAVEDATESUPPORTED matches nothing). Maildir: the time we saved it
 * into this mailbox, else the file's ctime when first asked (Dovecot's maildir fallback).
 */
export async function saveDateOf(view: MailboxView, uid: number): Promise<Date | undefined> {
  return view.saveDate === undefined ? undefined : view.saveDate(uid);
}

/** Whether the backend keeps save dates (SEARCH SAVEDATESUPPORTED). */
export function hasSaveDates(view: MailboxView): boolean {
  return view.saveDate !== undefined;
}

/** Quota limits: 0 = unlimited; `ignore` = the mailbox does not count against the quota. */
export interface QuotaLimits {
  readonly bytes: number;
  readonly messages: number;
  readonly ignore: boolean;
}

/** One quota root (Dovecot `plugin { quota = <backend>:<name> }`) with its `*` limits. */
export interface QuotaRoot {
  readonly backend: 'maildir' | 'count';
  readonly name: string;
  readonly bytes: number;
  readonly messages: number;
}

export interface QuotaUsage {
  /** Physical (stored) bytes. */
  readonly bytes: number;
  readonly count: number;
}

export interface MailQuota {
  readonly root: QuotaRoot;
  /** Current usage (maildir backend: maildirsize, recounted when missing, stale or broken). */
  usage(): Promise<QuotaUsage>;
  /** Throws NOQUOTA (Dovecot's "Quota exceeded (mailbox for user is full)") when `size` more bytes do not fit. */
  check(limits: QuotaLimits, size: number): Promise<void>;
  /** Records a saved message of `size` bytes. */
  record(size: number): Promise<void>;
}

/**
 * The quota of a user's store: the `maildir` backend keeps Maildir++ `maildirsize` in the store's
 * maildir root; `count` (or a store without one) counts through the API. LMTP delivery and doveadm
 * quota get share it.
 */
export function openQuota(store: MailStore, root: QuotaRoot): MailQuota {
  const path = (store as { readonly maildirsizePath?: unknown }).maildirsizePath;
  return new StoreQuota(root, store, root.backend === 'maildir' && typeof path === 'string' ? path : undefined);
}
