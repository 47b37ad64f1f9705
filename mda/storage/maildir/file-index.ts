/*
 * The files of a maildir's new/ and cur/ by base name, as one sync saw them: an immutable map
 * that this process's own changes (a flag rename, an unlink, a save) derive a new one from in time
 * proportional to the change, not to the mailbox. A derived index shares its parent's map and
 * keeps its own changes in a small overlay; past OVERLAY_MAX changes (or when iterated) it is
 * flattened into one map once. Why: every STORE copied the whole map to change one entry (a
 * string-keyed copy of 1,000 entries per flag change; docs/performance.md, "Tenth session").
 * Pure data structure, no I/O.
 */
import type { ParsedFilename } from './filename.js';

export type Sub = 'new' | 'cur';

export interface FileEntry {
  readonly sub: Sub;
  readonly filename: string;
  readonly parsed: ParsedFilename;
}

/** Overlay entries at most before a derived index is flattened (bounds lookups and each derive's copy). */
const OVERLAY_MAX = 32;
const NO_CHANGES: ReadonlyMap<string, FileEntry | null> = new Map();

export class FileIndex {
  /** The flattened map, once built (an index never changes, so neither does this). */
  private flat: ReadonlyMap<string, FileEntry> | undefined;

  private constructor(
    private readonly base: ReadonlyMap<string, FileEntry>,
    /** Entries replaced or added on top of `base` (null: removed). */
    private readonly over: ReadonlyMap<string, FileEntry | null>,
    readonly size: number,
  ) {
    if (over.size === 0) this.flat = base;
  }

  /** An index of `map` (keyed by each entry's base name); the map is kept, not copied: do not change it. */
  static of(map: ReadonlyMap<string, FileEntry>): FileIndex {
    return new FileIndex(map, NO_CHANGES, map.size);
  }

  get(base: string): FileEntry | undefined {
    if (this.flat !== undefined) return this.flat.get(base);
    const o = this.over.get(base);
    return o === undefined ? this.base.get(base) : (o ?? undefined);
  }

  has(base: string): boolean {
    return this.get(base) !== undefined;
  }

  values(): IterableIterator<FileEntry> {
    return this.flattened().values();
  }

  keys(): IterableIterator<string> {
    return this.flattened().keys();
  }

  /** A new index: this one with `remove` (base names) taken out, then `set` put in (by their base names). */
  with(set: readonly FileEntry[], remove: readonly string[]): FileIndex {
    if (set.length === 0 && remove.length === 0) return this;
    const parent = this.flat ?? this.base;
    const over = new Map(this.flat !== undefined ? NO_CHANGES : this.over);
    const now = (k: string): FileEntry | undefined => {
      const o = over.get(k);
      return o === undefined ? parent.get(k) : (o ?? undefined);
    };
    let size = this.size;
    for (const k of remove) {
      if (now(k) === undefined) continue;
      size--;
      if (parent.has(k)) over.set(k, null);
      else over.delete(k);
    }
    for (const e of set) {
      const k = e.parsed.base;
      if (now(k) === undefined) size++;
      over.set(k, e);
    }
    const next = new FileIndex(parent, over, size);
    if (over.size > OVERLAY_MAX) next.flattened();
    return next;
  }

  private flattened(): ReadonlyMap<string, FileEntry> {
    if (this.flat !== undefined) return this.flat;
    const m = new Map<string, FileEntry>();
    for (const [k, v] of this.base) {
      const o = this.over.get(k);
      if (o === undefined) m.set(k, v);
      else if (o !== null) m.set(k, o);
    }
    for (const [k, o] of this.over) if (o !== null && !this.base.has(k)) m.set(k, o);
    this.flat = m;
    return m;
  }
}
