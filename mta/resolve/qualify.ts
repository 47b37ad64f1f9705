/*
 * Address canonicalisation in trivial-rewrite's "local" context (rewrite_clnt, postconf(5)
 * myorigin, append_dot_mydomain, swap_bangpath, allow_percent_hack): an address without a domain
 * gets `@$myorigin`; with append_dot_mydomain = yes a dotless domain gets `.$mydomain`; a trailing
 * dot on the domain is dropped; `host!user` becomes `user@host` (swap_bangpath). The null address
 * stays empty. Domains are lower-cased; the local part keeps its case. Pure.
 */
import { splitAddress } from '../../shared/config/tables/search-order.js';

export interface QualifyOptions {
  myorigin: string;
  mydomain: string;
  appendDotMydomain: boolean;
  swapBangpath?: boolean;
}

export function qualifyAddress(address: string, o: QualifyOptions): string {
  if (address === '') return '';
  let addr = address;
  let { local, domain } = splitAddress(addr);
  if (domain === undefined && o.swapBangpath !== false) {
    const bang = local.indexOf('!');
    if (bang > 0 && bang < local.length - 1) {
      domain = local.slice(0, bang);
      local = local.slice(bang + 1);
    }
  }
  if (domain === undefined || domain === '') {
    if (o.myorigin === '') return local;
    return `${local}@${o.myorigin}`;
  }
  domain = domain.toLowerCase().replace(/\.+$/, '');
  if (o.appendDotMydomain && !domain.includes('.') && !domain.startsWith('[') && o.mydomain !== '' && domain !== '') {
    domain = `${domain}.${o.mydomain}`;
  }
  addr = `${local}@${domain}`;
  return addr;
}
