/*
 * trivial-rewrite's resolve service (ADDRESS_CLASS_README, postconf(5), transport(5)): given a
 * qualified recipient, its address class and the transport:nexthop that delivers it.
 *
 *   local            mydestination, or user@[ip] with ip in inet_interfaces/proxy_interfaces
 *                    → local_transport (nexthop from the value, else the domain)
 *   virtual-alias    virtual_alias_domains → error:5.1.1 User unknown in virtual alias table
 *                    (every valid address was rewritten by cleanup before routing)
 *   virtual-mailbox  virtual_mailbox_domains → virtual_transport
 *   relay            relay_domains → relay_transport, nexthop relayhost or the domain
 *   default          anything else → default_transport, nexthop relayhost or the domain
 * The class test order is Postfix's (local first). A nexthop written in a *_transport value wins
 * over relayhost. transport_maps then overrides per transport(5) (nexthop.ts). Sender-specified
 * routing in a local domain (`user%other@local`, `user@other@local`) is stripped and the inner
 * address resolved again, flagged `routed` for permit_auth_destination.
 * Distrusts: the address (no domain, empty parts, address literals).
 */
import { splitAddress, transportKeys } from '../../shared/config/tables/search-order.js';
import type { AddressClass, Resolution, Resolver } from './api.js';
import { normaliseAddrLiteral, type ResolveContext } from './context.js';
import { applyTransportEntry, splitDsn, splitTransport, type TransportNexthop } from './nexthop.js';
import { qualifyAddress } from './qualify.js';

export interface DetailedResolution extends Resolution {
  /** Recipient domain ('' when none). */
  domain: string;
  /** The client asked for source routing through a local domain. */
  routed: boolean;
}

export interface PostfixResolver extends Resolver {
  readonly ctx: ResolveContext;
  resolveDetailed(address: string): DetailedResolution;
  /** The class of a domain alone (`local` for '' and for interface address literals). */
  classOfDomain(domain: string): AddressClass;
  /** True for mydestination domains and interface literals (virtual(5)'s "local domain" test, plus myorigin). */
  isLocalForRewrite(domain: string | undefined): boolean;
}

export function createResolver(ctx: ResolveContext): PostfixResolver {
  const cfg = ctx.cfg;
  const relayhost = cfg.get('relayhost');
  const allowPercent = cfg.getBool('allow_percent_hack');
  const swapBangpath = cfg.getBool('swap_bangpath');

  const isLocalDomain = (domain: string): boolean => {
    if (domain === '') return true;
    if (domain.startsWith('[') && domain.endsWith(']')) {
      const a = normaliseAddrLiteral(domain.slice(1, -1).replace(/^ipv6:/i, ''));
      return a !== undefined && ctx.interfaceAddrs.has(a);
    }
    return ctx.mydestination.matches(domain);
  };

  const classOfDomain = (domain: string): AddressClass => {
    if (isLocalDomain(domain)) return 'local';
    if (ctx.virtualAliasDomains.matches(domain)) return 'virtual-alias';
    if (ctx.virtualMailboxDomains.matches(domain)) return 'virtual-mailbox';
    if (ctx.relayDomains.matches(domain)) return 'relay';
    return 'default';
  };

  const qualify = (address: string): string =>
    qualifyAddress(address, { myorigin: ctx.myorigin, mydomain: ctx.mydomain, appendDotMydomain: ctx.appendDotMydomain, swapBangpath });

  const classTransport = (cls: AddressClass, domain: string): TransportNexthop => {
    const pick = (param: string, fallback: string): TransportNexthop => {
      const t = splitTransport(cfg.get(param));
      return { transport: t.transport, nexthop: t.nexthop !== '' ? t.nexthop : fallback };
    };
    const offHost = relayhost !== '' ? relayhost : domain;
    switch (cls) {
      case 'local':
        return pick('local_transport', domain !== '' ? domain : ctx.myhostname);
      case 'virtual-alias':
        return { transport: 'error', nexthop: '5.1.1 User unknown in virtual alias table' };
      case 'virtual-mailbox':
        return pick('virtual_transport', domain);
      case 'relay':
        return pick('relay_transport', offHost);
      default:
        return pick('default_transport', offHost);
    }
  };

  const resolveDetailed = (input: string): DetailedResolution => {
    let address = qualify(input);
    let routed = false;
    // Strip sender-specified routing through a local domain, as resolve.c does.
    for (let i = 0; i < 10; i++) {
      const p = splitAddress(address);
      if (p.domain === undefined || !isLocalDomain(p.domain)) break;
      const inner = p.local;
      let next: string | undefined;
      if (inner.includes('@')) next = inner;
      else if (allowPercent && inner.includes('%')) {
        const pc = inner.lastIndexOf('%');
        next = `${inner.slice(0, pc)}@${inner.slice(pc + 1)}`;
      } else if (swapBangpath && /^[^!]+!./.test(inner)) {
        const bang = inner.indexOf('!');
        next = `${inner.slice(bang + 1)}@${inner.slice(0, bang)}`;
      }
      if (next === undefined) break;
      routed = true;
      address = qualify(next);
    }
    const p = splitAddress(address);
    const domain = (p.domain ?? '').toLowerCase();
    const addressClass = classOfDomain(domain);
    let tn = classTransport(addressClass, domain);
    if (addressClass !== 'virtual-alias') {
      const hit = ctx.maps.transport.find(
        transportKeys(address.toLowerCase(), {
          recipientDelimiter: ctx.recipientDelimiter,
          parentMatchesSubdomains: ctx.parentMatches('transport_maps'),
        }),
      );
      if (hit !== undefined) tn = applyTransportEntry(tn, hit.value, domain);
    }
    const res: DetailedResolution = { address, addressClass, transport: tn.transport, nexthop: tn.nexthop, domain, routed };
    if (tn.transport === 'error') res.error = splitDsn(tn.nexthop, '5.0.0');
    else if (tn.transport === 'retry') res.error = splitDsn(tn.nexthop, '4.0.0');
    return res;
  };

  return {
    ctx,
    qualify,
    resolve: (address) => {
      const { domain: _d, routed: _r, ...rest } = resolveDetailed(address);
      return rest;
    },
    resolveDetailed,
    classOfDomain,
    isLocalForRewrite: (domain) => domain === undefined || domain === '' || domain.toLowerCase() === ctx.myorigin || isLocalDomain(domain.toLowerCase()),
  };
}
