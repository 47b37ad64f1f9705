/*
 * The delivery agents' per-recipient log line (Postfix's `to=<…>, relay=…, delay=…,
 * delays=a/b/c/d, dsn=…, status=…`), written under the agent's program name (lmtp, discard, error …).
 * delays as Postfix defines them (reference/postfix.md §11): a = before the queue manager (arrival
 * to qmgr taking the message), b = in the queue manager (to the hand-off to the agent),
 * c = connection setup (connect, greeting, LHLO, TLS), d = transmission; delay = the total.
 */
import { mtaEvents, type DeliveryStatus } from '../log-events.js';
import type { DeliveryRecipient } from './api.js';
import type { RecipientOutcome } from '../queue/types.js';

export interface DeliveryTimes {
  arrival: number;
  /** qmgr took the message (moved to active). */
  active: number;
  /** Handed to the agent. */
  dispatched: number;
  /** Connection set up (absent for agents without a connection). */
  setupDone?: number;
  done: number;
}

export function delaysOf(t: DeliveryTimes): { delay: number; delays: [number, number, number, number] } {
  const s = (ms: number) => Math.max(0, ms) / 1000;
  const setup = t.setupDone ?? t.dispatched;
  return {
    delay: s(t.done - t.arrival),
    delays: [s(t.active - t.arrival), s(t.dispatched - t.active), s(setup - t.dispatched), s(t.done - setup)],
  };
}

const STATUS: Record<RecipientOutcome['kind'], DeliveryStatus> = { delivered: 'sent', deferred: 'deferred', bounced: 'bounced' };

/** One log line per outcome, in request order. `resolution` is delay_logging_resolution_limit. */
export function outcomeLines(
  queueId: string, rcpts: readonly DeliveryRecipient[], outcomes: readonly RecipientOutcome[], t: DeliveryTimes, resolution?: number,
): string[] {
  const { delay, delays } = delaysOf(t);
  const byIndex = new Map(rcpts.map((r) => [r.index, r]));
  return outcomes.map((o) => {
    const r = byIndex.get(o.index);
    const to = r?.address ?? '';
    const orig = r?.originalAddress;
    return mtaEvents.delivery.outcome({
      queueId,
      to,
      ...(orig !== undefined && orig !== to ? { origTo: orig } : {}),
      relay: o.relay ?? 'none',
      delay,
      delays,
      dsn: o.dsnStatus,
      status: STATUS[o.kind],
      reason: o.kind === 'delivered' ? o.reply : o.reason,
      ...(resolution !== undefined ? { resolution } : {}),
    });
  });
}
