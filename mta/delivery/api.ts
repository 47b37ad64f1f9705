/*
 * The seam qmgr → delivery agent (DESIGN.md §3, after maddy's delivery interface): a request carries
 * one message and a batch of its recipients for one transport and next hop; the agent returns one
 * outcome per recipient and never touches the queue. Unknown failures are temporary (deferred).
 * Agents: lmtp (mta/delivery/lmtp), smtp (outbound, issue 7), discard, error.
 */
import type { Readable } from 'node:stream';
import type { DsnNotify, DsnRet, RecipientOutcome } from '../queue/types.js';

export interface DeliveryRecipient {
  /** Position in the queue record's recipient list (passed back in the outcome). */
  index: number;
  address: string;
  originalAddress?: string;
  orcpt?: string;
  notify?: DsnNotify[];
}

export interface DeliveryRequest {
  queueId: string;
  /** "" for the null sender. */
  sender: string;
  recipients: DeliveryRecipient[];
  /** master.cf service name the message is routed to. */
  transport: string;
  nexthop: string;
  envid?: string;
  ret?: DsnRet;
  /** Header + body size in bytes. */
  size: number;
  /** Milliseconds since the epoch; for delays in log lines. */
  arrivalTime: number;
  /** Opens the message content (may be called again for a retry on another host). */
  content(): Readable;
  smtputf8?: boolean;
  bodyType?: '7BIT' | '8BITMIME' | 'BINARYMIME';
  /**
   * Filled in by the agent as it goes (additive; qmgr reads it for the `delays=a/b/c/d` log field
   * and for dead-destination detection). Absent: the agent reports nothing beyond outcomes.
   */
  report?: DeliveryReport;
}

/** What an agent tells qmgr besides the outcomes (Postfix's delivery-request status flags). */
export interface DeliveryReport {
  /** Epoch ms when connection setup (connect, greeting, LHLO/EHLO, TLS) was done: c/d boundary. */
  setupDoneAt?: number;
  /**
   * The destination itself failed (could not connect, greeting or handshake failed, lost
   * connection): Postfix counts this as a failed pseudo-cohort, not a per-recipient result.
   */
  siteFailure?: boolean;
}

export interface DeliveryAgent {
  readonly transport: string;
  deliver(req: DeliveryRequest, signal?: AbortSignal): Promise<RecipientOutcome[]>;
  close(): Promise<void>;
}
