/*
 * Postfix's match_list(3) for domain-valued list parameters (mydestination, relay_domains,
 * virtual_alias_domains, virtual_mailbox_domains …): items are host names, `.domain` patterns,
 * `!pattern` negations, `/file/name` (replaced by the file's items) and `type:table` (the domain
 * is looked up; any answer is a match). With the parameter in parent_domain_matches_subdomains a
 * plain `example.com` also matches `sub.example.com`, and tables are asked for parent domains too.
 * The first matching item decides (a negated match says "no"). Matching is case-insensitive.
 * I/O is injected (file reading, table opening) so the matcher is testable without files.
 */
import type { LookupTable } from '../../shared/config/tables/table.js';
import { domainKeys } from '../../shared/config/tables/search-order.js';
import { splitList } from '../../shared/config/postfix/values.js';

export interface ListIo {
  readFile(path: string): string;
  openTable(spec: string): LookupTable;
}

type Item =
  | { kind: 'name'; negate: boolean; name: string }
  | { kind: 'table'; negate: boolean; table: LookupTable };

export interface DomainList {
  /** True when the list names no items at all (Postfix treats such lists as "no match"). */
  readonly empty: boolean;
  /** The items as configured (after /file expansion), for diagnostics. */
  readonly items: readonly string[];
  matches(domain: string): boolean;
}

/** `/file/name` items become the file's words; `#` comment lines in the file are skipped. */
export function expandFileItems(items: readonly string[], io: Pick<ListIo, 'readFile'>, depth = 0): string[] {
  const out: string[] = [];
  for (const raw of items) {
    const negate = raw.startsWith('!');
    const item = negate ? raw.slice(1) : raw;
    if (item.startsWith('/') && depth < 10) {
      const text = io.readFile(item).split('\n').filter((l) => !/^\s*#/.test(l)).join(' ');
      const inner = expandFileItems(splitList(text), io, depth + 1);
      out.push(...(negate ? inner.map((i) => (i.startsWith('!') ? i.slice(1) : `!${i}`)) : inner));
    } else out.push(raw);
  }
  return out;
}

/** A `type:name` item (not `[addr]:port`-like, not an IPv6 address). */
export function isTableItem(item: string): boolean {
  return /^[a-z][a-z0-9_-]*:./.test(item) && !item.startsWith('[');
}

export function compileDomainList(items: readonly string[], parentMatches: boolean, io: ListIo): DomainList {
  const flat = expandFileItems(items, io);
  const compiled: Item[] = flat.map((raw) => {
    const negate = raw.startsWith('!');
    const item = negate ? raw.slice(1) : raw;
    if (isTableItem(item)) return { kind: 'table', negate, table: io.openTable(item) };
    return { kind: 'name', negate, name: item.toLowerCase().replace(/\.$/, '') };
  });
  return {
    empty: compiled.length === 0,
    items: flat,
    matches(domainIn: string): boolean {
      const domain = domainIn.toLowerCase().replace(/\.$/, '');
      for (const it of compiled) {
        if (matchItem(it, domain, parentMatches)) return !it.negate;
      }
      return false;
    },
  };
}

function matchItem(it: Item, domain: string, parentMatches: boolean): boolean {
  if (it.kind === 'table') {
    const keys = parentMatches ? domainKeys(domain, true) : [domain];
    if (!parentMatches) {
      // Without parent matching Postfix still tries `.parent` keys for tables.
      keys.push(...domainKeys(domain, false).slice(1));
    }
    return keys.some((k) => it.table.lookup(k) !== undefined);
  }
  const name = it.name;
  if (name === domain) return true;
  if (name.startsWith('.')) return domain.endsWith(name);
  return parentMatches && domain.endsWith(`.${name}`);
}
