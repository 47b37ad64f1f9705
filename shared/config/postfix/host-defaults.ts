/*
 * Host-derived defaults, computed the way Postfix 3.7 computes them (mail_params.c, inet_addr_local.c,
 * mynetworks.c): myhostname, mydomain, mynetworks, process_id.
 *
 * - myhostname: gethostname(); a name without a dot gets ".localdomain" appended.
 * - mydomain: myhostname minus its first label ("localdomain" when that leaves nothing).
 * - mynetworks: the local interface addresses, IPv4 first, then IPv6 (brackets), shaped by
 *   mynetworks_style: host (/32, /128), subnet (network/prefix of each interface), class (IPv4
 *   class A/B/C net; IPv6 as subnet).
 * The interface list is injected so the shaping stays testable without touching the host.
 */
import { hostname, networkInterfaces } from 'node:os';

export interface LocalAddress {
  family: 'IPv4' | 'IPv6';
  address: string;
  /** Prefix length. */
  prefix: number;
}

export function defaultMyHostname(host: string = hostname()): string {
  return host.includes('.') ? host : `${host}.localdomain`;
}

export function defaultMyDomain(myhostname: string): string {
  const i = myhostname.indexOf('.');
  const rest = i < 0 ? '' : myhostname.slice(i + 1);
  return rest === '' ? 'localdomain' : rest;
}

export function localAddresses(): LocalAddress[] {
  const v4: LocalAddress[] = [];
  const v6: LocalAddress[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const prefix = Number((a.cidr ?? '/0').split('/')[1]);
      if (a.family === 'IPv4') v4.push({ family: 'IPv4', address: a.address, prefix });
      else v6.push({ family: 'IPv6', address: a.address.replace(/%.*$/, ''), prefix });
    }
  }
  return [...v4, ...v6];
}

function v4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => (n * 256) + Number(o), 0) >>> 0;
}

function intToV4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function v6ToBig(a: string): bigint {
  const [head, tail] = a.includes('::') ? a.split('::') as [string, string] : [a, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined ? [] : tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/** RFC 5952-style compression, which is what inet_ntop(3) prints. */
function bigToV6(n: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** The mynetworks default for a style ("host", "subnet" or "class") over the given addresses. */
export function defaultMyNetworks(style: string, addrs: readonly LocalAddress[] = localAddresses()): string {
  const out: string[] = [];
  const add = (s: string): void => { if (!out.includes(s)) out.push(s); };
  for (const a of addrs) {
    if (a.family === 'IPv4') {
      const ip = v4ToInt(a.address);
      let len = style === 'host' ? 32 : a.prefix;
      if (style === 'class') {
        const first = ip >>> 24;
        len = first < 128 ? 8 : first < 192 ? 16 : first < 224 ? 24 : 32;
      }
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      add(`${intToV4((ip & mask) >>> 0)}/${len}`);
    } else {
      const ip = v6ToBig(a.address);
      const len = style === 'host' ? 128 : a.prefix;
      const mask = len === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len)) - 1n);
      add(`[${bigToV6(ip & mask)}]/${len}`);
    }
  }
  return out.join(' ');
}
