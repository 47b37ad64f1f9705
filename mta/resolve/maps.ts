/*
 * A list of lookup tables from a list parameter (virtual_alias_maps, transport_maps …), searched
 * as Postfix's maps_find(3) and mail_addr_find(3) do: for each key of the search order, each
 * table in list order; the first answer wins. Tables open lazily on first use (so a missing table
 * in an unused parameter does not break start-up) and errors surface as thrown TableOpenError /
 * TableLookupError, which callers treat as temporary.
 */
import type { LookupTable } from '../../shared/config/tables/table.js';

export interface MapHit {
  value: string;
  key: string;
  table: string;
}

export class MapList {
  private opened: LookupTable[] | undefined;
  constructor(
    /** Parameter name, for messages (`virtual_alias_maps`). */
    readonly title: string,
    readonly specs: readonly string[],
    private readonly open: (spec: string) => LookupTable,
  ) {}

  get empty(): boolean {
    return this.specs.length === 0;
  }

  private tables(): LookupTable[] {
    this.opened ??= this.specs.map((s) => this.open(s));
    return this.opened;
  }

  /** First answer over keys × tables, or undefined. */
  find(keys: readonly string[]): MapHit | undefined {
    if (this.specs.length === 0) return undefined;
    const tables = this.tables();
    for (const key of keys) {
      for (const t of tables) {
        const value = t.lookup(key);
        if (value !== undefined) return { value, key, table: t.spec };
      }
    }
    return undefined;
  }
}
