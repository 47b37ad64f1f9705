/*
 * Retry timing (pure): when a deferred message is next due, and when it has been queued too long.
 *
 * Postfix qmgr_active.c (reference/postfix.md §6.4): after an attempt in which at least one
 * recipient was deferred, the next attempt is at now + clamp(age, minimal_backoff_time,
 * maximal_backoff_time), where age = now − arrival time. Using the age rather than the time since
 * the last attempt doubles the interval each time (5, 10, 20, 40, 80 min, then every 4000 s).
 * A message has expired when its age has reached maximal_queue_lifetime (bounce_queue_lifetime for
 * null-sender mail); a lifetime of 0 means "one attempt only". Distrusts the settings: a maximum
 * below the minimum is raised to the minimum, negative ages count as 0.
 */

export interface BackoffSettings {
  /** Seconds. */
  minimalBackoffTime: number;
  /** Seconds. */
  maximalBackoffTime: number;
}

/** Seconds to wait after a deferral, given the message age in seconds. */
export function backoffDelaySeconds(ageSeconds: number, s: BackoffSettings): number {
  const min = Math.max(0, s.minimalBackoffTime);
  const max = Math.max(min, s.maximalBackoffTime);
  const age = Math.max(0, ageSeconds);
  return Math.min(max, Math.max(min, age));
}

/** Epoch milliseconds of the next attempt after a deferral at `nowMs`. */
export function nextAttemptAfterDeferral(nowMs: number, arrivalMs: number, s: BackoffSettings): number {
  const ageSeconds = Math.floor((nowMs - arrivalMs) / 1000);
  return nowMs + backoffDelaySeconds(ageSeconds, s) * 1000;
}

export interface LifetimeSettings {
  /** Seconds; maximal_queue_lifetime. */
  maximalQueueLifetime: number;
  /** Seconds; bounce_queue_lifetime, for mail with the null sender. */
  bounceQueueLifetime: number;
}

/** True when a message of this sender and arrival time has reached its queue lifetime at `nowMs`. */
export function lifetimeExpired(nowMs: number, arrivalMs: number, sender: string, s: LifetimeSettings): boolean {
  const lifetime = sender === '' ? s.bounceQueueLifetime : s.maximalQueueLifetime;
  return nowMs - arrivalMs >= lifetime * 1000;
}
