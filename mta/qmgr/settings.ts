/*
 * The main.cf parameters qmgr reads (names and Postfix 3.7 defaults in mta/params.ts):
 * qmgr_message_active_limit, queue_run_delay, minimal_backoff_time, delay_warning_time,
 * delay_logging_resolution_limit,
 * initial_destination_concurrency and, per transport, `<transport>_destination_concurrency_limit`,
 * `_recipient_limit`, `_concurrency_positive_feedback`, `_negative_feedback`,
 * `_failed_cohort_limit`, falling back to the `default_destination_…` parameter as Postfix does when
 * the per-transport one is not set; the transport's master.cf maxproc (0 = unlimited, `-` =
 * default_process_limit) caps its parallel deliveries.
 */
import type { PostfixConfig } from '../../shared/config/postfix/config.js';
import { parseFeedback, type ConcurrencyLimits } from './concurrency.js';

export interface QmgrSettings {
  activeLimit: number;
  /** Seconds. */
  queueRunDelay: number;
  /** Seconds; dead destinations stay suspended this long. */
  minimalBackoffTime: number;
  /** Seconds; 0 = no delay warnings. */
  delayWarningTime: number;
  /** delay_logging_resolution_limit: decimals of sub-second delays in the delivery log lines (default 2). */
  delayLoggingResolution?: number;
}

export interface TransportLimits extends ConcurrencyLimits {
  recipientLimit: number;
  /** Parallel deliveries of this transport in all (master.cf maxproc); 0 = unlimited. */
  processLimit: number;
}

export function qmgrSettings(cfg: PostfixConfig): QmgrSettings {
  return {
    activeLimit: Math.max(1, cfg.getInt('qmgr_message_active_limit')),
    queueRunDelay: Math.max(1, cfg.getTime('queue_run_delay', 's')),
    minimalBackoffTime: cfg.getTime('minimal_backoff_time', 's'),
    delayWarningTime: cfg.getTime('delay_warning_time', 'h'),
    delayLoggingResolution: Math.min(6, Math.max(0, cfg.getInt('delay_logging_resolution_limit'))),
  };
}

/** `<transport><suffix>` when main.cf (or the catalogue, e.g. local_…) has it, else `default<suffix>`. */
function perTransport(cfg: PostfixConfig, transport: string, suffix: string): string {
  const own = `${transport}${suffix}`;
  return cfg.text(own) !== undefined ? cfg.get(own) : cfg.get(`default${suffix}`);
}

function int(text: string, fallback: number): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : fallback;
}

export function transportLimits(cfg: PostfixConfig, transport: string, maxproc?: string): TransportLimits {
  const initialOwn = `${transport}_initial_destination_concurrency`;
  const initial = int(cfg.text(initialOwn) !== undefined ? cfg.get(initialOwn) : cfg.get('initial_destination_concurrency'), 5);
  const procDefault = int(cfg.get('default_process_limit'), 100);
  return {
    initial,
    limit: int(perTransport(cfg, transport, '_destination_concurrency_limit'), 20),
    recipientLimit: Math.max(1, int(perTransport(cfg, transport, '_destination_recipient_limit'), 50)),
    positiveFeedback: parseFeedback(perTransport(cfg, transport, '_destination_concurrency_positive_feedback')),
    negativeFeedback: parseFeedback(perTransport(cfg, transport, '_destination_concurrency_negative_feedback')),
    failedCohortLimit: int(perTransport(cfg, transport, '_destination_concurrency_failed_cohort_limit'), 1),
    suspendMs: cfg.getTime('minimal_backoff_time', 's') * 1000,
    processLimit: maxproc === undefined || maxproc === '-' ? procDefault : int(maxproc, procDefault),
  };
}
