/*
 * Pure codec for the LMDB 0.9 on-disk format ("data format version 1", the one Debian's liblmdb0
 * and therefore Postfix's postmap/dict_lmdb use), for 64-bit builds with 4096-byte pages.
 *
 * WHY NOT THE `lmdb` NPM PACKAGE: lmdb-js 3.x ships a prebuilt LMDB 1.0-pre ("data format version
 * 2", mm_version 2). A file it writes is refused by Postfix (`MDB_INVALID: File is not an LMDB
 * file`) and opening a Postfix file with it crashes the process (SIGSEGV) — both observed. Postfix
 * tables are written once and read many times, so a bulk-loading writer and a read-only B+tree walker
 * are all we need, and they are small.
 *
 * Layout used (LMDB's own structures; little-endian, size_t = 8 bytes):
 *   page header 16 bytes: pgno u64 | pad u16 | flags u16 | lower u16, upper u16 (overflow: pages u32)
 *   node: lo u16 | hi u16 | flags u16 | ksize u16 | key | data   (branch: lo/hi/flags = child pgno)
 *   meta (pages 0 and 1, at offset 16): magic 0xBEEFC0DE | version 1 | address | mapsize |
 *     db[FREE] db[MAIN] (48 bytes each) | last_pg | txnid; the meta with the larger txnid is current.
 * Postfix stores key and value each followed by one NUL byte (observed: `foo\0` → `bar\0`).
 *
 * Distrusts: every byte read back (offsets and page numbers are bounds-checked; a loop over tree
 * levels is capped), since a table file can be truncated mid-rewrite by a real postmap.
 */

export const PAGE_SIZE = 4096;
const HDR = 16;
const NODE_HDR = 8;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_META = 0x08;
const F_BIGDATA = 0x01;
const MAGIC = 0xbeefc0de;
const P_INVALID = 0xffffffffffffffffn;
/** LMDB's me_nodemax for 4 KiB pages: a larger leaf node moves its data to overflow pages. */
const NODE_MAX = (((PAGE_SIZE - HDR) / 2) & -2) - 2;
/** LMDB's default MDB_MAXKEYSIZE. */
export const MAX_KEY_SIZE = 511;
/** Postfix's default lmdb_map_size (16 MiB); written as the map size when the file is smaller. */
const DEFAULT_MAP_SIZE = 16 * 1024 * 1024;

const even = (n: number): number => (n + 1) & ~1;

export class LmdbFormatError extends Error {
  override readonly name = 'LmdbFormatError';
}

interface DbStats {
  depth: number;
  branch: number;
  leaf: number;
  overflow: number;
  entries: number;
  root: bigint;
}

