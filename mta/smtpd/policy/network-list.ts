/*
 * Postfix's address match lists (mynetworks, smtpd_sasl_exceptions_networks …; match_list with
 * MATCH_FLAG for addresses): `net/len`, `addr`, `[v6]`, `[v6]/len`, `/file/name` (its items),
 * `type:table` (the client address is looked up; any answer matches), host-name patterns
 * (`host.example`, `.example`) compared with the client name, `!` negation. First match decides.
 * IPv4-mapped IPv6 client addresses also match their IPv4 form.
 * Distrusts: list items (a malformed network is skipped with a warning, as Postfix warns).
 */
import ipaddr from 'ipaddr.js';
import { inNet, parseAddress, parseCidrPattern, type CidrNet } from '../../../shared/config/tables/cidr.js';
import type { LookupTable } from '../../../shared/config/tables/table.js';
import { expandFileItems, isTableItem, type ListIo } from '../../resolve/domain-list.js';

type Item =
  | { kind: 'net'; negate: boolean; net: CidrNet }
  | { kind: 'table'; negate: boolean; table: LookupTable }
  | { kind: 'host'; negate: boolean; name: string };

export interface NetworkList {
  readonly empty: boolean;
  matches(addr: string, name?: string): boolean;
}

export function compileNetworkList(items: readonly string[], io: ListIo, parentMatches: boolean, warn: (m: string) => void = () => undefined): NetworkList {
  const compiled: Item[] = [];
  for (const raw of expandFileItems(items, io)) {
    const negate = raw.startsWith('!');
    const item = negate ? raw.slice(1) : raw;
    if (isTableItem(item) && !/^\[?[0-9a-f:.]+\]?(\/\d+)?$/i.test(item)) {
      compiled.push({ kind: 'table', negate, table: io.openTable(item) });
      continue;
    }
    if (/^[\d.]+(\/\d+)?$/.test(item) || item.startsWith('[') || (item.includes(':') && !isTableItem(item))) {
      const net = parseCidrPattern(item);
      if (typeof net === 'string') warn(`mynetworks: ${net}`);
      else compiled.push({ kind: 'net', negate, net });
      continue;
    }
    compiled.push({ kind: 'host', negate, name: item.toLowerCase() });
  }
  const forms = (addr: string): string[] => {
    const out = [addr];
    if (ipaddr.IPv6.isValid(addr)) {
      const ip = ipaddr.IPv6.parse(addr);
      if (ip.isIPv4MappedAddress()) out.push(ip.toIPv4Address().toString());
    }
    return out;
  };
  return {
    empty: compiled.length === 0,
    matches(addr, name) {
      const addrs = forms(addr);
      const bytes = addrs.map(parseAddress).filter((b): b is number[] => b !== undefined);
      const host = name?.toLowerCase();
      for (const it of compiled) {
        let hit = false;
        if (it.kind === 'net') hit = bytes.some((b) => inNet(b, it.net));
        else if (it.kind === 'table') hit = addrs.some((a) => it.table.lookup(a) !== undefined) || (host !== undefined && host !== 'unknown' && it.table.lookup(host) !== undefined);
        else if (host !== undefined && host !== 'unknown') {
          hit = host === it.name || (it.name.startsWith('.') ? host.endsWith(it.name) : parentMatches && host.endsWith(`.${it.name}`));
        }
        if (hit) return !it.negate;
      }
      return false;
    },
  };
}
