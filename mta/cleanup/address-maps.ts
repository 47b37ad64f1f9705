/*
 * What cleanup needs from address rewriting, as one injected interface (DESIGN.md §3: cleanup owns
 * the order, trivial-rewrite owns the tables). mta/main.ts builds it from mta/resolve's canonical
 * and expansion functions; tests pass stubs; `identityAddressMaps` rewrites nothing.
 *
 * Follows Postfix cleanup: sender_canonical_maps then canonical_maps for the sender,
 * recipient_canonical_maps then canonical_maps for each recipient (cleanup_map11), then
 * virtual_alias_maps (and, in Postern, alias_maps) expansion (cleanup_map1n) to the final list;
 * sender_bcc_maps / recipient_bcc_maps answer one extra recipient each.
 * Lookup failures are thrown (TableLookupError); cleanup turns them into a temporary reject.
 */
import type { Expansion } from '../resolve/api.js';

export interface CleanupAddressMaps {
  /** Qualifies an unqualified address with $myorigin (append_at_myorigin). */
  qualify(address: string): string;
  /** sender_canonical_maps, then canonical_maps. */
  rewriteSender(address: string): string;
  /** recipient_canonical_maps, then canonical_maps. */
  rewriteRecipient(address: string): string;
  /** virtual_alias_maps (and alias_maps) expansion with Postfix's recursion and expansion limits. */
  expandRecipient(address: string): Expansion;
  /** sender_bcc_maps: an extra recipient for mail from this (rewritten) sender. */
  senderBcc(sender: string): string | undefined;
  /** recipient_bcc_maps: an extra recipient for mail to this (rewritten, unexpanded) recipient. */
  recipientBcc(recipient: string): string | undefined;
}

/** Rewrites nothing; qualifies with `origin` when given. */
export function identityAddressMaps(origin?: string): CleanupAddressMaps {
  return {
    qualify: (a) => (origin !== undefined && a !== '' && !a.includes('@') ? `${a}@${origin}` : a),
    rewriteSender: (a) => a,
    rewriteRecipient: (a) => a,
    expandRecipient: (a) => ({ kind: 'addresses', addresses: [a] }),
    senderBcc: () => undefined,
    recipientBcc: () => undefined,
  };
}
