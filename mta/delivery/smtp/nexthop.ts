/*
 * Next-hop parsing for the smtp(8) delivery agent, pure. Follows transport(5) and smtp(8):
 *
 *   example.com            MX lookup for example.com, port smtp_tcp_port
 *   example.com:587        MX lookup, port 587
 *   [mail.example.com]     no MX lookup: the host's A/AAAA records
 *   [mail.example.com]:587 the same on port 587
 *   [192.0.2.1], [ipv6:2001:db8::1]:25   address literals (no DNS at all)
 *
 * Postfix 3.5+ accepts a list of destinations (relayhost = [a]:587, [b]:587), tried in order;
 * parseNextHops splits on commas and whitespace. The empty next hop falls back to relayhost and then
 * to the recipient's domain, as the resolver does for the default transport.
 * Distrusts: the text (from transport_maps, relayhost or master.cf -o): errors are values, not throws.
 */
import { isIP } from 'node:net';

export interface NextHop {
  /** As written (`[host]:587`), the key for smtp_tls_policy_maps and smtp_sasl_password_maps. */
  readonly text: string;
  /** Host or domain without brackets and without the `ipv6:` prefix. */
  readonly host: string;
  readonly port: number;
  /** True for the bare `domain` forms: look up MX records first. */
  readonly mx: boolean;
  /** Set when host is an IP address literal. */
  readonly literal?: 4 | 6;
}

/** Well-known service names a next hop or smtp_tcp_port may use. */
const SERVICES: Readonly<Record<string, number>> = { smtp: 25, submission: 587, smtps: 465, submissions: 465, lmtp: 24 };

/** Port number from a number or a service name; undefined when invalid. */
export function parsePort(text: string): number | undefined {
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    return n > 0 && n < 65536 ? n : undefined;
  }
  return SERVICES[text.toLowerCase()];
}

export class NextHopError extends Error {
  override readonly name = 'NextHopError';
}

/** Parses one destination. Throws NextHopError (with Postfix-like text) when it is malformed. */
export function parseNextHop(text: string, defaultPort: number): NextHop {
  const t = text.trim();
  let host: string;
  let portText: string | undefined;
  let mx: boolean;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0) throw new NextHopError(`malformed destination: ${t}`);
    host = t.slice(1, close);
    const rest = t.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new NextHopError(`malformed destination: ${t}`);
    portText = rest === '' ? undefined : rest.slice(1);
    mx = false;
  } else {
    // A bare IPv6 address has colons; Postfix requires brackets for it, so a colon here is a port.
    const colon = t.lastIndexOf(':');
    host = colon < 0 ? t : t.slice(0, colon);
    portText = colon < 0 ? undefined : t.slice(colon + 1);
    mx = true;
  }
  if (/^ipv6:/i.test(host)) host = host.slice(5);
  if (host === '' || /[\s\]\[]/.test(host)) throw new NextHopError(`malformed destination: ${t}`);
  let port = defaultPort;
  if (portText !== undefined) {
    const p = parsePort(portText);
    if (p === undefined) throw new NextHopError(`unknown service: ${portText}/tcp`);
    port = p;
  }
  const ip = isIP(host);
  if (ip !== 0) mx = false;
  return ip === 4 || ip === 6 ? { text: t, host, port, mx, literal: ip } : { text: t, host, port, mx };
}

/** Splits a destination list (`[a]:587, [b]:587`) and parses each entry. */
export function parseNextHops(text: string, defaultPort: number): NextHop[] {
  return text
    .split(/[\s,]+/)
    .filter((s) => s !== '')
    .map((s) => parseNextHop(s, defaultPort));
}

/**
 * The destination to deliver to: the request's next hop, else relayhost, else the recipient domain
 * (qmgr normally passes the resolver's next hop; the fall-backs keep a bare request deliverable).
 */
export function chooseDestination(nexthop: string, relayhost: string, recipient: string): string {
  if (nexthop.trim() !== '') return nexthop;
  if (relayhost.trim() !== '') return relayhost;
  const at = recipient.lastIndexOf('@');
  return at < 0 ? '' : recipient.slice(at + 1);
}

/** `host[addr]` as Postfix prints a server (reason texts), and `host[addr]:port` (relay= in logs). */
export function namaddr(host: string, addr: string): string {
  return `${host}[${addr}]`;
}
export function namaddrport(host: string, addr: string, port: number): string {
  return `${host}[${addr}]:${port}`;
}
