/*
 * DnsClient over node:dns/promises: one Resolver per client with a per-query timeout and an
 * optional list of servers (main.cf has no such parameter; the daemon's entry point chooses).
 * Error codes map to Postfix's outcomes: ENOTFOUND → notfound (NXDOMAIN), ENODATA → notfound
 * (NODATA), everything else (SERVFAIL, timeouts, refused) → retry.
 */
import { Resolver } from 'node:dns/promises';
import type { DnsAnswer, DnsClient, MxRecord } from './api.js';

export interface NodeDnsOptions {
  /** `1.2.3.4` or `[::1]:5353` forms, as node:dns setServers accepts. */
  servers?: string[];
  timeoutMs?: number;
  tries?: number;
}

export function createNodeDnsClient(opts: NodeDnsOptions = {}): DnsClient {
  const r = new Resolver({ timeout: opts.timeoutMs ?? 10_000, tries: opts.tries ?? 2 });
  if (opts.servers !== undefined && opts.servers.length > 0) r.setServers(opts.servers);
  const wrap = async <T>(q: () => Promise<T[]>): Promise<DnsAnswer<T>> => {
    try {
      const records = await q();
      return records.length > 0 ? { status: 'ok', records } : { status: 'notfound', records: [] };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOTFOUND') return { status: 'notfound', records: [], nxdomain: true };
      if (code === 'ENODATA') return { status: 'notfound', records: [] };
      return { status: 'retry', records: [] };
    }
  };
  return {
    mx: (name) => wrap<MxRecord>(() => r.resolveMx(name)),
    a: (name) => wrap(() => r.resolve4(name)),
    aaaa: (name) => wrap(() => r.resolve6(name)),
    ptr: (addr) => wrap(() => r.reverse(addr)),
    txt: (name) => wrap(async () => (await r.resolveTxt(name)).map((parts) => parts.join(''))),
  };
}
