/*
 * Where each mailbox lives for a parsed mail_location, and the folder listing (Dovecot 2.3
 * mailbox-list-maildir.c for Maildir++, mailbox-list-fs.c for LAYOUT=fs).
 * - Maildir++: INBOX is the root (or INBOX=); `.A.B` directories directly below the root;
 *   parents are implicit and listed `\NonExistent \HasChildren`; a bare `.X` without
 *   `maildirfolder` is still a mailbox; entries starting with `..` are deletions in progress.
 * - fs: `A/B` directories; a directory without cur/ is `\Noselect`; cur/new/tmp are never names.
 *
 * Distrusts: directory entries (names that do not decode as modified UTF-7, or that would
 * contain the client separator, are skipped rather than shown garbled), and mailbox names
 * (validated by names.ts before any path is built; every path is checked to stay inside its root).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { StorageError } from '../errors.js';
import type { MaildirLocation } from './location.js';
import type { MailboxPaths } from './mailbox.js';
import { decodeComponent, nameFromMaildirPlusPlusDir, NameError, relativeDir, splitName, type NameRules } from './names.js';

export interface Layout {
  readonly loc: MaildirLocation;
  readonly rules: NameRules;
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Validates `name`; returns its components (PARAMS on a bad name). */
export function parseName(layout: Layout, name: string): string[] {
  try {
    return splitName(name, layout.rules);
  } catch (err) {
    if (err instanceof NameError) throw new StorageError('PARAMS', `Invalid mailbox name: ${err.message}`, `${err.message}: ${JSON.stringify(name)}`);
    throw err;
  }
}

export function isInboxParts(parts: readonly string[]): boolean {
  return parts.length === 1 && parts[0] === 'INBOX';
}

export function mailboxPaths(layout: Layout, parts: readonly string[]): MailboxPaths {
  const { loc } = layout;
  if (isInboxParts(parts)) return { dir: loc.inbox, control: loc.control ?? loc.inbox };
  const rel = relativeDir(parts, layout.rules);
  const dir = join(loc.root, rel);
  const control = loc.control !== undefined ? join(loc.control, rel) : dir;
  if (!inside(loc.root, dir) || (loc.control !== undefined && !inside(loc.control, control))) {
    throw new StorageError('PARAMS', 'Invalid mailbox name', `mailbox path ${dir} escapes ${loc.root}`);
  }
  return { dir, control };
}

export interface ListedMailbox {
  readonly name: string;
  readonly selectable: boolean;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Every mailbox that exists on disk, INBOX first; implicit parents are not included. */
export async function listOnDisk(layout: Layout): Promise<ListedMailbox[]> {
  const { loc, rules } = layout;
  const out: ListedMailbox[] = [{ name: 'INBOX', selectable: true }];
  if (loc.layout === 'maildir++') {
    for (const e of await entries(loc.root)) {
      const name = nameFromMaildirPlusPlusDir(e, rules);
      if (name === undefined || name === 'INBOX') continue;
      if (await isDir(join(loc.root, e))) out.push({ name, selectable: true });
    }
  } else {
    const walk = async (dir: string, prefix: string[], depth: number): Promise<void> => {
      if (depth > 16) return;
      for (const e of await entries(dir)) {
        if (e.startsWith('.') || ['cur', 'new', 'tmp'].includes(e)) continue;
        const p = join(dir, e);
        if (p === loc.inbox || !(await isDir(p))) continue;
        let part: string;
        try {
          part = decodeComponent(e, rules);
        } catch {
          continue;
        }
        if (part.includes(rules.separator)) continue;
        const parts = [...prefix, part];
        if (!(parts.length === 1 && part.toUpperCase() === 'INBOX')) {
          out.push({ name: parts.join(rules.separator), selectable: await isDir(join(p, 'cur')) });
        }
        await walk(p, parts, depth + 1);
      }
    };
    await walk(loc.root, [], 0);
  }
  return out;
}
