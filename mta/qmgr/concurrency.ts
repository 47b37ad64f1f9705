/*
 * Per-destination delivery concurrency (pure), after Postfix's SCHEDULER_README / qmgr_queue.c:
 *  - a destination (transport + next hop) starts with initial_destination_concurrency parallel
 *    deliveries, never more than <transport>_destination_concurrency_limit;
 *  - feedback is per pseudo-cohort: each delivery that completes without a connection or handshake
 *    failure adds positive_feedback/window, each that fails so subtracts negative_feedback/window
 *    (window never below 1), so a whole cohort of successes or failures moves the window by one;
 *  - failed deliveries also add 1/window to a failed-cohort count; once it reaches
 *    <transport>_destination_concurrency_failed_cohort_limit with no success in between, the
 *    destination is dead: suspended for minimal_backoff_time, its waiting mail deferred unattempted
 *    with "delivery temporarily suspended: <last reason>"; a success resets the count.
 * The `N/concurrency` feedback syntax is read as N (the per-window scaling is always applied).
 */

export interface ConcurrencyLimits {
  initial: number;
  limit: number;
  positiveFeedback: number;
  negativeFeedback: number;
  failedCohortLimit: number;
  /** Milliseconds a dead destination stays suspended (minimal_backoff_time). */
  suspendMs: number;
}

export interface DestinationWindow {
  window: number;
  failedCohorts: number;
  /** Epoch ms until which the destination is dead; undefined when alive. */
  suspendedUntil?: number;
  suspendReason?: string;
  suspendDsn?: string;
}

export function newWindow(l: ConcurrencyLimits): DestinationWindow {
  return { window: Math.max(1, Math.min(l.initial, l.limit > 0 ? l.limit : l.initial)), failedCohorts: 0 };
}

/** How many deliveries may run at once now. 0 when suspended. */
export function slots(w: DestinationWindow, now: number): number {
  if (w.suspendedUntil !== undefined && now < w.suspendedUntil) return 0;
  return Math.max(1, Math.floor(w.window + 1e-9));
}

export function isSuspended(w: DestinationWindow, now: number): boolean {
  return w.suspendedUntil !== undefined && now < w.suspendedUntil;
}

/** A delivery completed without a site failure. */
export function onSuccess(w: DestinationWindow, l: ConcurrencyLimits): DestinationWindow {
  const max = l.limit > 0 ? l.limit : Number.POSITIVE_INFINITY;
  return { window: Math.min(max, w.window + l.positiveFeedback / w.window), failedCohorts: 0 };
}

/** A delivery failed at connect/handshake (a site failure). */
export function onSiteFailure(w: DestinationWindow, l: ConcurrencyLimits, now: number, reason: string, dsn: string): DestinationWindow {
  const failedCohorts = w.failedCohorts + 1 / w.window;
  if (l.failedCohortLimit > 0 && failedCohorts >= l.failedCohortLimit - 1e-9) {
    return { window: w.window, failedCohorts, suspendedUntil: now + l.suspendMs, suspendReason: reason, suspendDsn: dsn };
  }
  return { window: Math.max(1, w.window - l.negativeFeedback / w.window), failedCohorts };
}

/** After the suspension: alive again at the initial concurrency. */
export function revive(l: ConcurrencyLimits): DestinationWindow {
  return newWindow(l);
}

/** Parses a feedback value (`1`, `1/concurrency`, `0.5`). */
export function parseFeedback(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*concurrency)?\s*$/.exec(text);
  return m ? Number(m[1]) : 1;
}
