/*
 * MX ordering and the address list of one delivery, pure (smtp_addr.c behaviour):
 *  - MX hosts sorted by preference, equal preferences in random order (RFC 5321 §5.1);
 *  - a null MX (RFC 7505: one record whose exchange is ".") means the domain takes no mail;
 *  - loop detection: when one of our own addresses is an MX host, only strictly better
 *    preferences are kept; when we are the best MX, the mail "loops back to myself";
 *  - smtp_mx_address_limit caps the number of addresses tried (0 = no limit);
 *  - inet_protocols chooses A and/or AAAA; addresses of one host are shuffled
 *    (smtp_randomize_addresses) and, with both families, interleaved (smtp_balance_inet_protocols).
 * No I/O: DNS answers come in, an ordered list goes out. `random` is injectable for tests.
 */

export interface MxRecord {
  readonly exchange: string;
  readonly priority: number;
}

export interface HostEntry {
  /** Host name as the MX record names it (or the next hop itself without MX). */
  readonly host: string;
  readonly pref: number;
  readonly addrs: readonly string[];
}

export interface Target {
  readonly host: string;
  readonly addr: string;
  readonly pref: number;
}

export type Random = () => number;

/** True when the MX answer is RFC 7505's null MX (a lone record with the root as exchange). */
export function isNullMx(records: readonly MxRecord[]): boolean {
  return records.length === 1 && normaliseName(records[0]!.exchange) === '';
}

export function normaliseName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Sorts MX records by preference, shuffling each group of equal preference; drops "." entries. */
export function orderMx(records: readonly MxRecord[], random: Random = Math.random): MxRecord[] {
  const byPref = new Map<number, MxRecord[]>();
  for (const r of records) {
    if (normaliseName(r.exchange) === '') continue;
    const list = byPref.get(r.priority) ?? [];
    if (!list.some((x) => normaliseName(x.exchange) === normaliseName(r.exchange))) list.push(r);
    byPref.set(r.priority, list);
  }
  return [...byPref.keys()].sort((a, b) => a - b).flatMap((p) => shuffle([...byPref.get(p)!], random));
}

export type LoopResult = { kind: 'ok'; hosts: HostEntry[] } | { kind: 'loop' };

/**
 * Postfix's smtp_truncate_self: if an own address appears among the MX hosts, keep only hosts with a
 * strictly better (lower) preference; none left means the mail loops back to this machine.
 */
export function truncateSelf(hosts: readonly HostEntry[], isOwn: (addr: string) => boolean): LoopResult {
  let selfPref: number | undefined;
  for (const h of hosts) {
    if (h.addrs.some(isOwn)) selfPref = selfPref === undefined ? h.pref : Math.min(selfPref, h.pref);
  }
  if (selfPref === undefined) return { kind: 'ok', hosts: [...hosts] };
  const kept = hosts.filter((h) => h.pref < selfPref!);
  return kept.length === 0 ? { kind: 'loop' } : { kind: 'ok', hosts: kept };
}

/** Orders one host's addresses: shuffled per family, then IPv6/IPv4 interleaved when both exist. */
export function orderAddresses(v4: readonly string[], v6: readonly string[], opts: { randomize: boolean; balance: boolean; random?: Random }): string[] {
  const random = opts.random ?? Math.random;
  const a = opts.randomize ? shuffle([...v4], random) : [...v4];
  const b = opts.randomize ? shuffle([...v6], random) : [...v6];
  if (!opts.balance || a.length === 0 || b.length === 0) return [...b, ...a];
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < b.length) out.push(b[i]!);
    if (i < a.length) out.push(a[i]!);
  }
  return out;
}

/** Flattens hosts into connection targets, at most `limit` (smtp_mx_address_limit; 0 = unlimited). */
export function targets(hosts: readonly HostEntry[], limit: number): Target[] {
  const out: Target[] = [];
  const seen = new Set<string>();
  for (const h of hosts) {
    for (const addr of h.addrs) {
      if (seen.has(addr)) continue;
      seen.add(addr);
      if (limit > 0 && out.length >= limit) return out;
      out.push({ host: h.host, addr, pref: h.pref });
    }
  }
  return out;
}

export type InetProtocols = { v4: boolean; v6: boolean };

/** inet_protocols (`all`, `ipv4`, `ipv6`, `ipv4, ipv6`). An empty or unknown list means both. */
export function parseInetProtocols(list: readonly string[]): InetProtocols {
  const l = list.map((s) => s.toLowerCase());
  if (l.length === 0 || l.includes('all')) return { v4: true, v6: true };
  const r = { v4: l.includes('ipv4'), v6: l.includes('ipv6') };
  return r.v4 || r.v6 ? r : { v4: true, v6: true };
}
