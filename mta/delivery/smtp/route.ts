/*
 * From a next hop to the list of addresses to try (smtp_connect.c / smtp_addr.c behaviour), with
 * Postfix's texts for what goes wrong:
 *   - null MX                → bounce 5.1.0 `Domain D does not accept mail (nullMX)`
 *   - NXDOMAIN / no records  → bounce 5.4.4 `Host or domain name not found. Name service error for name=N type=A: Host not found`
 *   - SERVFAIL / timeout     → defer 4.4.3 `… Host not found, try again`
 *   - own address as best MX → bounce 5.4.6 `mail for D loops back to myself`
 * No MX records (NODATA or NXDOMAIN on the MX query) falls back to the domain's own A/AAAA records.
 * Loop detection applies on the default port only: content filters listen on loopback at other
 * ports (`[127.0.0.1]:10025`) and must stay reachable.
 * DNS I/O goes through the injected SmtpDns; the ordering rules are in mx-order.ts.
 */
import { DnsError, type SmtpDns } from './dns.js';
import { isNullMx, orderAddresses, orderMx, targets, truncateSelf, type HostEntry, type InetProtocols, type Random, type Target } from './mx-order.js';
import type { NextHop } from './nexthop.js';

export type Route =
  | { kind: 'targets'; targets: Target[] }
  | { kind: 'fail'; permanent: boolean; dsn: string; reason: string };

export interface RouteOptions {
  dns: SmtpDns;
  protocols: InetProtocols;
  /** smtp_mx_address_limit (0 = unlimited). */
  addressLimit: number;
  /** Own addresses (loop detection). */
  isOwn: (addr: string) => boolean;
  /** Port that loop detection applies to (smtp_tcp_port). */
  defaultPort: number;
  randomize: boolean;
  balance: boolean;
  random?: Random;
}

const NOT_FOUND = 'Host or domain name not found. ';

function dnsFail(err: DnsError): Route {
  return err.kind === 'temp'
    ? { kind: 'fail', permanent: false, dsn: '4.4.3', reason: NOT_FOUND + err.message }
    : { kind: 'fail', permanent: true, dsn: '5.4.4', reason: NOT_FOUND + err.message };
}

/** A and/or AAAA of one name; the error reported is a temporary one if any, else the last. */
async function hostAddrs(name: string, o: RouteOptions): Promise<string[] | DnsError> {
  const fams: Array<4 | 6> = [];
  if (o.protocols.v6) fams.push(6);
  if (o.protocols.v4) fams.push(4);
  const found: Record<4 | 6, string[]> = { 4: [], 6: [] };
  let error: DnsError | undefined;
  for (const f of fams) {
    try {
      found[f] = await o.dns.addrs(name, f);
    } catch (err) {
      if (!(err instanceof DnsError)) throw err;
      if (error === undefined || error.kind !== 'temp') error = err;
    }
  }
  const addrs = orderAddresses(found[4], found[6], { randomize: o.randomize, balance: o.balance, ...(o.random ? { random: o.random } : {}) });
  if (addrs.length > 0) return addrs;
  return error ?? new DnsError('notfound', name, o.protocols.v4 ? 'A' : 'AAAA');
}

function finish(hop: NextHop, hosts: HostEntry[], o: RouteOptions): Route {
  if (hop.port === o.defaultPort) {
    const r = truncateSelf(hosts, o.isOwn);
    if (r.kind === 'loop') return { kind: 'fail', permanent: true, dsn: '5.4.6', reason: `mail for ${hop.host} loops back to myself` };
    hosts = r.hosts;
  }
  return { kind: 'targets', targets: targets(hosts, o.addressLimit) };
}

async function hostRoute(hop: NextHop, o: RouteOptions): Promise<Route> {
  if (hop.literal !== undefined) {
    if ((hop.literal === 4 && !o.protocols.v4) || (hop.literal === 6 && !o.protocols.v6)) {
      return { kind: 'fail', permanent: true, dsn: '5.4.4', reason: `${NOT_FOUND}Name service error for name=${hop.host} type=A: Host not found` };
    }
    return finish(hop, [{ host: hop.host, pref: 0, addrs: [hop.host] }], o);
  }
  const addrs = await hostAddrs(hop.host, o);
  if (addrs instanceof DnsError) return dnsFail(addrs);
  return finish(hop, [{ host: hop.host, pref: 0, addrs }], o);
}

/** Resolves one next hop to connection targets or a failure with Postfix's reason text. */
export async function resolveRoute(hop: NextHop, o: RouteOptions): Promise<Route> {
  if (!hop.mx) return hostRoute(hop, o);
  let records;
  try {
    records = await o.dns.mx(hop.host);
  } catch (err) {
    if (!(err instanceof DnsError)) throw err;
    if (err.kind === 'temp') return dnsFail(err);
    return hostRoute(hop, o);
  }
  if (records.length === 0) return hostRoute(hop, o);
  if (isNullMx(records)) return { kind: 'fail', permanent: true, dsn: '5.1.0', reason: `Domain ${hop.host} does not accept mail (nullMX)` };
  const hosts: HostEntry[] = [];
  let lastError: DnsError | undefined;
  for (const mx of orderMx(records, o.random)) {
    const addrs = await hostAddrs(mx.exchange, o);
    if (addrs instanceof DnsError) {
      if (lastError === undefined || lastError.kind !== 'temp') lastError = addrs;
      continue;
    }
    hosts.push({ host: mx.exchange.replace(/\.$/, ''), pref: mx.priority, addrs });
  }
  if (hosts.length === 0) return dnsFail(lastError ?? new DnsError('notfound', hop.host, 'MX'));
  return finish(hop, hosts, o);
}
