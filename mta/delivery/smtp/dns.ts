/*
 * DNS for the smtp(8) client: MX, A and AAAA through node:dns/promises' Resolver (c-ares, not
 * getaddrinfo, as smtp_host_lookup = dns). `postern_dns_servers` (Postern-only, mta/params.ts) points
 * it at other servers, e.g. a responder on loopback in tests; empty means the system's resolv.conf.
 * Errors become two kinds, as Postfix's dns_lookup() reports them: `notfound` (NXDOMAIN or no
 * records of that type: permanent) and `temp` (SERVFAIL, timeouts, refused: try again later).
 */
import { Resolver } from 'node:dns/promises';
import type { MxRecord } from './mx-order.js';

export type DnsErrorKind = 'notfound' | 'temp';

export class DnsError extends Error {
  override readonly name = 'DnsError';
  constructor(
    readonly kind: DnsErrorKind,
    readonly qname: string,
    readonly qtype: 'MX' | 'A' | 'AAAA',
  ) {
    super(`Name service error for name=${qname} type=${qtype}: Host not found${kind === 'temp' ? ', try again' : ''}`);
  }
}

export interface SmtpDns {
  /** MX records; throws DnsError (notfound for NXDOMAIN and for "no MX records"). */
  mx(name: string): Promise<MxRecord[]>;
  /** A (4) or AAAA (6) addresses; throws DnsError. */
  addrs(name: string, family: 4 | 6): Promise<string[]>;
}

const NOTFOUND = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

function classify(err: unknown, qname: string, qtype: 'MX' | 'A' | 'AAAA'): DnsError {
  const code = (err as { code?: unknown } | undefined)?.code;
  return new DnsError(typeof code === 'string' && NOTFOUND.has(code) ? 'notfound' : 'temp', qname, qtype);
}

export interface NodeDnsOptions {
  /** `ip` or `ip:port` / `[ipv6]:port` entries; empty = system resolvers. */
  servers?: readonly string[];
  /** Per-try timeout in ms (c-ares), default 5000; tries default 2. */
  timeoutMs?: number;
  tries?: number;
}

export function nodeDns(opts: NodeDnsOptions = {}): SmtpDns {
  const r = new Resolver({ timeout: opts.timeoutMs ?? 5000, tries: opts.tries ?? 2 });
  if (opts.servers && opts.servers.length > 0) r.setServers([...opts.servers]);
  return {
    async mx(name) {
      try {
        return (await r.resolveMx(name)).map((m) => ({ exchange: m.exchange, priority: m.priority }));
      } catch (err) {
        throw classify(err, name, 'MX');
      }
    },
    async addrs(name, family) {
      try {
        return family === 4 ? await r.resolve4(name) : await r.resolve6(name);
      } catch (err) {
        throw classify(err, name, family === 4 ? 'A' : 'AAAA');
      }
    },
  };
}