/** Builds a complete LMDB file image from entries sorted by key (Buffer.compare) with unique keys. */
export function buildLmdbImage(entries: ReadonlyArray<readonly [Buffer, Buffer]>): Buffer {
  const pages: Buffer[] = [Buffer.alloc(PAGE_SIZE), Buffer.alloc(PAGE_SIZE)];
  const newPage = (flags: number, count = 1): { pgno: number; buf: Buffer } => {
    const pgno = pages.length;
    const buf = Buffer.alloc(PAGE_SIZE * count);
    buf.writeBigUInt64LE(BigInt(pgno), 0);
    buf.writeUInt16LE(flags, 10);
    for (let i = 0; i < count; i++) pages.push(buf.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
    return { pgno, buf };
  };
  const stats: DbStats = { depth: 0, branch: 0, leaf: 0, overflow: 0, entries: entries.length, root: P_INVALID };

  // Leaf level. Nodes are laid from the end of the page downwards, pointers from the header up.
  type Child = { pgno: number; firstKey: Buffer };
  let level: Child[] = [];
  let pending: { key: Buffer; node: Buffer }[] = [];
  let used = 0;
  const flushLeaf = (): void => {
    if (pending.length === 0) return;
    const { pgno, buf } = newPage(P_LEAF);
    writeNodes(buf, pending.map((p) => p.node));
    level.push({ pgno, firstKey: (pending[0] as { key: Buffer }).key });
    stats.leaf++;
    pending = [];
    used = 0;
  };
  let prev: Buffer | undefined;
  for (const [key, data] of entries) {
    if (key.length > MAX_KEY_SIZE) throw new LmdbFormatError(`key too long for LMDB (${key.length} > ${MAX_KEY_SIZE} bytes)`);
    if (prev !== undefined && Buffer.compare(prev, key) >= 0) throw new LmdbFormatError('entries not sorted or not unique');
    prev = key;
    let node: Buffer;
    if (NODE_HDR + key.length + data.length > NODE_MAX) {
      const count = Math.floor((HDR - 1 + data.length) / PAGE_SIZE) + 1;
      const ov = newPage(P_OVERFLOW, count);
      ov.buf.writeUInt32LE(count, 12);
      data.copy(ov.buf, HDR);
      stats.overflow += count;
      node = Buffer.alloc(NODE_HDR + key.length + 8);
      node.writeBigUInt64LE(BigInt(ov.pgno), NODE_HDR + key.length);
      node.writeUInt16LE(F_BIGDATA, 4);
    } else {
      node = Buffer.alloc(NODE_HDR + key.length + data.length);
      data.copy(node, NODE_HDR + key.length);
    }
    node.writeUInt16LE(data.length & 0xffff, 0);
    node.writeUInt16LE(data.length >>> 16, 2);
    node.writeUInt16LE(key.length, 6);
    key.copy(node, NODE_HDR);
    const need = even(node.length) + 2;
    if (used + need > PAGE_SIZE - HDR) flushLeaf();
    pending.push({ key, node });
    used += need;
  }
  flushLeaf();
  if (level.length > 0) stats.depth = 1;

  // Branch levels until one page remains. A branch page's first node has an empty key.
  while (level.length > 1) {
    const next: Child[] = [];
    let group: Child[] = [];
    let size = 0;
    const groups: Child[][] = [];
    for (const child of level) {
      const need = even(NODE_HDR + (group.length === 0 ? 0 : child.firstKey.length)) + 2;
      if (size + need > PAGE_SIZE - HDR) {
        groups.push(group);
        group = [];
        size = 0;
      }
      size += even(NODE_HDR + (group.length === 0 ? 0 : child.firstKey.length)) + 2;
      group.push(child);
    }
    groups.push(group);
    // Never leave a branch page with a single child: borrow one from the previous page.
    const last = groups[groups.length - 1] as Child[];
    if (groups.length > 1 && last.length === 1) last.unshift((groups[groups.length - 2] as Child[]).pop() as Child);
    for (const g of groups) {
      const { pgno, buf } = newPage(P_BRANCH);
      writeNodes(
        buf,
        g.map((c, i) => {
          const k = i === 0 ? Buffer.alloc(0) : c.firstKey;
          const n = Buffer.alloc(NODE_HDR + k.length);
          const p = BigInt(c.pgno);
          n.writeUInt16LE(Number(p & 0xffffn), 0);
          n.writeUInt16LE(Number((p >> 16n) & 0xffffn), 2);
          n.writeUInt16LE(Number((p >> 32n) & 0xffffn), 4);
          n.writeUInt16LE(k.length, 6);
          k.copy(n, NODE_HDR);
          return n;
        }),
      );
      stats.branch++;
      next.push({ pgno, firstKey: (g[0] as Child).firstKey });
    }
    level = next;
    stats.depth++;
  }
  if (level.length === 1) stats.root = BigInt((level[0] as Child).pgno);

  const lastPg = pages.length - 1;
  const mapSize = Math.max(DEFAULT_MAP_SIZE, Math.ceil((pages.length * PAGE_SIZE) / (1024 * 1024)) * 1024 * 1024 * 2);
  writeMeta(pages[0] as Buffer, 0, mapSize, { depth: 0, branch: 0, leaf: 0, overflow: 0, entries: 0, root: P_INVALID }, 1, 0n);
  writeMeta(pages[1] as Buffer, 1, mapSize, stats, lastPg, 1n);
  return Buffer.concat(pages);
}

function writeNodes(page: Buffer, nodes: Buffer[]): void {
  let upper = PAGE_SIZE;
  nodes.forEach((node, i) => {
    upper -= even(node.length);
    node.copy(page, upper);
    page.writeUInt16LE(upper, HDR + 2 * i);
  });
  page.writeUInt16LE(HDR + 2 * nodes.length, 12);
  page.writeUInt16LE(upper, 14);
}

function writeMeta(page: Buffer, pgno: number, mapSize: number, main: DbStats, lastPg: number, txnid: bigint): void {
  page.writeBigUInt64LE(BigInt(pgno), 0);
  page.writeUInt16LE(P_META, 10);
  page.writeUInt32LE(MAGIC, 16);
  page.writeUInt32LE(1, 20);
  page.writeBigUInt64LE(BigInt(mapSize), 32);
  // FREE_DBI: md_pad holds the page size, md_flags the environment flags (NOSUBDIR | INTEGERKEY),
  // exactly what Postfix's mdb_env_open(MDB_NOSUBDIR) records.
  page.writeUInt32LE(PAGE_SIZE, 40);
  page.writeUInt16LE(0x4008, 44);
  page.writeBigUInt64LE(P_INVALID, 40 + 40);
  const m = 88;
  page.writeUInt16LE(main.depth, m + 6);
  page.writeBigUInt64LE(BigInt(main.branch), m + 8);
  page.writeBigUInt64LE(BigInt(main.leaf), m + 16);
  page.writeBigUInt64LE(BigInt(main.overflow), m + 24);
  page.writeBigUInt64LE(BigInt(main.entries), m + 32);
  page.writeBigUInt64LE(main.root, m + 40);
  page.writeBigUInt64LE(BigInt(lastPg), 136);
  page.writeBigUInt64LE(txnid, 144);
}

/** What the reader needs from a file: whole pages by number. */
export interface PageSource {
  read(pgno: number, count: number, pageSize: number): Buffer;
}

export interface LmdbMeta {
  readonly pageSize: number;
  readonly root: bigint;
  readonly entries: number;
  readonly txnid: bigint;
}

/** Parses the two meta pages from the first bytes of the file and returns the current one. */
export function readMeta(src: PageSource): LmdbMeta {
  const head = src.read(0, 1, 256);
  if (head.length < 152 || head.readUInt32LE(16) !== MAGIC) throw new LmdbFormatError('MDB_INVALID: File is not an LMDB file');
  const version = head.readUInt32LE(20);
  if (version !== 1) throw new LmdbFormatError(`MDB_VERSION_MISMATCH: Database environment version mismatch (data format ${version}, need 1)`);
  const pageSize = head.readUInt32LE(40);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new LmdbFormatError('MDB_INVALID: File is not an LMDB file');
  const metas = [head];
  const second = src.read(1, 1, pageSize);
  if (second.length >= 152 && second.readUInt32LE(16) === MAGIC) metas.push(second);
  const pick = metas.reduce((a, b) => (b.readBigUInt64LE(144) > a.readBigUInt64LE(144) ? b : a));
  return {
    pageSize,
    root: pick.readBigUInt64LE(88 + 40),
    entries: Number(pick.readBigUInt64LE(88 + 32)),
    txnid: pick.readBigUInt64LE(144),
  };
}

interface PageView {
  readonly buf: Buffer;
  readonly flags: number;
  readonly count: number;
}

function view(buf: Buffer, pageSize: number): PageView {
  if (buf.length < pageSize) throw new LmdbFormatError('short read: file truncated');
  const flags = buf.readUInt16LE(10);
  const lower = buf.readUInt16LE(12);
  if (lower < HDR || lower > pageSize) throw new LmdbFormatError('corrupt page header');
  return { buf, flags, count: (lower - HDR) >> 1 };
}

function nodeAt(p: PageView, i: number, pageSize: number): number {
  const off = p.buf.readUInt16LE(HDR + 2 * i);
  if (off + NODE_HDR > pageSize) throw new LmdbFormatError('corrupt node offset');
  return off;
}

function nodeKey(p: PageView, off: number): Buffer {
  const ksize = p.buf.readUInt16LE(off + 6);
  return p.buf.subarray(off + NODE_HDR, off + NODE_HDR + ksize);
}

function childPgno(p: PageView, off: number): number {
  const lo = p.buf.readUInt16LE(off);
  const hi = p.buf.readUInt16LE(off + 2);
  const top = p.buf.readUInt16LE(off + 4);
  return lo + hi * 0x10000 + top * 0x100000000;
}

function nodeData(src: PageSource, p: PageView, off: number, pageSize: number): Buffer {
  const dsize = p.buf.readUInt16LE(off) + p.buf.readUInt16LE(off + 2) * 0x10000;
  const ksize = p.buf.readUInt16LE(off + 6);
  const flags = p.buf.readUInt16LE(off + 4);
  const at = off + NODE_HDR + ksize;
  if (flags & F_BIGDATA) {
    const ovPg = Number(p.buf.readBigUInt64LE(at));
    const count = Math.floor((HDR - 1 + dsize) / pageSize) + 1;
    const ov = src.read(ovPg, count, pageSize);
    if (ov.length < HDR + dsize || (ov.readUInt16LE(10) & P_OVERFLOW) === 0) throw new LmdbFormatError('corrupt overflow page');
    return Buffer.from(ov.subarray(HDR, HDR + dsize));
  }
  if (flags !== 0) throw new LmdbFormatError('unsupported LMDB node (sub-database or duplicates)');
  if (at + dsize > pageSize) throw new LmdbFormatError('corrupt node size');
  return Buffer.from(p.buf.subarray(at, at + dsize));
}

const MAX_DEPTH = 32;

/** Exact-match lookup of raw key bytes; undefined when absent. */
export function lmdbGet(src: PageSource, meta: LmdbMeta, key: Buffer): Buffer | undefined {
  if (meta.root === P_INVALID) return undefined;
  let pg = Number(meta.root);
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const p = view(src.read(pg, 1, meta.pageSize), meta.pageSize);
    if (p.flags & P_BRANCH) {
      let lo = 1;
      let hi = p.count - 1;
      let hit = 0;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (Buffer.compare(key, nodeKey(p, nodeAt(p, mid, meta.pageSize))) >= 0) {
          hit = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      pg = childPgno(p, nodeAt(p, hit, meta.pageSize));
      continue;
    }
    if (!(p.flags & P_LEAF)) throw new LmdbFormatError('unexpected page type');
    let lo = 0;
    let hi = p.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const off = nodeAt(p, mid, meta.pageSize);
      const c = Buffer.compare(key, nodeKey(p, off));
      if (c === 0) return nodeData(src, p, off, meta.pageSize);
      if (c > 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
  throw new LmdbFormatError('tree too deep (corrupt file)');
}

/** Every entry in key order. */
export function* lmdbEntries(src: PageSource, meta: LmdbMeta): Generator<[Buffer, Buffer]> {
  if (meta.root === P_INVALID) return;
  function* walk(pg: number, depth: number): Generator<[Buffer, Buffer]> {
    if (depth > MAX_DEPTH) throw new LmdbFormatError('tree too deep (corrupt file)');
    const p = view(src.read(pg, 1, meta.pageSize), meta.pageSize);
    for (let i = 0; i < p.count; i++) {
      const off = nodeAt(p, i, meta.pageSize);
      if (p.flags & P_BRANCH) yield* walk(childPgno(p, off), depth + 1);
      else if (p.flags & P_LEAF) yield [Buffer.from(nodeKey(p, off)), nodeData(src, p, off, meta.pageSize)];
      else throw new LmdbFormatError('unexpected page type');
    }
  }
  yield* walk(Number(meta.root), 0);
}
