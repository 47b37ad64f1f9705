/*
 * Changing messages in a maildir as Dovecot 2.3 does: flag changes are renames in place
 * (`base:2,<letters>`, unknown letters and `,extra` kept), expunge is unlink() (the uidlist records
 * go when the file is next compressed, mailbox.ts), COPY hard-links the same base name into the target (a fresh base name if
 * the target already has it; a byte copy when links are impossible).
 *
 * Distrusts: other processes. A file that vanished (ENOENT) is looked up again once by base name
 * (it may have been renamed for a flag change); if it is still gone it was expunged, which is a
 * normal race, not an error.
 */
import { existsSync, renameSync, unlinkSync } from 'node:fs';
import { copyFile, link, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../../../shared/fs/atomic.js';
import { StorageError } from '../errors.js';
import type { CopyResult } from '../api.js';
import { encodeFlagLetters, formatFilename, SYSTEM_FLAGS, withSizes, type SystemFlag } from './filename.js';
import type { MaildirMailbox, MailboxSnapshot, MessageRecord } from './mailbox.js';
import { nextUniqueName } from './save.js';
import { byUidIn } from './uid-order.js';
import { notifyMailboxChanged } from './watch.js';

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

export interface FlagChange {
  readonly mode: 'add' | 'remove' | 'replace';
  readonly system: readonly SystemFlag[];
  readonly keywords: readonly string[];
  readonly unchangedSince: number | undefined;
}

function apply<T>(cur: readonly T[], mode: FlagChange['mode'], given: readonly T[]): T[] {
  if (mode === 'replace') return [...new Set(given)];
  if (mode === 'add') return [...new Set([...cur, ...given])];
  return cur.filter((x) => !given.includes(x));
}

/**
 * Renames `r` to carry `letters`. `changed` is false when the message is gone; `filename` is its new
 * name when the rename happened where `r` said the file was (undefined when it had to be looked
 * for: then only a full sync knows the directory).
 */
async function renameFlags(box: MaildirMailbox, r: MessageRecord, letters: string): Promise<{ changed: boolean; filename?: string }> {
  let rec: MessageRecord | undefined = r;
  for (let attempt = 0; rec !== undefined && attempt < 3; attempt++) {
    const to = formatFilename(rec.basename, letters, rec.extra);
    const exact = attempt === 0 ? { filename: to } : {};
    if (to === rec.filename) return { changed: true, ...exact };
    try {
      renameSync(join(box.paths.dir, rec.sub, rec.filename), join(box.paths.dir, rec.sub, to));
      return { changed: true, ...exact };
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
    const files = await box.scan();
    const f = files.get(r.basename);
    rec = f === undefined ? undefined : { ...rec, sub: f.sub, filename: f.filename, extra: f.parsed.extra };
  }
  return { changed: false };
}

export async function storeFlags(box: MaildirMailbox, uids: readonly number[], change: FlagChange): Promise<{ snapshot: MailboxSnapshot; changed: number[]; modified: number[] }> {
  const before = await box.sync({ moveNew: false, claimRecent: false });
  const modified: number[] = [];
  const changed: number[] = [];
  // Our renames, while each happened where `before` said: then the snapshot after them needs no new listing.
  const renamed: { record: MessageRecord; filename: string }[] = [];
  let exact = true;
  // The asked UIDs in ascending order (the order of the messages), each found by a binary search:
  // a walk over every message was a pass per STORE.
  for (const uid of [...new Set(uids)].sort((a, b) => a - b)) {
    const r = byUidIn(before.messages, uid);
    if (r === undefined) continue;
    if (change.unchangedSince !== undefined && r.modseq > change.unchangedSince) {
      modified.push(r.uid);
      continue;
    }
    const sys = apply(r.system, change.mode, change.system);
    const kws = apply(r.keywords, change.mode, change.keywords);
    const system = SYSTEM_FLAGS.filter((f) => sys.includes(f));
    const kwIdx = kws.length > 0 ? await box.keywords.indexesOf(kws) : [];
    const letters = encodeFlagLetters(system, kwIdx, r.other);
    const done = await renameFlags(box, r, letters);
    if (done.changed) changed.push(r.uid);
    if (done.filename !== undefined) renamed.push({ record: r, filename: done.filename });
    else exact = false;
  }
  if (changed.length > 0) notifyMailboxChanged(box.paths.dir);
  const snapshot = exact
    ? await box.syncAfterOwnChanges(before, renamed, [])
    : await box.sync({ moveNew: false, claimRecent: false });
  return { snapshot, changed, modified };
}

/** Unlinks the messages `select` picks; returns their UIDs. */
export async function expungeMessages(box: MaildirMailbox, select: (r: MessageRecord) => boolean): Promise<number[]> {
  const snap = await box.sync({ moveNew: false, claimRecent: false });
  const gone: number[] = [];
  // Messages unlinked where `snap` said they were (see storeFlags).
  const unlinked: MessageRecord[] = [];
  let exact = true;
  for (const r of snap.messages) {
    if (!select(r)) continue;
    let rec: { sub: string; filename: string } | undefined = r;
    for (let attempt = 0; rec !== undefined && attempt < 3; attempt++) {
      try {
        unlinkSync(join(box.paths.dir, rec.sub, rec.filename));
        if (attempt === 0) unlinked.push(r);
        break;
      } catch (err) {
        if (code(err) !== 'ENOENT') throw err;
      }
      rec = (await box.scan()).get(r.basename);
    }
    // Found elsewhere or gone: only a full sync knows the directory now.
    if (unlinked.at(-1) !== r) exact = false;
    // Gone either way: unlinked by us or by someone else first.
    gone.push(r.uid);
  }
  if (gone.length > 0) {
    // The records stay in dovecot-uidlist, as Dovecot leaves them: the sync rewrites the file
    // without them once enough are dead (mailbox.ts, UIDLIST_COMPRESS_PERCENTAGE).
    if (exact) await box.syncAfterOwnChanges(snap, [], unlinked);
    else await box.sync({ moveNew: false, claimRecent: false });
    notifyMailboxChanged(box.paths.dir);
  }
  return gone;
}

export async function copyMessages(src: MaildirMailbox, uids: readonly number[], dst: MaildirMailbox): Promise<CopyResult> {
  const snap = await src.sync({ moveNew: false, claimRecent: false });
  const byUid = new Map(snap.messages.map((m) => [m.uid, m]));
  const missing = uids.filter((u) => !byUid.has(u));
  if (missing.length > 0) {
    throw new StorageError('EXPUNGED', 'Some of the requested messages no longer exist.', `uids ${missing.join(',')} gone from ${src.paths.dir}`);
  }
  const dstFiles = await dst.scan();
  const dstList = await dst.uidlist.ensure();
  const taken = new Set([...dstFiles.keys(), ...dstList.records.map((r) => r.basename)]);
  const created: string[] = [];
  const bases: string[] = [];
  const srcUids: number[] = [];
  try {
    for (const uid of [...uids].sort((a, b) => a - b)) {
      const r = byUid.get(uid)!;
      const kwIdx = r.keywords.length > 0 ? await dst.keywords.indexesOf(r.keywords) : [];
      const letters = encodeFlagLetters(r.system, kwIdx, r.other);
      const unique = (): string => {
        const u = nextUniqueName();
        return r.size !== undefined && r.vsize !== undefined ? withSizes(u, r.size, r.vsize) : u;
      };
      let base = taken.has(r.basename) ? unique() : r.basename;
      const sub = letters === '' ? 'new' : 'cur';
      const from = join(src.paths.dir, r.sub, r.filename);
      let target: string;
      for (;;) {
        target = join(dst.paths.dir, sub, letters === '' ? base : formatFilename(base, letters));
        try {
          await link(from, target);
          break;
        } catch (err) {
          const c = code(err);
          // The source expunged (or renamed by a flag change) meanwhile; unless it is the
          // destination that is gone, deleted under us (view.ts copy() tells that apart).
          if (c === 'ENOENT' && existsSync(join(dst.paths.dir, sub))) throw new StorageError('EXPUNGED', 'Some of the requested messages no longer exist.', `${from} vanished during copy`);
          // Another session copied the same message here since the scan above (the name is kept
          // when free): a name of our own, as when it was already taken.
          if (c === 'EEXIST' && base === r.basename) {
            base = unique();
            continue;
          }
          if (c !== 'EXDEV' && c !== 'EPERM' && c !== 'EMLINK' && c !== 'ENOTSUP') throw err;
          const tmp = join(dst.paths.dir, 'tmp', base);
          await copyFile(from, tmp);
          await rename(tmp, target);
          break;
        }
      }
      created.push(target);
      taken.add(base);
      bases.push(base);
      srcUids.push(uid);
    }
    // DURABILITY: the links must survive a crash before MOVE expunges the source.
    await fsyncDir(join(dst.paths.dir, 'new'));
    await fsyncDir(join(dst.paths.dir, 'cur'));
  } catch (err) {
    for (const p of created) await unlink(p).catch(() => undefined);
    throw err;
  }
  const list = await dst.uidlist.update({ add: bases });
  const uidOf = new Map(list.records.map((r) => [r.basename, r.uid]));
  // RFC 8514: a copy (or a move) is saved into the destination now, as Dovecot records it.
  const now = Math.floor(Date.now() / 1000);
  await dst.sidecar.recordSaveDates(list.guid ?? dst.paths.dir, bases.map((b) => ({ uid: uidOf.get(b)!, seconds: now })), true);
  notifyMailboxChanged(dst.paths.dir);
  return { uidValidity: list.uidValidity, srcUids, dstUids: bases.map((b) => uidOf.get(b)!) };
}
