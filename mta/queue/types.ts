/*
 * The queue's data model: what one queued message is (envelope, per-recipient state, attempt
 * bookkeeping) and the per-recipient outcomes qmgr hands back after a delivery attempt.
 *
 * Follows Postfix's queue file contents (reference/postfix.md §6: queue names, arrival time,
 * sender, size, recipients with ORCPT and NOTIFY, per-recipient delay reason and DSN status,
 * ENVID/RET, the force-expire flag of postsuper -e) and the attributes cleanup records for the
 * Received header and the logs (client name/address, HELO, protocol, SASL user).
 * Types only; validation of stored bytes lives in record.ts.
 */

/** Queues a live message can be in. `maildrop` has no counterpart: local submission goes through cleanup. */
export type LiveQueueName = 'incoming' | 'active' | 'deferred' | 'hold';
/** Every queue name an administrator can name; `corrupt` holds records set aside as unreadable. */
export type QueueName = LiveQueueName | 'corrupt';
export const LIVE_QUEUES: readonly LiveQueueName[] = ['incoming', 'active', 'deferred', 'hold'];
export const QUEUE_NAMES: readonly QueueName[] = ['incoming', 'active', 'deferred', 'hold', 'corrupt'];

/** RFC 3461 NOTIFY keywords (Postfix keeps them as notify_flags; NEVER excludes the others). */
export type DsnNotify = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';
/** RFC 3461 RET. */
export type DsnRet = 'FULL' | 'HDRS';

export type RecipientStatus = 'pending' | 'done';
/** How a recipient became done. */
export type RecipientResult = 'delivered' | 'bounced' | 'expired';

export interface RecipientRecord {
  /** Envelope recipient after rewriting (what delivery agents deliver to). */
  address: string;
  /** The recipient as first received, before aliasing/rewriting (Postfix orig_to); absent when equal. */
  originalAddress?: string;
  /** RFC 3461 ORCPT as received, `addr-type;xtext` (Postfix dsn_orig_rcpt); absent when not given. */
  orcpt?: string;
  /** NOTIFY as received; absent means "not specified" (FAILURE,DELAY semantics). */
  notify?: DsnNotify[];
  status: RecipientStatus;
  /** Set when status is done. */
  result?: RecipientResult;
  /** Last delay reason (shown by mailq), or the bounce/delivery text once done. */
  reason?: string;
  /** Last RFC 3463 status, e.g. `4.4.1`. */
  dsnStatus?: string;
  /** Where the last attempt went (`host[addr]:port`, `private/dovecot-lmtp`, `none`). */
  relay?: string;
}

/** Client and session attributes for the Received header and log lines (names as Postfix's queue file attributes). */
export interface MessageAttributes {
  client_name?: string;
  client_address?: string;
  client_port?: string;
  helo_name?: string;
  /** SMTP, ESMTP, ESMTPSA, LMTP, … as written in Received. */
  protocol?: string;
  sasl_method?: string;
  sasl_username?: string;
  /** Original message log id of a bounce, rewrite context (`local`/`remote`), … */
  [name: string]: string | undefined;
}

/** One message as the queue stores it. Times are milliseconds since the epoch. */
export interface QueueRecord {
  /** Record format version. */
  v: 1;
  id: string;
  queue: LiveQueueName;
  arrivalTime: number;
  /** Envelope sender; "" is the null sender. */
  sender: string;
  /** Message content size in bytes (header + body as stored). */
  size: number;
  /** Number of stored body segments (integrity check on read and at recovery). */
  segments: number;
  envid?: string;
  ret?: DsnRet;
  forcedExpire: boolean;
  /** When the message is next due (incoming: arrival; deferred: after backoff). */
  nextAttempt: number;
  /** Delivery attempts that ended with at least one deferral. */
  attempts: number;
  lastAttempt?: number;
  /**
   * Every recipient is done and a DSN is owed (a bounce, an expiry, or NOTIFY=SUCCESS): it must be generated before the message goes
   * (see QueueStore.finishDsn). Survives a crash, so a lost DSN becomes a duplicate, never a loss.
   */
  dsnPending?: boolean;
  /** Set by postsuper -r: cleanup's rewriting has to run again. */
  requeued?: boolean;
  attrs: MessageAttributes;
  recipients: RecipientRecord[];
}

/** What cleanup hands to enqueue(). */
export interface NewEnvelope {
  sender: string;
  recipients: Array<{ address: string; originalAddress?: string; orcpt?: string; notify?: DsnNotify[] }>;
  envid?: string;
  ret?: DsnRet;
  attrs?: MessageAttributes;
  /** Queue to enter; `hold` for mail that a HOLD action parks. Default incoming. */
  queue?: 'incoming' | 'hold';
  /** A queue ID obtained earlier from allocateId() (smtpd logs it before DATA); a fresh one otherwise. */
  id?: string;
}

/** One recipient's result of a delivery attempt, as a delivery agent reports it. */
export type RecipientOutcome =
  | { index: number; kind: 'delivered'; dsnStatus: string; reply: string; relay?: string }
  | { index: number; kind: 'deferred'; dsnStatus: string; reason: string; relay?: string }
  | { index: number; kind: 'bounced'; dsnStatus: string; reason: string; relay?: string };

/** Where a message ended up after a batch of outcomes was applied. */
export type Disposition =
  /** All recipients done, nothing to report: record and body removed. */
  | 'removed'
  /** All recipients done and a DSN is owed (bounced, expired, or NOTIFY=SUCCESS): waiting for the DSN (finishDsn). */
  | 'dsn-pending'
  /** Some recipients still pending: in deferred with a new nextAttempt. */
  | 'deferred'
  /** Outcomes recorded but the message stays where postsuper put it (hold). */
  | 'held'
  /** Some recipients pending and no deferral reported (a partial batch): stays active. */
  | 'active'
  /** The message was deleted meanwhile (postsuper -d): nothing applied. */
  | 'gone';
