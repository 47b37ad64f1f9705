/*
 * `dovecot-keywords` I/O (maildir-keywords.c): the per-mailbox table mapping filename letters a-z
 * to keyword names. New names take the lowest free index under `dovecot-keywords.lock` and the
 * file is replaced atomically. At most 26 keywords fit; more is NOTPOSSIBLE here (Dovecot keeps the
 * rest in its index only).
 *
 * Distrusts: the file (bad lines ignored); letters with no entry read as `unknown-<n>` as in Dovecot.
 */
import { readFile, stat } from 'node:fs/promises';
import { acquireDotlock } from './dotlock.js';
import { formatKeywords, isValidKeyword, parseKeywords, type KeywordTable } from './control-files.js';
import { MAX_FILENAME_KEYWORDS } from './filename.js';
import { StorageError } from '../errors.js';

export const KEYWORDS_FILE = 'dovecot-keywords';

export class KeywordsFile {
  private cache: { mtimeNs: bigint; size: bigint; table: (string | undefined)[] } | undefined;

  constructor(readonly path: string) {}

  async read(): Promise<KeywordTable> {
    let st;
    try {
      st = await stat(this.path, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    if (this.cache !== undefined && this.cache.mtimeNs === st.mtimeNs && this.cache.size === st.size) return this.cache.table;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const table = parseKeywords(text);
    this.cache = { mtimeNs: st.mtimeNs, size: st.size, table };
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
