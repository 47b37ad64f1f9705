/*
 * The MTA's DNS seam: the few record types smtpd's restrictions ask for (MX, A, AAAA, PTR, TXT),
 * with Postfix's three-way outcome (dns_lookup.c: DNS_OK, DNS_NOTFOUND, DNS_RETRY). Anything that
 * is not a clear "no such name / no such record" is temporary, so a broken resolver defers rather
 * than rejects. Implementations: node-dns.ts (node:dns/promises, configurable server) for
 * production, static-dns.ts (an in-memory zone) for tests.
 */

export type DnsStatus = 'ok' | 'notfound' | 'retry';

export interface DnsAnswer<T> {
  status: DnsStatus;
  /** Empty unless status is 'ok'. */
  records: T[];
  /** NXDOMAIN (the name does not exist) as opposed to NODATA (no record of this type). */
  nxdomain?: boolean;
}

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface DnsClient {
  mx(name: string): Promise<DnsAnswer<MxRecord>>;
  a(name: string): Promise<DnsAnswer<string>>;
  aaaa(name: string): Promise<DnsAnswer<string>>;
  /** Reverse lookup of an IPv4/IPv6 address. */
  ptr(addr: string): Promise<DnsAnswer<string>>;
  /** TXT records, each joined from its strings. */
  txt(name: string): Promise<DnsAnswer<string>>;
}
