/*
 * Views of a parsed dovecot.conf: the values a process sees for a given protocol / local IP / remote IP /
 * local name (filters merged, defaults filled in), or one filter block alone (what `doveconf -n` prints inside
 * `protocol imap { }`).
 *
 * Follows Dovecot 2.3's config-filter: a block applies when each of its conditions is given and matches
 * (`protocol !imap` negates; local_name holds space-separated names with `*` wildcards); the most specific block
 * wins (local_name, then longer local mask, longer remote mask, then protocol), the global block last.
 */
import ipaddr from 'ipaddr.js';
import { isGlobalFilter, type FilterBlock, type FilterSpec, type Net, type ParsedDovecotConfig } from './model.js';
import { BUILTIN_LISTS, LIST_KINDS, defaultOf, inBuiltinElements } from './schema.js';

/** What a process knows about its connection when it asks for settings. */
export interface FilterQuery {
  readonly protocol?: string;
  readonly local?: Net;
  readonly remote?: Net;
  readonly localName?: string;
}

export interface ConfigView {
  /** Value of an export path: the most specific explicit value, else the default. */
  get(path: string): string;
  /** True when some applicable block set the path explicitly. */
  isSet(path: string): boolean;
  /** Element ids of a list path, built-in ones first. */
  listIds(listPath: string): string[];
  /** Whether a free-form section (plugin, dict) exists at `path`, and its keys in order. */
  strlistKeys(path: string): string[] | undefined;
}

function inNet(ip: Net, mask: Net): boolean {
  try {
    const a = ipaddr.parse(ip.ip);
    const m = ipaddr.parse(mask.ip);
    if (a.kind() !== m.kind()) return false;
    return a.match(m, mask.bits);
  } catch {
    return false;
  }
}

function wildcardMatch(name: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
  return re.test(name);
}

/** config_filter_match(): does block filter `mask` apply to `q`? */
export function filterMatches(mask: FilterSpec, q: FilterQuery): boolean {
  if (mask.protocol !== undefined) {
    if (q.protocol === undefined) return false;
    if (mask.protocol.startsWith('!') ? q.protocol === mask.protocol.slice(1) : q.protocol !== mask.protocol) return false;
  }
  if (mask.localName !== undefined) {
    if (q.localName === undefined) return false;
    const ln = q.localName;
    if (!mask.localName.split(' ').filter((s) => s !== '').some((p) => wildcardMatch(ln, p))) return false;
  }
  if (mask.remote !== undefined && (q.remote === undefined || !inNet(q.remote, mask.remote))) return false;
  if (mask.local !== undefined && (q.local === undefined || !inNet(q.local, mask.local))) return false;
  return true;
}

/** config_filter_parser_cmp(): negative when `a` is more specific than `b`. */
export function filterSpecificity(a: FilterSpec, b: FilterSpec): number {
  if (a.localName !== undefined && b.localName === undefined) return -1;
  if (a.localName === undefined && b.localName !== undefined) return 1;
  const lb = (a.local?.bits ?? 0) - (b.local?.bits ?? 0);
  if (lb !== 0) return -lb;
  const rb = (a.remote?.bits ?? 0) - (b.remote?.bits ?? 0);
  if (rb !== 0) return -rb;
  if (a.protocol !== undefined && b.protocol === undefined) return -1;
  if (a.protocol === undefined && b.protocol !== undefined) return 1;
  return 0;
}

function viewOf(blocks: readonly FilterBlock[]): ConfigView {
  // Observed doveconf behaviour: once a filter block applies, the list elements the global block created
  // (namespaces, passdbs, new listeners …) keep their values but no longer count as explicitly set; changes to
  // built-in services and listeners still do.
  const merged = blocks.length > 1;
  return {
    get(path) {
      for (const b of blocks) {
        const e = b.set.get(path);
        if (e !== undefined) return e.value;
      }
      return defaultOf(path);
    },
    isSet(path) {
      return blocks.some((b) => b.set.has(path) && !(merged && isGlobalFilter(b.filter) && LIST_KINDS.has(path.split('/')[0] ?? '') && !inBuiltinElements(path)));
    },
    listIds(listPath) {
      const ids = [...(BUILTIN_LISTS.get(listPath) ?? [])];
      for (const b of [...blocks].reverse()) {
        for (const id of b.lists.get(listPath) ?? []) if (!ids.includes(id)) ids.push(id);
      }
      return ids;
    },
    strlistKeys(path) {
      if (!blocks.some((b) => b.strlists.has(path))) return undefined;
      const keys: string[] = [];
      const prefix = `${path}/`;
      for (const b of [...blocks].reverse()) {
        for (const k of b.set.keys()) {
          if (k.startsWith(prefix) && !k.slice(prefix.length).includes('/') && !keys.includes(k)) keys.push(k);
        }
      }
      return keys.map((k) => k.slice(prefix.length));
    },
  };
}

/** The settings a process with connection facts `q` sees (no facts: the global block only). */
export function mergedView(cfg: ParsedDovecotConfig, q: FilterQuery = {}): ConfigView {
  const blocks = cfg.blocks.filter((b) => filterMatches(b.filter, q));
  blocks.sort((a, b) => filterSpecificity(a.filter, b.filter));
  return viewOf(blocks);
}

/** One block alone, defaults filled in (for printing a filter's own settings). */
export function blockView(block: FilterBlock): ConfigView {
  return viewOf([block]);
}
