/*
 * The seam smtpd → access policy: smtpd asks at each stage of the SMTP dialogue and gets a decision;
 * the policy engine (mta/smtpd/policy/) evaluates smtpd_client_/helo_/sender_/relay_/recipient_/
 * data_/end_of_data_/etrn_restrictions with Postfix's semantics (SMTPD_ACCESS_README: smtpd_delay_reject,
 * a `permit` ends only its own list, relay list before recipient list at compatibility_level ≥ 3.6,
 * implicit reject_unlisted_recipient with smtpd_reject_unlisted_recipient = yes). Async because some
 * restrictions ask DNS (reject_rbl_client, reject_unknown_*_domain, check_*_mx_access).
 */
import type { SmtpReply } from '../../../shared/proto/smtp-reply.js';

export type SmtpdStage = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'end-of-data' | 'etrn' | 'vrfy';

export interface SmtpdFacts {
  client: { name: string; addr: string; port: number; reverseName?: string };
  /** Address the client connected to. */
  server: { addr: string; port: number };
  helo?: string;
  /** MAIL FROM address, "" for the null sender; undefined before MAIL. */
  sender?: string;
  /** RCPT TO address (for the rcpt and vrfy stages). */
  recipient?: string;
  /** ETRN argument. */
  etrnDomain?: string;
  sasl?: { method: string; username: string };
  tls: boolean;
  /** ESMTP, ESMTPA … for log lines. */
  protocol: string;
  /** Recipients accepted so far in this transaction. */
  recipientCount: number;
  /** The client sent commands before the server's reply (for reject_unauth_pipelining). */
  pipelined: boolean;
  /** Queue ID once one is allocated (policy service `queue_id`). */
  queueId?: string;
  /** MAIL SIZE= value, or the received size after DATA (policy service `size`). */
  size?: number;
  /** One object per mail transaction, for the policy service `instance` attribute. */
  transaction?: object;
  /** Negotiated TLS (policy service encryption_* attributes). */
  tlsInfo?: { protocol: string; cipher: string; bits?: number };
  /** MAIL AUTH= address (policy service `sasl_sender`). */
  saslSender?: string;
}

export type Decision = (
  | { kind: 'accept' }
  /** Reply and, for the log, the NOQUEUE/queue-id reject line's stage name (`RCPT`, `MAIL` …). */
  | { kind: 'reject'; reply: SmtpReply; disconnect?: boolean }
  | { kind: 'defer'; reply: SmtpReply; disconnect?: boolean }
  /** Accept, but the message goes to the hold queue (HOLD action). */
  | { kind: 'hold'; reason: string }
  /** Accept and drop (DISCARD action). */
  | { kind: 'discard'; reason: string }
) & {
  /**
   * Header fields from PREPEND actions (access(5), check_policy_service such as policyd-spf's
   * `Received-SPF:`), in the order they fired; the message gets them above smtpd's Received:.
   */
  prepend?: string[];
};

export interface SmtpdPolicy {
  evaluate(stage: SmtpdStage, facts: SmtpdFacts): Promise<Decision>;
}
