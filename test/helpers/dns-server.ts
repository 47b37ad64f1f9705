/*
 * A tiny authoritative DNS responder on loopback UDP for tests: answers A, AAAA and MX queries from
 * a table; names missing from the table get NXDOMAIN, present names without the asked type get an
 * empty NOERROR answer (NODATA), names in `servfail` get SERVFAIL. A null MX is `{ pref: 0, exchange: '' }`.
 * The codec (parseQuery, encodeResponse) is pure; only startDnsServer touches a socket.
 * No compression in answers except the pointer to the question name.
 */
import { createSocket } from 'node:dgram';
import type { TestContext } from 'node:test';

export interface DnsZone {
  [name: string]: { A?: string[]; AAAA?: string[]; MX?: Array<{ pref: number; exchange: string }> };
}

export interface DnsQuery {
  id: number;
  name: string;
  type: number;
  /** The raw question section (echoed back). */
  question: Buffer;
}

export const TYPE = { A: 1, MX: 15, AAAA: 28 } as const;

export function parseQuery(msg: Buffer): DnsQuery {
  if (msg.length < 12) throw new Error('short DNS message');
  const id = msg.readUInt16BE(0);
  let off = 12;
  const labels: string[] = [];
  for (;;) {
    const len = msg[off];
    if (len === undefined) throw new Error('truncated name');
    off++;
    if (len === 0) break;
    labels.push(msg.subarray(off, off + len).toString('latin1'));
    off += len;
  }
  const type = msg.readUInt16BE(off);
  const question = msg.subarray(12, off + 4);
  return { id, name: labels.join('.').toLowerCase(), type, question };
}

export function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter((l) => l !== '');
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

function ipv6Bytes(addr: string): Buffer {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const h = head ? head.split(':').filter((x) => x !== '') : [];
  const t = tail ? tail.split(':').filter((x) => x !== '') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

function rr(type: number, rdata: Buffer, ttl = 60): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // pointer to the question name
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt32BE(ttl, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

export function encodeResponse(q: DnsQuery, rcode: number, answers: Buffer[]): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(q.id, 0);
  h.writeUInt16BE(0x8400 | 0x0100 | 0x0080 | rcode, 2); // QR, AA, RD, RA
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(answers.length, 6);
  return Buffer.concat([h, q.question, ...answers]);
}

/** The answer to a query from the zone (pure). */
export function answer(zone: DnsZone, q: DnsQuery, servfail: ReadonlySet<string> = new Set()): Buffer {
  if (servfail.has(q.name)) return encodeResponse(q, 2, []);
  const entry = zone[q.name];
  if (!entry) return encodeResponse(q, 3, []);
  const out: Buffer[] = [];
  if (q.type === TYPE.A) for (const a of entry.A ?? []) out.push(rr(TYPE.A, Buffer.from(a.split('.').map(Number))));
  if (q.type === TYPE.AAAA) for (const a of entry.AAAA ?? []) out.push(rr(TYPE.AAAA, ipv6Bytes(a)));
  if (q.type === TYPE.MX) {
    for (const m of entry.MX ?? []) {
      const pref = Buffer.alloc(2);
      pref.writeUInt16BE(m.pref);
      out.push(rr(TYPE.MX, Buffer.concat([pref, encodeName(m.exchange)])));
    }
  }
  return encodeResponse(q, 0, out);
}

export interface DnsServer {
  /** `127.0.0.1:PORT`, for postern_dns_servers / Resolver.setServers. */
  readonly address: string;
  zone: DnsZone;
  servfail: Set<string>;
  /** Queries seen, as `name/TYPE`. */
  readonly queries: string[];
  close(): Promise<void>;
}

export async function startDnsServer(t: TestContext | undefined, zone: DnsZone, host = '127.0.0.1'): Promise<DnsServer> {
  const sock = createSocket('udp4');
  const server: DnsServer = {
    address: '',
    zone,
    servfail: new Set(),
    queries: [],
    close: () => new Promise((r) => sock.close(() => r())),
  };
  sock.on('message', (msg, rinfo) => {
    let q: DnsQuery;
    try {
      q = parseQuery(msg);
    } catch {
      return;
    }
    const tname = Object.entries(TYPE).find(([, v]) => v === q.type)?.[0] ?? String(q.type);
    server.queries.push(`${q.name}/${tname}`);
    sock.send(answer(server.zone, q, server.servfail), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, host, () => resolve()));
  (server as { address: string }).address = `${host}:${sock.address().port}`;
  t?.after(() => server.close().catch(() => undefined));
  return server;
}
