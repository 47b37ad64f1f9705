/*
 * Pure DNS name helpers: DNSBL query names (RFC 5782 §2.1: reversed IPv4 octets, reversed IPv6
 * nibbles), null MX detection (RFC 7505: a single MX of preference 0 with exchange "."), and the
 * DNSBL reply-filter match `domain=127.0.0.[2..11]` forms Postfix accepts in reject_rbl_client.
 * Distrusts: addresses and filter strings from main.cf (invalid ones yield undefined / false).
 */
import ipaddr from 'ipaddr.js';
import type { MxRecord } from './api.js';

/** `1.2.3.4` + `zen.example` → `4.3.2.1.zen.example`; IPv6 as 32 reversed nibbles. */
export function dnsblQueryName(addr: string, zone: string): string | undefined {
  if (!ipaddr.isValid(addr)) return undefined;
  let ip = ipaddr.parse(addr);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  if (ip.kind() === 'ipv4') return `${ip.toByteArray().reverse().join('.')}.${zone}`;
  const nibbles = ip.toByteArray().flatMap((b) => [b >> 4, b & 15].map((n) => n.toString(16)));
  return `${nibbles.reverse().join('.')}.${zone}`;
}

export function isNullMx(records: readonly MxRecord[]): boolean {
  return records.length === 1 && (records[0]!.exchange === '' || records[0]!.exchange === '.') && records[0]!.priority === 0;
}

/**
 * Matches an A-record answer against a reject_rbl_client filter: `127.0.0.2`, `127.0.0.[2;4]`,
 * `127.0.0.[2..11]`, `127.0.[0..255].2` (each octet a number, a `[a;b]` set or a `[a..b]` range).
 */
export function rblFilterMatches(filter: string, answer: string): boolean {
  const f = filter.match(/\[[^\]]*\]|[^.]+/g) ?? [];
  const a = answer.split('.');
  if (f.length !== 4 || a.length !== 4) return false;
  return f.every((pat, i) => octetMatches(pat, Number(a[i])));
}

function octetMatches(pat: string, v: number): boolean {
  if (/^\d+$/.test(pat)) return Number(pat) === v;
  const m = /^\[(.*)\]$/.exec(pat);
  if (!m) return false;
  return m[1]!.split(';').some((part) => {
    const r = /^(\d+)\.\.(\d+)$/.exec(part);
    if (r) return v >= Number(r[1]) && v <= Number(r[2]);
    return /^\d+$/.test(part) && Number(part) === v;
  });
}
