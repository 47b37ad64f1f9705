/*
 * CleanupAddressMaps over mta/resolve (trivial-rewrite): qualification, canonical rewriting
 * (createCanonicalizer), virtual + alias expansion (expandRecipient), and sender_bcc_maps /
 * recipient_bcc_maps looked up with canonical(5)'s key order (user@domain, user, @domain), the
 * first address of the answer taken, as Postfix's cleanup_addr_bcc does. This is how mta/main.ts
 * wires cleanup: `addressMapsFromResolver(createResolver(createResolveContext(cfg)))`.
 */
import { splitAddress } from '../../shared/config/tables/search-order.js';
import { mapAddress } from '../resolve/addr-map.js';
import { createCanonicalizer } from '../resolve/canonical.js';
import { expandRecipient } from '../resolve/expand.js';
import { MapList } from '../resolve/maps.js';
import type { PostfixResolver } from '../resolve/resolver.js';
import type { CleanupAddressMaps } from './address-maps.js';

export function addressMapsFromResolver(resolver: PostfixResolver): CleanupAddressMaps {
  const ctx = resolver.ctx;
  const canon = createCanonicalizer(resolver);
  const list = (param: string): MapList => new MapList(param, ctx.cfg.getList(param), ctx.io.openTable);
  const senderBcc = list('sender_bcc_maps');
  const recipientBcc = list('recipient_bcc_maps');
  const bcc = (maps: MapList, address: string): string | undefined => {
    if (maps.empty || address === '') return undefined;
    const got = mapAddress(maps, address, {
      recipientDelimiter: ctx.recipientDelimiter,
      localDomain: resolver.isLocalForRewrite(splitAddress(address).domain),
      propagate: false,
      qualify: resolver.qualify,
    });
    return got?.[0];
  };
  return {
    qualify: (a) => (a === '' ? a : resolver.qualify(a)),
    rewriteSender: (a) => canon.sender(a),
    rewriteRecipient: (a) => canon.recipient(a),
    expandRecipient: (a) => expandRecipient(resolver, a),
    senderBcc: (s) => bcc(senderBcc, s),
    recipientBcc: (r) => bcc(recipientBcc, r),
  };
}
