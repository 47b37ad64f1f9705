/*
 * Where an LMTP next hop points (pure), as Postfix's lmtp(8) reads its destination:
 *   unix:/abs/path               a Unix socket
 *   unix:private/dovecot-lmtp    relative to queue_directory (Postfix chdir()s there)
 *   inet:host:port, inet:[host]:port, host:port, [host]:port, host   TCP (default port lmtp_tcp_port, 24)
 * and how the log names it: `relay=myhostname[private/dovecot-lmtp]` for sockets (the path as
 * written), `relay=host[addr]:port` for TCP. Distrusts the next hop text (from transport_maps or
 * main.cf): a malformed one is a typed error the agent turns into a deferral.
 */
import { isAbsolute, join } from 'node:path';

export type LmtpTarget =
  | { kind: 'unix'; path: string; display: string }
  | { kind: 'inet'; host: string; port: number };

export class LmtpTargetError extends Error {
  override readonly name = 'LmtpTargetError';
}

function parsePort(p: string, nexthop: string): number {
  if (/^\d{1,5}$/.test(p) && Number(p) > 0 && Number(p) < 65536) return Number(p);
  throw new LmtpTargetError(`bad port in destination: ${nexthop}`);
}

function parseHostPort(s: string, defaultPort: number, nexthop: string): LmtpTarget {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) throw new LmtpTargetError(`malformed destination: ${nexthop}`);
    const host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest === '') return { kind: 'inet', host, port: defaultPort };
    if (!rest.startsWith(':')) throw new LmtpTargetError(`malformed destination: ${nexthop}`);
    return { kind: 'inet', host, port: parsePort(rest.slice(1), nexthop) };
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0) {
    if (s === '') throw new LmtpTargetError(`empty destination`);
    return { kind: 'inet', host: s, port: defaultPort };
  }
  if (s.indexOf(':') !== colon) throw new LmtpTargetError(`malformed destination: ${nexthop}`);
  return { kind: 'inet', host: s.slice(0, colon), port: parsePort(s.slice(colon + 1), nexthop) };
}

export function parseLmtpTarget(nexthop: string, queueDirectory: string, defaultPort = 24): LmtpTarget {
  const n = nexthop.trim();
  if (n.startsWith('unix:')) {
    const p = n.slice(5);
    if (p === '') throw new LmtpTargetError(`empty socket path in destination: ${nexthop}`);
    return { kind: 'unix', path: isAbsolute(p) ? p : join(queueDirectory, p), display: p };
  }
  if (n.startsWith('inet:')) return parseHostPort(n.slice(5), defaultPort, nexthop);
  return parseHostPort(n, defaultPort, nexthop);
}

/** `name[addr]` for a connected (or attempted) endpoint, as Postfix names it in reasons and relay=. */
export function endpointName(t: LmtpTarget, myhostname: string, addr?: string): string {
  if (t.kind === 'unix') return `${myhostname}[${t.display}]`;
  return `${t.host}[${addr ?? t.host}]:${t.port}`;
}

/** Postfix's `host NAME[ADDR]` in "said:" texts has no port for TCP; relay= keeps it. */
export function hostName(t: LmtpTarget, myhostname: string, addr?: string): string {
  if (t.kind === 'unix') return `${myhostname}[${t.display}]`;
  return `${t.host}[${addr ?? t.host}]`;
}
