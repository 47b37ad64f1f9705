/*
 * `transport:nexthop` values (local_transport, virtual_transport, relay_transport,
 * default_transport, transport_maps results) and DSN-prefixed error texts, as Postfix splits
 * them: split at the first colon; a missing part is empty. transport(5) update rules: an empty
 * transport keeps the current transport (and the nexthop unless one is given); a named transport
 * without nexthop resets the nexthop to the recipient domain, or to "Address is undeliverable"
 * for error/retry. Pure.
 */

export interface TransportNexthop {
  transport: string;
  nexthop: string;
}

export function splitTransport(value: string): TransportNexthop {
  const v = value.trim();
  const colon = v.indexOf(':');
  if (colon < 0) return { transport: v, nexthop: '' };
  return { transport: v.slice(0, colon), nexthop: v.slice(colon + 1) };
}

/** Applies a transport_maps answer to the class's transport/nexthop (Postfix transport.c). */
export function applyTransportEntry(current: TransportNexthop, entry: string, rcptDomain: string): TransportNexthop {
  const e = splitTransport(entry);
  if (e.transport === '') return { transport: current.transport, nexthop: e.nexthop !== '' ? e.nexthop : current.nexthop };
  if (e.nexthop !== '') return e;
  if (e.transport === 'error' || e.transport === 'retry') return { transport: e.transport, nexthop: 'Address is undeliverable' };
  return { transport: e.transport, nexthop: rcptDomain };
}

export interface DsnText {
  dsn: string;
  text: string;
}

/** `5.1.1 text` → {dsn 5.1.1, text}; without a leading status code the default dsn applies. */
export function splitDsn(text: string, defaultDsn: string): DsnText {
  const m = /^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)/.exec(text);
  if (!m) return { dsn: defaultDsn, text };
  return { dsn: m[1]!, text: text.slice(m[0].length) };
}
