/*
 * Postfix's mail_addr_map(3) for address-to-address tables (virtual_alias_maps, canonical maps):
 * search the virtual(5)/canonical(5) key order, split the answer into addresses, rewrite a leading
 * `@otherdomain` result into `user@otherdomain` (first address only), propagate an unmatched
 * address extension when the class is in propagate_unmatched_extensions, and qualify unqualified
 * results with @$myorigin. Pure apart from the table lookups behind MapList.
 */
import { splitAddress, virtualKeys } from '../../shared/config/tables/search-order.js';
import type { MapList } from './maps.js';

export interface AddrMapOptions {
  recipientDelimiter: string;
  /** The domain is $myorigin, $mydestination or an interface literal (unqualified keys apply). */
  localDomain: boolean;
  /** Propagate an unmatched extension into the results. */
  propagate: boolean;
  qualify: (address: string) => string;
}

/** Splits a table answer `a, b , "x y"@z` at commas and whitespace outside quotes. */
export function splitAddressList(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && (ch === ',' || ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r')) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out.map((a) => (a.startsWith('<') && a.endsWith('>') ? a.slice(1, -1) : a));
}

/** The answer for one address, or undefined when no key matched. */
export function mapAddress(maps: MapList, address: string, o: AddrMapOptions): string[] | undefined {
  const keys = virtualKeys(address, { recipientDelimiter: o.recipientDelimiter, localDomain: o.localDomain });
  const hit = maps.find(keys.map((k) => k.toLowerCase()));
  if (hit === undefined) return undefined;
  const p = splitAddress(address, o.recipientDelimiter);
  const ext = p.baseLocal !== undefined ? p.local.slice(p.baseLocal.length) : '';
  const matchedBase = p.baseLocal !== undefined && (hit.key === `${p.baseLocal}@${p.domain ?? ''}`.toLowerCase() || hit.key === p.baseLocal.toLowerCase());
  return splitAddressList(hit.value).map((r, i) => {
    if (i === 0 && r.startsWith('@')) return o.qualify(`${p.local}${r}`);
    let out = r;
    if (o.propagate && matchedBase && ext !== '') {
      const rp = splitAddress(r);
      out = rp.domain === undefined ? `${rp.local}${ext}` : `${rp.local}${ext}@${rp.domain}`;
    }
    return o.qualify(out);
  });
}
