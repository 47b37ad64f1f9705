/*
 * Applying a delivery attempt's per-recipient outcomes to a queue record (pure).
 *
 * Follows Postfix qmgr (reference/postfix.md §6.4, DESIGN.md §3 "qmgr → delivery agent"):
 *  - delivered → the recipient is done; bounced → done, with the reason kept for the DSN;
 *    deferred → still pending, the reason kept for mailq and the next DSN;
 *  - after a complete attempt with recipients still pending, the message goes to `deferred`, due at
 *    now + clamp(age, minimal_backoff_time, maximal_backoff_time);
 *  - a message that has reached its queue lifetime, or that postsuper -e/-f force-expired, has its
 *    pending recipients returned as failed at that point, keeping the last delay reason (or
 *    "message is administratively expired") and its 4.x.x status, as Postfix does [obs §6.4];
 *  - mail on hold does not expire until released;
 *  - when every recipient is done the message is removed, unless a DSN is owed, in which case it
 *    waits (dsnPending) until the bounce generator has queued the DSN.
 * Distrusts: outcome indexes (out of range or for an already-done recipient are ignored and counted).
 */
import type { Disposition, QueueRecord, RecipientOutcome, RecipientRecord } from './types.js';
import { nextAttemptAfterDeferral, lifetimeExpired, type BackoffSettings, type LifetimeSettings } from '../qmgr/backoff.js';

export type RetrySettings = BackoffSettings & LifetimeSettings;

export const ADMIN_EXPIRED_REASON = 'message is administratively expired';

export interface ApplyResult {
  /** The record to store (unchanged shape when disposition is removed). */
  record: QueueRecord;
  disposition: Exclude<Disposition, 'gone'>;
  /** Outcomes that named no pending recipient. */
  ignored: number;
}

function owesDsn(r: RecipientRecord): boolean {
  if (r.result === 'bounced' || r.result === 'expired') return !(r.notify?.includes('NEVER') ?? false);
  return r.result === 'delivered' && (r.notify?.includes('SUCCESS') ?? false);
}

/**
 * `complete` = this was the whole attempt for the message (every batch of it came back). With
 * `complete: false` the outcomes are recorded and the message stays active unless all are done.
 */
export function applyOutcomes(
  input: QueueRecord,
  outcomes: readonly RecipientOutcome[],
  nowMs: number,
  settings: RetrySettings,
  complete = true,
): ApplyResult {
  const record: QueueRecord = structuredClone(input);
  let ignored = 0;
  for (const o of outcomes) {
    const rcpt = Number.isInteger(o.index) ? record.recipients[o.index] : undefined;
    if (rcpt === undefined || rcpt.status !== 'pending') {
      ignored++;
      continue;
    }
    rcpt.dsnStatus = o.dsnStatus;
    if (o.relay !== undefined) rcpt.relay = o.relay;
    if (o.kind === 'delivered') {
      rcpt.status = 'done';
      rcpt.result = 'delivered';
      rcpt.reason = o.reply;
    } else if (o.kind === 'bounced') {
      rcpt.status = 'done';
      rcpt.result = 'bounced';
      rcpt.reason = o.reason;
    } else {
      rcpt.reason = o.reason;
    }
  }

  const held = record.queue === 'hold';
  let pending = record.recipients.filter((r) => r.status === 'pending');
  if (complete && pending.length > 0 && !held &&
      (record.forcedExpire || lifetimeExpired(nowMs, record.arrivalTime, record.sender, settings))) {
    for (const r of pending) {
      r.status = 'done';
      r.result = 'expired';
      if (r.reason === undefined || r.reason === '') r.reason = ADMIN_EXPIRED_REASON;
      if (r.dsnStatus === undefined) r.dsnStatus = '4.0.0';
    }
    pending = [];
  }

  if (pending.length === 0) {
    if (record.recipients.some(owesDsn)) {
      record.dsnPending = true;
      if (!held) record.queue = 'active';
      return { record, disposition: 'dsn-pending', ignored };
    }
    return { record, disposition: 'removed', ignored };
  }
  if (!complete) return { record, disposition: held ? 'held' : 'active', ignored };
  record.attempts += 1;
  record.lastAttempt = nowMs;
  if (held) return { record, disposition: 'held', ignored };
  record.queue = 'deferred';
  record.nextAttempt = nextAttemptAfterDeferral(nowMs, record.arrivalTime, settings);
  return { record, disposition: 'deferred', ignored };
}
