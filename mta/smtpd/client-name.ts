/*
 * The client host name as Postfix's smtpd computes it (smtpd_peer.c): reverse-resolve the address,
 * then forward-resolve every name found and keep the first that maps back to the address; otherwise
 * `unknown`. The resolver functions are injected (tests use loopback-friendly stubs: 127.0.0.1 →
 * localhost). Lookups are bounded by a timeout; any failure gives `unknown`, never a hang.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';

export interface HostResolver {
  reverse(addr: string): Promise<string[]>;
  forward(name: string): Promise<string[]>;
}

export const systemResolver: HostResolver = {
  /**
   * getnameinfo(3), the call Postfix's smtpd makes, so /etc/hosts and nsswitch.conf answer as they
   * do for Postfix. Node's dns.reverse asks c-ares, which for a hosts-file answer leaves out the
   * entry's first name: on Debian 127.0.0.1 came out as no name at all (`unknown`) where Postfix
   * logs `localhost`. Without NI_NAMEREQD getnameinfo gives the address itself when there is no
   * name: that is no name.
   */
  reverse: async (addr) => {
    const { hostname } = await dns.lookupService(addr, 0);
    return isIP(hostname) === 0 ? [hostname] : [];
  },
  forward: async (name) => {
    const r = await dns.lookup(name, { all: true });
    return r.map((a) => a.address);
  },
};

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is reported as the IPv4 address, as Postfix does. */
export function normaliseAddr(addr: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m ? m[1]! : addr;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e); });
  });
}

export async function clientHostname(addr: string, resolver: HostResolver, timeoutMs = 10_000): Promise<string> {
  try {
    const names = await withTimeout(resolver.reverse(addr), timeoutMs);
    for (const raw of names) {
      const name = raw.replace(/\.$/, '');
      if (!/^[A-Za-z0-9.-]+$/.test(name)) continue;
      const addrs = await withTimeout(resolver.forward(name), timeoutMs).catch(() => [] as string[]);
      if (addrs.map(normaliseAddr).includes(addr)) return name;
    }
  } catch {
    /* no reverse name */
  }
  return 'unknown';
}

/** How long a computed client name is reused for further connections from the same address. */
export const CLIENT_NAME_TTL_MS = 5_000;
const CLIENT_NAME_CACHE_MAX = 4_096;

/**
 * clientHostname() answers kept per address for a few seconds, and one lookup shared by the
 * connections that arrive while it runs. Postfix's smtpd looks the name up for every connection and
 * leaves caching to the system's resolver; glibc has none for /etc/hosts, and Node's
 * lookupService() also reads /etc/services for the port: each connection cost three opens and eight
 * stats on the thread pool (strace of `smtp-source -s 20`); with the cache, warm `-s 20` took
 * 0.85–1.06 machine CPU ms per message against 0.98–1.29 (docs/performance.md, eighth session).
 * A name may therefore lag a DNS or /etc/hosts change by CLIENT_NAME_TTL_MS, less than a typical
 * DNS TTL would. `unknown` is kept as long as a name (a lookup that timed out is not repeated for
 * each of a flood of connections). Bounded: the oldest entry goes first once it is full.
 */
export class ClientNameCache {
  private readonly names = new Map<string, { name: Promise<string>; until: number }>();

  constructor(
    private readonly resolver: HostResolver,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = CLIENT_NAME_TTL_MS,
    private readonly max = CLIENT_NAME_CACHE_MAX,
  ) {}

  lookup(addr: string, timeoutMs?: number): Promise<string> {
    const now = this.now();
    const hit = this.names.get(addr);
    if (hit !== undefined && hit.until > now) return hit.name;
    if (hit !== undefined) this.names.delete(addr);
    const name = clientHostname(addr, this.resolver, timeoutMs);
    // The entry lives from the lookup's end: one that took the whole timeout is not stale at once.
    const entry = { name, until: Number.POSITIVE_INFINITY };
    this.names.set(addr, entry);
    void name.then(() => {
      entry.until = this.now() + this.ttlMs;
    });
    while (this.names.size > this.max) this.names.delete(this.names.keys().next().value!);
    return name;
  }
}
