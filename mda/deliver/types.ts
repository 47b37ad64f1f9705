/*
 * The delivery-agent interface between the LMTP protocol code and the LDA logic (after maddy's
 * delivery interface: look recipients up first, then one outcome per recipient). Outcomes are
 * protocol-neutral: a storage error keeps its kind (NOQUOTA, TEMP …) and mda/lmtp/error-map.ts
 * turns it into the LMTP reply. Types only.
 */
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';
import type { StorageError } from '../storage/api.js';

/** Facts about the LMTP transaction that end up in headers and logs. */
export interface DeliveryEnvelope {
  /** Reverse path without brackets; '' for the null sender. */
  readonly sender: string;
  /** The LHLO argument ('' when the client never sent LHLO). */
  readonly lhloName: string;
  /** Client IP for TCP connections; undefined over a Unix socket. */
  readonly remoteIp: string | undefined;
  /** Transaction ID (`<session>` or `<session>:T<n>`), written in the Received header. */
  readonly transactionId: string;
}

export interface ResolvedRecipient {
  /** The address as the client gave it in RCPT TO (detail included). */
  readonly address: string;
  /** The user after userdb lookup (log prefix, store owner). */
  readonly user: string;
  /** The `+detail` part, '' when none. */
  readonly detail: string;
  /** userdb fields (uid, gid, home, mail, quota_rule …). */
  readonly fields: KeyValueFields;
}

export type RecipientLookup =
  | { readonly kind: 'found'; readonly rcpt: ResolvedRecipient }
  /** `user` is the name that was looked up (Dovecot's "User doesn't exist: <user>"). */
  | { readonly kind: 'notfound'; readonly user: string }
  | { readonly kind: 'tempfail'; readonly user: string; readonly reason: string };

export type DeliveryOutcome =
  | { readonly kind: 'saved'; readonly mailbox: string; readonly uid: number }
  | { readonly kind: 'failed'; readonly error: StorageError };

/** One recipient of a DATA transaction with its ID (`<transaction>[:R<n>]`). */
export interface DeliveryTarget {
  readonly rcpt: ResolvedRecipient;
  readonly id: string;
}

export interface DeliveryAgent {
  /** RCPT time: userdb lookup (service=lmtp). */
  lookup(address: string, localPart: string, domain: string, session: { sessionId: string; remoteIp?: string; localIp?: string }): Promise<RecipientLookup>;
  /**
   * DATA time: stores `message` (CRLF as received) for every target; one outcome per target in
   * the same order. An outcome of `saved` means the file is durable (fsync'd in new/).
   */
  deliver(envelope: DeliveryEnvelope, targets: readonly DeliveryTarget[], message: Buffer): Promise<DeliveryOutcome[]>;
}
