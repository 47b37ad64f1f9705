/*
 * The seam smtpd → cleanup → queue (DESIGN.md §3). Every way mail enters the MTA — smtpd, local
 * submission (sendmail/pickup), bounces and notices, postsuper -r requeues — hands cleanup one
 * IncomingMessage and the message content. Cleanup adds the headers Postfix adds (Received,
 * Message-ID, Date, From where missing), applies header_checks, canonical/virtual/alias rewriting,
 * always_bcc and message_size_limit, and makes envelope and content durable through
 * mta/queue/store.ts. The promise resolves only after the queue commit is on disk, so smtpd may
 * answer `250 2.0.0 Ok: queued as ID` the moment it resolves.
 */
import type { Readable } from 'node:stream';
import type { SmtpReply } from '../../shared/proto/smtp-reply.js';
import type { DsnNotify, DsnRet } from '../queue/types.js';

export type MessageOrigin = 'smtpd' | 'pickup' | 'bounce' | 'requeue';

/** RFC 6152 / 3030 body types. */
export type BodyType = '7BIT' | '8BITMIME' | 'BINARYMIME';

export interface IncomingRecipient {
  /** As given in RCPT TO (already qualified by smtpd if it was unqualified). */
  address: string;
  /** RFC 3461 ORCPT, `addr-type;xtext`. */
  orcpt?: string;
  notify?: DsnNotify[];
}

export interface ClientInfo {
  /** Reverse name or `unknown`. */
  name: string;
  addr: string;
  port?: number;
  helo?: string;
  /** RFC 3848 protocol for Received: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA (plus UTF8 variants). */
  protocol: string;
  sasl?: { method: string; username: string };
  /** `TLSv1.3 with cipher …` as Postfix writes it with smtpd_tls_received_header. */
  tls?: string;
  /**
   * smtpd's verdict on local_header_rewrite_clients (permit_mynetworks, check_address_map …):
   * true gives the message the local treatment (missing Message-Id/Date/From added). Cleanup
   * itself also evaluates permit_inet_interfaces and permit_sasl_authenticated.
   */
  localHeaderRewrite?: boolean;
}

export interface IncomingMessage {
  origin: MessageOrigin;
  /** Envelope sender; "" is the null sender. */
  sender: string;
  recipients: IncomingRecipient[];
  /** smtpd clients; absent for local submission. */
  client?: ClientInfo;
  /** sendmail's uid for `Received: by … (Postfix, from userid N)` and the pickup log line. */
  localUid?: number;
  /** sendmail -F full name, for an added `From:` */
  fullName?: string;
  envid?: string;
  ret?: DsnRet;
  bodyType?: BodyType;
  smtputf8?: boolean;
  /** A queue ID obtained earlier (smtpd logs `ID: client=…` before DATA). */
  queueId?: string;
  /** sendmail -t: recipients are also taken from To/Cc/Bcc, and Bcc is removed. */
  extractRecipients?: boolean;
  /**
   * smtpd access-policy actions (access(5) HOLD / DISCARD, Postfix's CLEANUP_FLAG_HOLD /
   * CLEANUP_FLAG_DISCARD), each with the reason smtpd logged: HOLD enqueues into the hold queue,
   * DISCARD accepts and drops the message (the client is still told `250 … queued as ID`).
   */
  policyActions?: { hold?: string; discard?: string };
  /**
   * smtpd's PREPEND header fields (access(5), check_policy_service: policyd-spf's `Received-SPF:`),
   * `Name: value` each; stored above our Received:, as Postfix's smtpd sends them to cleanup.
   */
  prependHeaders?: string[];
  /**
   * smtpd_milters (mta/smtpd/milters.ts): called once the header and body are complete, before
   * the envelope is rewritten and anything is committed; its answer rejects, discards, holds or
   * edits the message. Cleanup logs the END-OF-MESSAGE outcome as Postfix's cleanup does.
   */
  milters?: (m: MilterMessageIn) => Promise<MilterMessageOut>;
}

/** A header field for the milters: the name and the whole field (`Name: value`, folds joined with LF). */
export interface MilterHeader {
  readonly name: string;
  readonly raw: Buffer;
}

export interface MilterRecipient {
  readonly address: string;
  readonly original?: string;
  readonly orcpt?: string;
  readonly notify?: readonly string[];
  readonly fromMilter?: boolean;
}

/** The message as cleanup holds it when the milters see it. */
export interface MilterMessageIn {
  sender: string;
  recipients: MilterRecipient[];
  /** Every header field (smtpd's PREPEND headers, then our own Received:, then the message's). */
  headers: MilterHeader[];
  /** Our own Received: (one of `headers`), which milters are not shown. */
  ownReceived?: MilterHeader;
  /** CRLF line ends. */
  body: Buffer;
}

export type MilterMessageOut =
  | { kind: 'continue'; sender: string; recipients: MilterRecipient[]; headers: MilterHeader[]; body: Buffer; hold?: string; warnings: string[] }
  | { kind: 'reject'; reply: SmtpReply }
  | { kind: 'discard' };

/*
 * Content: the message as received (after SMTP dot-unstuffing), LF or CRLF line ends. Cleanup
 * stores it with CRLF line ends and the added header fields; delivery agents read it back as is.
 */

export type CleanupResult =
  /** Durable in the queue: the client may be told 250. */
  | { kind: 'queued'; queueId: string; size: number }
  /** header_checks DISCARD or a discard action: accepted and dropped, the client is told 250. */
  | { kind: 'discarded'; queueId: string }
  /** Refused (size limit, header_checks REJECT, storage failure …): the reply to send. */
  | { kind: 'rejected'; reply: SmtpReply };

export interface Cleanup {
  /** A queue ID for a message about to be submitted (smtpd logs it at the first RCPT). */
  allocateQueueId(): string;
  submit(message: IncomingMessage, content: Readable | AsyncIterable<Buffer> | Buffer): Promise<CleanupResult>;
}
