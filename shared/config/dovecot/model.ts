/*
 * What parsing dovecot.conf (2.3) yields: one block of explicitly set values per filter (the global block first),
 * keyed by Dovecot's export paths (see schema.ts), plus the list elements each block created. Defaults are not
 * stored here; views (view.ts) layer them in. Pure data and small helpers, no I/O.
 */
import ipaddr from 'ipaddr.js';

export interface Net {
  /** The address as Dovecot prints it (net_ip2addr). */
  readonly ip: string;
  readonly bits: number;
  readonly v6: boolean;
}

/** A `protocol`/`local`/`remote`/`local_name` filter; all absent for the global block. */
export interface FilterSpec {
  readonly protocol?: string;
  readonly local?: Net;
  readonly remote?: Net;
  readonly localName?: string;
}

export interface SettingEntry {
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

export interface FilterBlock {
  readonly filter: FilterSpec;
  readonly file: string;
  readonly line: number;
  /** Explicitly set values by export path, in the order they were first set. */
  readonly set: Map<string, SettingEntry>;
  /** List elements this block added, by list path (`passdb`, `namespace/inbox/mailbox`), in creation order. */
  readonly lists: Map<string, string[]>;
  /** Free-form sections (plugin, dict) this block opened, by path, so an empty `plugin {}` still exists. */
  readonly strlists: Set<string>;
}

export interface ParsedDovecotConfig {
  readonly path: string;
  /** blocks[0] is the global block. */
  readonly blocks: readonly FilterBlock[];
}

export function newBlock(filter: FilterSpec, file: string, line: number): FilterBlock {
  return { filter, file, line, set: new Map(), lists: new Map(), strlists: new Set() };
}

function sameNet(a: Net | undefined, b: Net | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.ip === b.ip && a.bits === b.bits;
}

export function sameFilter(a: FilterSpec, b: FilterSpec): boolean {
  return a.protocol === b.protocol && sameNet(a.local, b.local) && sameNet(a.remote, b.remote) &&
    (a.localName ?? '').toLowerCase() === (b.localName ?? '').toLowerCase() && (a.localName === undefined) === (b.localName === undefined);
}

export function isGlobalFilter(f: FilterSpec): boolean {
  return f.protocol === undefined && f.local === undefined && f.remote === undefined && f.localName === undefined;
}

/** Parses `ip[/bits]` as Dovecot's config_parse_net does for IP literals; returns an error text otherwise. */
export function parseNet(text: string): Net | string {
  const slash = text.indexOf('/');
  const ipText = slash < 0 ? text : text.slice(0, slash);
  if (!ipaddr.isValid(ipText)) {
    return `gethostbyname(${ipText}) failed: Postern does not resolve host names in local/remote filters (use an IP address)`;
  }
  const addr = ipaddr.parse(ipText);
  const v6 = addr.kind() === 'ipv6';
  const max = v6 ? 128 : 32;
  let bits = max;
  if (slash >= 0) {
    const b = text.slice(slash + 1);
    if (!/^\d+$/.test(b) || Number(b) > max) return `Invalid network mask: ${b}`;
    bits = Number(b);
  }
  return { ip: addr.toString(), bits, v6 };
}

/** `local 1.2.3.4`, `remote 10.0.0.0/8` … as doveconf prints the filter head. */
export function formatNet(n: Net): string {
  return n.bits === (n.v6 ? 128 : 32) ? n.ip : `${n.ip}/${n.bits}`;
}
