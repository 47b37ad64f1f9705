/*
 * `dovecot-keywords` I/O (maildir-keywords.c): the per-mailbox table mapping filename letters a-z
 * to keyword names. New names take the lowest free index under `dovecot-keywords.lock` and the
 * file is replaced atomically. At most 26 keywords fit; more is NOTPOSSIBLE here (Dovecot keeps the
 * rest in its index only).
 *
 * Distrusts: the file (bad lines ignored); letters with no entry read as `unknown-<n>` as in Dovecot.
 */
import { readFileSync } from 'node:fs';
import { stampOf, type Stamp } from './sync-stamp.js';
import { acquireDotlock } from './dotlock.js';
import { formatKeywords, isValidKeyword, parseKeywords, type KeywordTable } from './control-files.js';
import { MAX_FILENAME_KEYWORDS } from './filename.js';
import { StorageError } from '../errors.js';

export const KEYWORDS_FILE = 'dovecot-keywords';

/** The table of a mailbox without dovecot-keywords: one shared object, so an unchanged table keeps its identity (mailbox.ts reuses work by it). */
const NO_KEYWORDS: KeywordTable = Object.freeze([]);

function sameTable(a: KeywordTable, b: KeywordTable): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class KeywordsFile {
  /** The last table read, for the stamp it was read at (reused while that stamp is settled). */
  private cache: { stamp: Stamp; table: KeywordTable } | undefined;

  constructor(readonly path: string) {}

  /**
   * The table. Unchanged (by stamp, sync-stamp.ts, with its one-second dirty rule) or re-read with the
   * same content, it is the very same object as last time: mailbox.ts reuses its per-message work by
   * the table's identity.
   */
  async read(): Promise<KeywordTable> {
    const stamp = stampOf(this.path, Date.now());
    if (stamp.key === 'absent') return NO_KEYWORDS;
    const known = this.cache;
    if (known !== undefined && known.stamp.settled && stamp.settled && known.stamp.key === stamp.key) return known.table;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return NO_KEYWORDS;
      throw err;
    }
    const parsed = parseKeywords(text);
    const table = known !== undefined && sameTable(known.table, parsed) ? known.table : parsed;
    this.cache = { stamp, table };
    return table;
  }

  /** Returns the index of each name, adding missing names to the file. */
  async indexesOf(names: readonly string[]): Promise<number[]> {
    for (const n of names) {
      if (!isValidKeyword(n)) throw new StorageError('PARAMS', `Invalid keyword: ${n}`);
    }
    const find = (table: KeywordTable): number[] | undefined => {
      const out: number[] = [];
      for (const n of names) {
        const i = table.indexOf(n);
        if (i < 0) return undefined;
        out.push(i);
      }
      return out;
    };
    const quick = find(await this.read());
    if (quick !== undefined) return quick;
    const lock = await acquireDotlock(this.path, { staleSecs: 120 });
    try {
      this.cache = undefined;
      const table = [...(await this.read())];
      for (const n of names) {
        if (table.includes(n)) continue;
        let free = 0;
        while (free < table.length && table[free] !== undefined) free++;
        if (free >= MAX_FILENAME_KEYWORDS) {
          throw new StorageError('NOTPOSSIBLE', 'Too many keywords in mailbox', `${this.path}: all ${MAX_FILENAME_KEYWORDS} keyword letters used`);
        }
        table[free] = n;
      }
      await lock.replace(formatKeywords(table));
      this.cache = undefined;
      return find(table)!;
    } finally {
      await lock.release();
    }
  }
}

/** Name of keyword `idx` in `table`, or Dovecot's placeholder. */
export function keywordName(table: KeywordTable, idx: number): string {
  return table[idx] ?? `unknown-${idx}`;
}
