/*
 * The envelope part of cleanup (pure over CleanupAddressMaps): sender and recipient rewriting,
 * virtual/alias expansion, BCC recipients and duplicate elimination, producing the queue's
 * NewEnvelope recipients.
 *
 * Follows Postfix cleanup_envelope.c / cleanup_out_recipient.c / cleanup_addr.c:
 *  - sender: qualify, sender_canonical + canonical; the null sender stays null;
 *  - each recipient: qualify, recipient_canonical + canonical, recipient_bcc_maps (looked up on the
 *    rewritten address), then virtual/alias expansion; every final address keeps the original
 *    recipient (orig_to) and the ORCPT/NOTIFY it came with;
 *  - sender_bcc_maps and always_bcc add recipients with NOTIFY=NEVER (cleanup_addr_bcc);
 *  - duplicates (same final address and DSN attributes) are dropped while fewer than
 *    duplicate_filter_limit recipients have been remembered (0 = no limit), as Postfix's been_here.
 * An expansion that fails temporarily rejects the message (451 4.3.0, retry later); a permanent
 * failure keeps the address, so delivery reports it in a bounce.
 */
import type { DsnNotify, NewEnvelope } from '../queue/types.js';
import type { IncomingRecipient } from './api.js';
import type { CleanupAddressMaps } from './address-maps.js';

export interface EnvelopeOptions {
  alwaysBcc: string;
  duplicateFilterLimit: number;
  /** header_checks REDIRECT: every recipient replaced by this address. */
  redirect?: string;
  /** header_checks BCC actions. */
  extraBcc?: readonly string[];
}

export class EnvelopeTempError extends Error {
  override readonly name = 'EnvelopeTempError';
}

export function rewriteSender(maps: CleanupAddressMaps, sender: string): string {
  if (sender === '') return '';
  return maps.rewriteSender(maps.qualify(sender));
}

type Recip = NewEnvelope['recipients'][number];

class DupFilter {
  private readonly seen = new Set<string>();
  constructor(private readonly limit: number) {}
  /** True when `key` was seen before (then the recipient is dropped). */
  check(key: string): boolean {
    if (this.seen.has(key)) return true;
    if (this.limit === 0 || this.seen.size < this.limit) this.seen.add(key);
    return false;
  }
}

function dupKey(r: Recip): string {
  return `${r.address.toLowerCase()}\n${(r.notify ?? []).join(',')}\n${r.orcpt ?? ''}`;
}

/** Computes the final recipient list for a message. */
export function buildRecipients(
  maps: CleanupAddressMaps,
  sender: string,
  incoming: readonly IncomingRecipient[],
  opts: EnvelopeOptions,
): Recip[] {
  const out: Recip[] = [];
  const dups = new DupFilter(opts.duplicateFilterLimit);
  const add = (r: Recip): void => {
    if (!dups.check(dupKey(r))) out.push(r);
  };
  const bcc = (addr: string): void => {
    const rewritten = maps.rewriteRecipient(maps.qualify(addr));
    for (const a of expand(maps, rewritten)) add({ address: a, notify: ['NEVER'] });
  };
  const list: readonly IncomingRecipient[] = opts.redirect !== undefined ? [{ address: opts.redirect }] : incoming;
  for (const r of list) {
    const original = r.address;
    const rewritten = maps.rewriteRecipient(maps.qualify(original));
    const extra = maps.recipientBcc(rewritten);
    for (const a of expand(maps, rewritten)) {
      const rec: Recip = { address: a };
      if (a !== original) rec.originalAddress = original;
      if (r.orcpt !== undefined) rec.orcpt = r.orcpt;
      if (r.notify !== undefined) rec.notify = [...r.notify] as DsnNotify[];
      add(rec);
    }
    if (extra !== undefined) bcc(extra);
  }
  if (sender !== '') {
    const sb = maps.senderBcc(sender);
    if (sb !== undefined) bcc(sb);
  }
  for (const b of opts.extraBcc ?? []) bcc(b);
  if (opts.alwaysBcc !== '') bcc(opts.alwaysBcc);
  return out;
}

function expand(maps: CleanupAddressMaps, address: string): string[] {
  const x = maps.expandRecipient(address);
  if (x.kind === 'addresses') return x.addresses.length > 0 ? x.addresses : [address];
  if (x.dsn.startsWith('4')) throw new EnvelopeTempError(`${address}: ${x.text}`);
  return [address];
}
