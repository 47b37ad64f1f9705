/*
 * A table held in memory as a Map: the shared body of texthash:, inline: and (for postmap -s on a
 * source file) anything parsed from key/value text. Keys are folded at insertion and lookup when the
 * table folds case, as Postfix dict_ht with DICT_FLAG_FOLD_FIX does.
 */
import { foldKey, type LookupTable, type TableEntry } from './table.js';

export class MemoryTable implements LookupTable {
  readonly spec: string;
  private readonly map = new Map<string, string>();

  constructor(
    readonly type: string,
    readonly name: string,
    readonly fold: boolean,
  ) {
    this.spec = `${type}:${name}`;
  }

  /** Adds an entry; returns false (and keeps the first value) when the folded key already exists. */
  add(key: string, value: string, replace = false): boolean {
    const k = this.fold ? foldKey(key) : key;
    if (this.map.has(k) && !replace) return false;
    this.map.set(k, value);
    return true;
  }

  normalise(key: string): string {
    return this.fold ? foldKey(key) : key;
  }

  lookup(key: string): string | undefined {
    return this.map.get(this.fold ? foldKey(key) : key);
  }

  *sequence(): Iterable<TableEntry> {
    for (const [key, value] of this.map) yield { key, value };
  }

  get size(): number {
    return this.map.size;
  }

  close(): void {
    this.map.clear();
  }
}
