/*
 * lmdb:, hash: and btree: — tables read from an index file that postmap builds.
 *
 *   lmdb:NAME  → NAME.lmdb, LMDB data format 1: byte-compatible with Postfix's postmap both ways.
 *   hash:NAME, btree:NAME → NAME.db, but in the SAME LMDB format, not Berkeley DB. Postern never
 *     writes Berkeley DB files; our postmap writes NAME.db so that `hash:/etc/postfix/virtual` in an
 *     unchanged main.cf works after `postmap /etc/postfix/virtual`, and so that tools checking that
 *     NAME.db is newer than NAME keep working. A real Postfix opening such a NAME.db refuses it
 *     loudly; a Berkeley DB NAME.db left by real Postfix is refused by us with a "rebuild it" hint.
 *
 * Keys and values are stored with a trailing NUL like Postfix (DICT_FLAG_TRY1NULL); lookups try
 * `key\0` and then `key`, so files written without the NUL by other tools still answer.
 * Reads use pread on a descriptor opened once: an index replaced by rename (our postmap) keeps
 * serving the old inode until reopened (check changed()). Postfix readers also take an fcntl
 * shared lock against a real postmap rewriting the file in place; Node cannot, so a torn read
 * surfaces as a TableLookupError (temporary), never as a wrong answer we can detect.
 * Distrusts: the index bytes (see lmdb-format.ts).
 */
import { closeSync, openSync } from 'node:fs';
import { strerror } from '../../errors/config-error.js';
import { readAtSync, writeFileAtomicSync } from '../../fs/atomic.js';
import { TableLookupError, TableOpenError } from './errors.js';
import { buildLmdbImage, lmdbEntries, lmdbGet, readMeta, LmdbFormatError, type LmdbMeta, type PageSource } from './lmdb-format.js';
import { takeStamp, stampChanged, type FileStamp } from './file-stamp.js';
import { foldKey, type LookupTable, type OpenTableOptions, type TableEntry } from './table.js';

/** Index file suffix per indexed type. */
export const INDEX_SUFFIX: Readonly<Record<string, string>> = { lmdb: '.lmdb', hash: '.db', btree: '.db' };

export function isIndexedType(type: string): boolean {
  return Object.hasOwn(INDEX_SUFFIX, type);
}

export function indexPath(type: string, name: string): string {
  return `${name}${INDEX_SUFFIX[type] ?? ''}`;
}

class FdPages implements PageSource {
  private readonly cache = new Map<number, Buffer>();
  constructor(readonly fd: number) {}

  /** Uncached positioned read of `count` units of `size` bytes at unit `pgno`; short at end of file. */
  readRaw(pgno: number, count: number, size: number): Buffer {
    return readAtSync(this.fd, size * count, pgno * size);
  }

  read(pgno: number, count: number, pageSize: number): Buffer {
    if (count !== 1) return this.readRaw(pgno, count, pageSize);
    const hit = this.cache.get(pgno);
    if (hit !== undefined) return hit;
    const page = this.readRaw(pgno, 1, pageSize);
    if (page.length === pageSize) {
      if (this.cache.size >= 256) this.cache.clear();
      this.cache.set(pgno, page);
    }
    return page;
  }
}

const BDB_MAGICS = new Set([0x00061561, 0x00053162]);

export class IndexedTable implements LookupTable {
  readonly spec: string;
  private readonly pages: FdPages;
  private readonly meta: LmdbMeta;
  private readonly stamp: FileStamp;
  private nulMode: 'try' | 'with' | 'without' = 'try';

  private constructor(
    readonly type: string,
    readonly name: string,
    readonly path: string,
    fd: number,
    private readonly fold: boolean,
    nul: 'with' | 'without' | undefined,
  ) {
    this.nulMode = nul ?? 'try';
    this.spec = `${type}:${name}`;
    this.pages = new FdPages(fd);
    this.stamp = takeStamp(path);
    try {
      this.meta = readMeta({ read: (pg, n, ps) => this.pages.readRaw(pg, n, ps) });
    } catch (err) {
      const why = this.describe(err);
      closeSync(fd);
      throw new TableOpenError(`open database ${path}: ${why}`);
    }
  }

  private describe(err: unknown): string {
    const head = this.pages.readRaw(0, 1, 16);
    if (head.length >= 16 && BDB_MAGICS.has(head.readUInt32LE(12))) {
      return 'this is a Berkeley DB file written by real Postfix; Postern stores hash:/btree: tables in LMDB format: rebuild it with postmap';
    }
    return (err as Error).message;
  }

  static open(type: string, name: string, opts: OpenTableOptions = {}): IndexedTable {
    const path = indexPath(type, name);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new TableOpenError(`open database ${path}: ${strerror(err)}`);
    }
    return new IndexedTable(type, name, path, fd, opts.fold ?? true, opts.nul);
  }

  lookup(key: string): string | undefined {
    const k = this.fold ? foldKey(key) : key;
    try {
      if (this.nulMode !== 'without') {
        const v = lmdbGet(this.pages, this.meta, Buffer.from(`${k}\0`));
        if (v !== undefined) {
          this.nulMode = 'with';
          return decodeValue(v);
        }
      }
      if (this.nulMode !== 'with') {
        const v = lmdbGet(this.pages, this.meta, Buffer.from(k));
        if (v !== undefined) {
          this.nulMode = 'without';
          return decodeValue(v);
        }
      }
      return undefined;
    } catch (err) {
      if (err instanceof LmdbFormatError) throw new TableLookupError(this.spec, err.message);
      throw err;
    }
  }

  *sequence(): Iterable<TableEntry> {
    for (const [k, v] of lmdbEntries(this.pages, this.meta)) yield { key: decodeValue(k), value: decodeValue(v) };
  }

  changed(): boolean {
    return stampChanged(this.stamp);
  }

  close(): void {
    closeSync(this.pages.fd);
  }
}

function decodeValue(b: Buffer): string {
  const end = b.length > 0 && b[b.length - 1] === 0 ? b.length - 1 : b.length;
  return b.toString('utf8', 0, end);
}

/**
 * Writes a complete index atomically (temporary file, fsync, rename): a reader sees the old index
 * or the new one, never half of one. `entries` are final keys (already folded) and values.
 */
export function writeIndex(
  type: string,
  name: string,
  entries: Iterable<readonly [string, string]>,
  nul: 'with' | 'without' = 'with',
): void {
  const z = nul === 'with' ? '\0' : '';
  const rows: [Buffer, Buffer][] = [];
  for (const [k, v] of entries) rows.push([Buffer.from(`${k}${z}`), Buffer.from(`${v}${z}`)]);
  rows.sort((a, b) => Buffer.compare(a[0], b[0]));
  const image = buildLmdbImage(rows);
  writeFileAtomicSync(indexPath(type, name), image);
}
