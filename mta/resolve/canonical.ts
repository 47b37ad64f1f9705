/*
 * cleanup's canonical rewriting (canonical(5), postconf(5) canonical_classes): senders go
 * through sender_canonical_maps then canonical_maps, recipients through recipient_canonical_maps
 * then canonical_maps; each map rewrites one address into one address (the first of a multi-address
 * answer). Whether a class is rewritten depends on canonical_classes (envelope_sender,
 * envelope_recipient, header_sender, header_recipient). The null sender is never rewritten.
 */
import { splitAddress } from '../../shared/config/tables/search-order.js';
import { mapAddress } from './addr-map.js';
import type { MapList } from './maps.js';
import type { PostfixResolver } from './resolver.js';

export type CanonicalClass = 'envelope_sender' | 'envelope_recipient' | 'header_sender' | 'header_recipient';

export interface Canonicalizer {
  sender(address: string, cls?: 'envelope_sender' | 'header_sender'): string;
  recipient(address: string, cls?: 'envelope_recipient' | 'header_recipient'): string;
}

export function createCanonicalizer(resolver: PostfixResolver): Canonicalizer {
  const ctx = resolver.ctx;
  const classes = new Set(ctx.cfg.getList('canonical_classes'));
  const apply = (map: MapList, address: string): string => {
    if (map.empty || address === '') return address;
    const q = resolver.qualify(address);
    const p = splitAddress(q);
    const got = mapAddress(map, q, {
      recipientDelimiter: ctx.recipientDelimiter,
      localDomain: resolver.isLocalForRewrite(p.domain),
      propagate: ctx.propagates('canonical'),
      qualify: resolver.qualify,
    });
    return got?.[0] ?? q;
  };
  return {
    sender(address, cls = 'envelope_sender') {
      if (address === '' || !classes.has(cls)) return address;
      return apply(ctx.maps.canonical, apply(ctx.maps.senderCanonical, address));
    },
    recipient(address, cls = 'envelope_recipient') {
      if (address === '' || !classes.has(cls)) return address;
      return apply(ctx.maps.canonical, apply(ctx.maps.recipientCanonical, address));
    },
  };
}
