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
