/*
 * Whether a client's message gets Postfix's "local" header treatment (missing Message-Id, Date and
 * From added): local_header_rewrite_clients, Postfix ≥ 2.6. Understood here: permit_inet_interfaces
 * (the client address is one of ours: a listed inet_interfaces address, or any local interface
 * address when inet_interfaces = all/loopback-only), permit_sasl_authenticated, static:all, and
 * the smtpd's own verdict in ClientInfo.localHeaderRewrite (for permit_mynetworks and maps, which
 * smtpd already evaluates). Other entries never match.
 */
import { networkInterfaces } from 'node:os';
import type { ClientInfo } from './api.js';
import type { CleanupSettings } from './settings.js';

function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.push(i.address);
  return out;
}

const bare = (a: string): string => a.replace(/^::ffff:/i, '').toLowerCase();

export function isLocalHeaderClient(
  client: ClientInfo | undefined,
  s: Pick<CleanupSettings, 'localHeaderRewriteClients' | 'inetInterfaces'>,
  interfaceAddresses?: readonly string[],
): boolean {
  if (client === undefined) return true;
  if (client.localHeaderRewrite === true) return true;
  for (const item of s.localHeaderRewriteClients) {
    const k = item.toLowerCase();
    if (k === 'static:all') return true;
    if (k === 'permit_sasl_authenticated' && client.sasl !== undefined) return true;
    if (k === 'permit_inet_interfaces') {
      const explicit = s.inetInterfaces.filter((x) => !['all', 'loopback-only', 'localhost'].includes(x.toLowerCase()));
      const addrs = explicit.length > 0 ? explicit : (interfaceAddresses ?? localAddresses());
      if (addrs.map(bare).includes(bare(client.addr))) return true;
    }
  }
  return false;
}
