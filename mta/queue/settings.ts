/*
 * The main.cf parameters the queue and its tools read, typed.
 *
 * Names and defaults are Postfix 3.7's (reference/postfix.md §6.4, §13): queue_directory,
 * enable_long_queue_ids, minimal_backoff_time, maximal_backoff_time, maximal_queue_lifetime,
 * bounce_queue_lifetime, queue_run_delay (times in seconds; a bare number means seconds, except the
 * two lifetimes whose unit is days, as in Postfix). Values come from the shared main.cf loader; when
 * mta/params.ts (the MTA's typed table) lands, this reads through it instead.
 * Distrusts main.cf: bad values raise the loader's ValueSyntaxError with Postfix's wording.
 */
import type { PostfixConfig } from '../../shared/config/postfix/config.js';
import type { RetrySettings } from './outcomes.js';

export interface QueueSettings extends RetrySettings {
  queueDirectory: string;
  longQueueIds: boolean;
  /** Seconds. */
  queueRunDelay: number;
}

export function queueSettings(cfg: PostfixConfig): QueueSettings {
  return {
    queueDirectory: cfg.get('queue_directory'),
    longQueueIds: cfg.getBool('enable_long_queue_ids'),
    minimalBackoffTime: cfg.getTime('minimal_backoff_time', 's'),
    maximalBackoffTime: cfg.getTime('maximal_backoff_time', 's'),
    maximalQueueLifetime: cfg.getTime('maximal_queue_lifetime', 'd'),
    bounceQueueLifetime: cfg.getTime('bounce_queue_lifetime', 'd'),
    queueRunDelay: cfg.getTime('queue_run_delay', 's'),
  };
}

/** Postfix 3.7 defaults, for tests and tools that run without main.cf. */
export const DEFAULT_RETRY: RetrySettings = {
  minimalBackoffTime: 300,
  maximalBackoffTime: 4000,
  maximalQueueLifetime: 5 * 86400,
  bounceQueueLifetime: 5 * 86400,
};
