/*
 * The maildir MailStore: one user's mail under a parsed mail_location (Dovecot 2.3 maildir
 * storage + mailbox list). Creates INBOX on first use, creates/deletes/renames folders with
 * `maildirfolder` markers and a fresh UIDVALIDITY per mailbox, keeps `subscriptions`, and hands
 * out MaildirMailbox objects to views, delivery and APPEND.
 *
 * Distrusts: mailbox names (layout.ts validates them and keeps paths inside the root) and the
 * disk (all fs errors become StorageErrors; unknown ones are TEMP).
 */
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  MailboxListEntry, MailboxStatus, MailboxView, MailStore, OpenStoreOptions, SaveOptions, SaveResult,
} from '../api.js';
import { DELETED_UNDER_US_TEXT, isVanishing, notFound, StorageError, toStorageError } from '../errors.js';
import { takePop3SessionLock, type Pop3SessionLock, type Pop3SessionLockOptions } from '../pop3-session-lock.js';
import { SYSTEM_FLAGS, type SystemFlag } from './filename.js';
import { isInboxParts, listOnDisk, mailboxPaths, parseName, type Layout } from './layout.js';
import { LocationError, parseMailLocation } from './location.js';
import { MaildirMailbox } from './mailbox.js';
import { saveMessage } from './save.js';
import { Sidecar } from './sidecar.js';
import { SubscriptionsFile } from './subscriptions.js';
import { nextUidValidity } from './uidvalidity.js';
import { MaildirView } from './view.js';
import { notifyMailboxChanged, watchMailbox } from './watch.js';

const DIR_MODE = 0o700;

/** Numbers this process's trash directories (MaildirStore.delete). */
let trashSeq = 0;

async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toStorageError(err, what);
  }
}

