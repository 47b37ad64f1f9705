/*
 * An in-memory DnsClient for tests and offline runs: a zone given as records per name. Names are
 * case-insensitive and compared without a trailing dot. A name listed in `retry` answers
 * temporarily for every type; a name with no records of any type is NXDOMAIN.
 */
import type { DnsAnswer, DnsClient, MxRecord } from './api.js';

export interface StaticZone {
  mx?: Record<string, MxRecord[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  ptr?: Record<string, string[]>;
  txt?: Record<string, string[]>;
  retry?: string[];
}

const norm = (n: string): string => n.toLowerCase().replace(/\.$/, '');

export function createStaticDnsClient(zone: StaticZone): DnsClient {
  const exists = (name: string): boolean =>
    [zone.mx, zone.a, zone.aaaa, zone.ptr, zone.txt].some((t) => t !== undefined && Object.keys(t).some((k) => norm(k) === name));
  const ask = <T>(table: Record<string, T[]> | undefined, raw: string): Promise<DnsAnswer<T>> => {
    const name = norm(raw);
    if ((zone.retry ?? []).map(norm).includes(name)) return Promise.resolve({ status: 'retry', records: [] });
    const hit = Object.entries(table ?? {}).find(([k]) => norm(k) === name)?.[1];
    if (hit !== undefined && hit.length > 0) return Promise.resolve({ status: 'ok', records: [...hit] });
    return Promise.resolve(exists(name) ? { status: 'notfound', records: [] } : { status: 'notfound', records: [], nxdomain: true });
  };
  return {
    mx: (n) => ask(zone.mx, n),
    a: (n) => ask(zone.a, n),
    aaaa: (n) => ask(zone.aaaa, n),
    ptr: (n) => ask(zone.ptr, n),
    txt: (n) => ask(zone.txt, n),
  };
}