/** mkdir of one directory (not its parents, so one deleted meanwhile is not made again); an existing one is fine. */
async function mkdirHere(p: string): Promise<void> {
  try {
    await mkdir(p, { mode: DIR_MODE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export async function openMaildirStore(opts: OpenStoreOptions): Promise<MaildirStore> {
  let loc;
  try {
    loc = parseMailLocation(opts.mailLocation, opts.home);
  } catch (err) {
    if (err instanceof LocationError) throw new StorageError('TEMP', 'Internal error occurred. Refer to server log for more information.', `mail_location: ${err.message}`);
    throw err;
  }
  const separator = opts.separator ?? (loc.layout === 'fs' ? '/' : '.');
  const layout: Layout = { loc, rules: { layout: loc.layout, separator, utf8: loc.utf8 } };
  const controlRoot = loc.control ?? loc.root;
  await guard(`mkdir ${controlRoot}`, () => mkdir(controlRoot, { recursive: true, mode: DIR_MODE }));
  let sidecar: Sidecar;
  if (loc.index === 'MEMORY') sidecar = Sidecar.memory();
  else {
    const indexRoot = loc.index ?? controlRoot;
    await guard(`mkdir ${indexRoot}`, () => mkdir(indexRoot, { recursive: true, mode: DIR_MODE }));
    sidecar = await guard('open index sidecar', () => Sidecar.lmdb(join(indexRoot, 'postern-index.lmdb')));
  }
  return new MaildirStore(opts, layout, sidecar);
}

/** Mailbox objects a store keeps (see MaildirStore.boxes). */
const MAILBOX_OBJECTS_KEPT = 32;

export class MaildirStore implements MailStore {
  readonly user: string;
  readonly separator: string;
  private readonly subs: SubscriptionsFile;
  /**
   * Mailbox objects by name, so a session that selects a mailbox again (or APPENDs to it, or asks
   * its STATUS) finds the listings, uidlist and snapshot it last built, each still checked against
   * the disk's stamps (mailbox.ts), instead of listing and parsing the whole maildir again as a
   * new object must. At most MAILBOX_OBJECTS_KEPT, the least recently used dropped first; a delete
   * or rename (which moves directories under the names) drops them all.
   */
  private readonly boxes = new Map<string, MaildirMailbox>();
  private readonly controlRoot: string;

  constructor(private readonly opts: OpenStoreOptions, private readonly layout: Layout, private readonly sidecar: Sidecar) {
    this.user = opts.user;
    this.separator = layout.rules.separator;
    this.controlRoot = layout.loc.control ?? layout.loc.root;
    this.subs = new SubscriptionsFile(join(this.controlRoot, layout.loc.subscriptionsFile), layout.rules);
  }

  /** pop3_lock_session (Dovecot: the index root, else the mail root; INDEX=MEMORY has none). */
  lockPop3Session(opts: Pop3SessionLockOptions): Promise<Pop3SessionLock | undefined> {
    const index = this.layout.loc.index;
    return takePop3SessionLock(index !== undefined && index !== 'MEMORY' ? index : this.layout.loc.root, opts);
  }

  /** Maildir++ quota file (`maildirsize` in the maildir root, as Courier and Dovecot keep it); read by api.ts openQuota. */
  get maildirsizePath(): string {
    return join(this.layout.loc.root, 'maildirsize');
  }

  private box(name: string, parts: readonly string[]): MaildirMailbox {
    let box = this.boxes.get(name);
    if (box !== undefined) {
      this.boxes.delete(name);
    } else {
      box = new MaildirMailbox(name, mailboxPaths(this.layout, parts), this.sidecar, () => nextUidValidity(this.controlRoot));
      if (this.boxes.size >= MAILBOX_OBJECTS_KEPT) this.boxes.delete(this.boxes.keys().next().value!);
    }
    this.boxes.set(name, box);
    return box;
  }

  /** The maildir's subdirectories (and control directory, marker) in `box.paths.dir`, which must exist. */
  private async makeMaildir(box: MaildirMailbox, marker: boolean): Promise<void> {
    // cur/ last: exists() tests cur/, so a concurrent delivery that sees it may rely on tmp/ and new/
    // (creating cur/ first let a second first-delivery write into a tmp/ not made yet: 451, found by bench/).
    // One level each: a mailbox deleted under a CREATE must not be made again half (ENOENT instead).
    for (const sub of ['tmp', 'new', 'cur']) await mkdirHere(join(box.paths.dir, sub));
    if (box.paths.control !== box.paths.dir) await mkdir(box.paths.control, { recursive: true, mode: DIR_MODE });
    if (marker) await (await open(join(box.paths.dir, 'maildirfolder'), 'a', 0o600)).close();
  }

  /** An existing mailbox (INBOX is created on demand). */
  async mailbox(name: string): Promise<MaildirMailbox> {
    const parts = parseName(this.layout, name);
    const norm = parts.join(this.separator);
    const box = this.box(norm, parts);
    if (isInboxParts(parts)) {
      if (!(await box.exists())) {
        await guard('create INBOX', async () => {
          await mkdir(box.paths.dir, { recursive: true, mode: DIR_MODE });
          await this.makeMaildir(box, false);
        });
      }
      return box;
    }
    if (!(await box.exists())) throw notFound(norm);
    return box;
  }

  async list(opts: { subscribedOnly?: boolean } = {}): Promise<MailboxListEntry[]> {
    const sep = this.separator;
    const onDisk = await guard('list mailboxes', () => listOnDisk(this.layout));
    const subscribed = new Set(await this.subscriptions());
    const all = new Map(onDisk.map((m) => [m.name, m]));
    const names = opts.subscribedOnly === true ? [...subscribed] : [...all.keys()];
    for (const n of [...names]) {
      const parts = n.split(sep);
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join(sep);
        if (!all.has(parent) && !names.includes(parent) && opts.subscribedOnly !== true) names.push(parent);
      }
    }
    const special = this.opts.specialUse ?? {};
    return names.sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : a > b ? 1 : 0)).map((name) => {
      const m = all.get(name);
      const hasChildren = [...all.keys()].some((o) => o.startsWith(name + sep));
      const attrs: string[] = [];
      if (m === undefined) attrs.push('\\NonExistent');
      else if (!m.selectable) attrs.push('\\Noselect');
      attrs.push(hasChildren ? '\\HasChildren' : '\\HasNoChildren');
      if (subscribed.has(name)) attrs.push('\\Subscribed');
      const su = special[name];
      if (su !== undefined) attrs.push(su);
      return { name, separator: sep, attributes: attrs };
    });
  }

  async create(name: string): Promise<void> {
    const parts = parseName(this.layout, name);
    const norm = parts.join(this.separator);
    if (isInboxParts(parts)) throw new StorageError('EXISTS', 'Mailbox already exists');
    const box = this.box(norm, parts);
    const taken = (): StorageError => new StorageError('EXISTS', 'Mailbox already exists');
    if (await box.exists()) throw taken();
    try {
      if (this.layout.loc.layout === 'maildir++') {
        await mkdir(this.layout.loc.root, { recursive: true, mode: DIR_MODE });
        try {
          await mkdir(box.paths.dir, { mode: DIR_MODE });
        } catch (err) {
          // A directory without cur/ is not a mailbox yet (a \Noselect leftover): it becomes one.
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          if (await box.exists()) throw taken();
        }
      } else {
        await mkdir(box.paths.dir, { recursive: true, mode: DIR_MODE });
      }
      await this.makeMaildir(box, this.layout.loc.layout === 'maildir++');
      await box.uidlist.ensure();
    } catch (err) {
      if (err instanceof StorageError && err.kind === 'EXISTS') throw err;
      // Another session deleted or renamed it meanwhile: Dovecot's answer to the same race
      // (maildir-storage.c mkdir_verify), instead of an internal error.
      if (isVanishing(err)) {
        throw new StorageError('NOTFOUND', 'Mailbox was deleted while it was being created', `create ${box.paths.dir}: ${(err as Error).message}`);
      }
      throw toStorageError(err, `create ${box.paths.dir}`);
    }
  }

  async delete(name: string): Promise<void> {
    const parts = parseName(this.layout, name);
    const norm = parts.join(this.separator);
    if (isInboxParts(parts)) throw new StorageError('NOTPOSSIBLE', "INBOX can't be deleted.");
    const box = this.box(norm, parts);
    this.boxes.clear();
    if (!(await exists(box.paths.dir))) throw notFound(norm);
    await guard(`delete ${box.paths.dir}`, async () => {
      const guid = (await box.uidlist.read().catch(() => undefined))?.guid;
      if (this.layout.loc.layout === 'maildir++') {
        // Renaming to `..name.<pid>.<n>` first makes the mailbox disappear from listings at once,
        // so no reader ever sees it half deleted (Dovecot renames to `..DOVECOT-TRASHED`). The
        // name is this process's own: two sessions deleting (or one deleting a mailbox that
        // another just created again) never rename into, or remove, each other's trash.
        const entry = box.paths.dir.slice(this.layout.loc.root.length + 1);
        const trash = join(this.layout.loc.root, `.${entry}.${process.pid}.${++trashSeq}`);
        try {
          await rename(box.paths.dir, trash);
        } catch (err) {
          // Deleted or renamed by another session since the check above.
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(norm);
          throw err;
        }
        await rm(trash, { recursive: true, force: true });
      } else {
        const children = (await readdir(box.paths.dir)).filter((e) => !['cur', 'new', 'tmp'].includes(e) && !e.startsWith('.') && !e.startsWith('dovecot') && e !== 'maildirfolder');
        if (children.length === 0) await rm(box.paths.dir, { recursive: true, force: true });
        else {
          for (const e of ['cur', 'new', 'tmp', 'dovecot-uidlist', 'dovecot-keywords', 'maildirfolder']) await rm(join(box.paths.dir, e), { recursive: true, force: true });
        }
      }
      if (box.paths.control !== box.paths.dir) await rm(box.paths.control, { recursive: true, force: true });
      if (guid !== undefined) this.sidecar.drop(guid);
      this.sidecar.forgetStatus(box.paths.dir);
    });
    // Sessions with it selected (IDLE included) learn at once that it is gone (imap/dispatch.ts).
    notifyMailboxChanged(box.paths.dir);
  }

  async rename(from: string, to: string): Promise<void> {
    const fp = parseName(this.layout, from);
    const tp = parseName(this.layout, to);
    if (isInboxParts(fp)) throw new StorageError('NOTPOSSIBLE', 'Renaming INBOX is not supported');
    if (isInboxParts(tp)) throw new StorageError('EXISTS', 'Mailbox already exists');
    if (tp.length > fp.length && fp.every((p, i) => p === tp[i])) throw new StorageError('PARAMS', "Can't rename mailbox under itself.");
    const sep = this.separator;
    const fromName = fp.join(sep);
    const toName = tp.join(sep);
    const all = (await guard('list mailboxes', () => listOnDisk(this.layout))).map((m) => m.name);
    const moving = all.filter((n) => n === fromName || n.startsWith(fromName + sep));
    if (moving.length === 0) throw notFound(fromName);
    this.boxes.clear();
    const pairs = moving.map((n) => {
      const newName = toName + n.slice(fromName.length);
      return [this.box(n, n.split(sep)), this.box(newName, newName.split(sep))] as const;
    });
    for (const [, dst] of pairs) {
      if (await exists(dst.paths.dir)) throw new StorageError('EXISTS', 'Mailbox already exists');
    }
    await guard(`rename ${fromName} -> ${toName}`, () => this.renameDirs(pairs, fromName).catch((err: unknown) => {
      // Another session renamed or deleted the source, or took the target name, since the checks.
      const c = (err as NodeJS.ErrnoException).code;
      if (c === 'ENOENT') throw notFound(fromName);
      if (c === 'EEXIST' || c === 'ENOTEMPTY') throw new StorageError('EXISTS', 'Mailbox already exists');
      throw err;
    }));
  }

  /** Moves the directories of `pairs` (the mailbox and its children) to their new names. */
  private async renameDirs(pairs: readonly (readonly [MaildirMailbox, MaildirMailbox])[], fromName: string): Promise<void> {
    if (this.layout.loc.layout === 'fs') {
      const [src, dst] = pairs.find(([s]) => s.name === fromName) ?? pairs[0]!;
      await mkdir(join(dst.paths.dir, '..'), { recursive: true, mode: DIR_MODE });
      await rename(src.paths.dir, dst.paths.dir);
      if (src.paths.control !== src.paths.dir) {
        await mkdir(join(dst.paths.control, '..'), { recursive: true, mode: DIR_MODE });
        await rename(src.paths.control, dst.paths.control).catch(() => undefined);
      }
      return;
    }
    for (const [src, dst] of pairs) {
      try {
        await rename(src.paths.dir, dst.paths.dir);
      } catch (err) {
        // A child deleted meanwhile is simply not moved; the mailbox itself must be.
        if (src.name === fromName || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        continue;
      }
      if (src.paths.control !== src.paths.dir) await rename(src.paths.control, dst.paths.control).catch(() => undefined);
    }
  }

  async subscribe(name: string): Promise<void> {
    const parts = parseName(this.layout, name);
    await guard('subscribe', () => this.subs.change(parts, true));
  }

  async unsubscribe(name: string): Promise<void> {
    const parts = parseName(this.layout, name);
    await guard('unsubscribe', () => this.subs.change(parts, false));
  }

  async subscriptions(): Promise<string[]> {
    return guard('read subscriptions', () => this.subs.read());
  }

  /**
   * Runs `fn` on the mailbox `name`, answering a mailbox deleted or renamed under it by another
   * session as such (MaildirMailbox.vanishedUnder) rather than as an internal error. `again`: when
   * a new mailbox took the name meanwhile, run once more on it (for what only reads and syncs).
   */
  private async onMailbox<T>(name: string, what: string, again: boolean, fn: (box: MaildirMailbox) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const box = await this.mailbox(name);
      const before = box.identity();
      try {
        return await fn(box);
      } catch (err) {
        const vanished = box.vanishedUnder(err, before);
        if (vanished === undefined) throw toStorageError(err, `${what} ${box.paths.dir}`);
        if (!again || attempt > 0 || vanished.clientText !== DELETED_UNDER_US_TEXT) throw vanished;
      }
    }
  }

  async status(name: string): Promise<MailboxStatus> {
    return this.onMailbox(name, 'sync', true, (box) => box.status());
  }

  async openMailbox(name: string, opts: { readOnly: boolean; dropRecent?: boolean }): Promise<MailboxView> {
    return this.onMailbox(name, 'open', true, (box) => MaildirView.open(box, opts.readOnly, opts.dropRecent ?? !opts.readOnly, (n) => this.mailbox(n)));
  }

  async deliver(name: string, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<SaveResult> {
    return this.save(name, data, {});
  }

  async append(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: SaveOptions = {}): Promise<SaveResult> {
    return this.save(name, data, opts);
  }

  private async save(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: SaveOptions): Promise<SaveResult> {
    // Not run again when the mailbox vanished: the message may be in the renamed one already.
    const res = await this.onMailbox(name, 'save to', false, async (box) => {
      const flags = opts.flags ?? [];
      const bad = flags.find((f) => f.startsWith('\\') && !(SYSTEM_FLAGS as readonly string[]).includes(f) && f.toLowerCase() !== '\\recent');
      if (bad !== undefined) throw new StorageError('PARAMS', `Invalid system flag ${bad}`);
      const system = flags.filter((f): f is SystemFlag => (SYSTEM_FLAGS as readonly string[]).includes(f));
      const keywords = flags.filter((f) => !f.startsWith('\\'));
      const saved = await saveMessage(box, { data, system, keywords, internalDate: opts.internalDate }, this.opts.hostname);
      notifyMailboxChanged(box.paths.dir);
      return saved;
    });
    return { uid: res.uid, uidValidity: res.uidValidity, guid: res.basename };
  }

  watch(name: string, listener: () => void): () => void {
    const parts = parseName(this.layout, name);
    return watchMailbox(mailboxPaths(this.layout, parts).dir, listener);
  }

  async close(): Promise<void> {
    await this.sidecar.close();
  }
}

