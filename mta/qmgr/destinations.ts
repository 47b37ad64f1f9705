/*
 * The per-destination run queues of qmgr: batches wait here until their destination has a free
 * concurrency slot and their transport is below its process limit; dead destinations have their
 * waiting batches handed back at once for an unattempted deferral. Pure bookkeeping around
 * concurrency.ts; the scheduler owns the I/O.
 */
import { isSuspended, newWindow, onSiteFailure, onSuccess, revive, slots, type DestinationWindow } from './concurrency.js';
import type { TransportLimits } from './settings.js';

export interface Destination<J> {
  key: string;
  transport: string;
  limits: TransportLimits;
  w: DestinationWindow;
  active: number;
  waiting: J[];
}

export class DestinationTable<J> {
  private readonly dests = new Map<string, Destination<J>>();
  private readonly transportActive = new Map<string, number>();

  constructor(private readonly limitsOf: (transport: string) => TransportLimits) {}

  get(transport: string, nexthop: string): Destination<J> {
    const key = `${transport}:${nexthop}`;
    let d = this.dests.get(key);
    if (!d) {
      const limits = this.limitsOf(transport);
      d = { key, transport, limits, w: newWindow(limits), active: 0, waiting: [] };
      this.dests.set(key, d);
    }
    return d;
  }

  all(): Iterable<Destination<J>> {
    return this.dests.values();
  }

  suspended(d: Destination<J>, now: number): boolean {
    return isSuspended(d.w, now);
  }

  /** Brings a destination whose suspension has ended back to life. */
  reviveIfDue(d: Destination<J>, now: number): void {
    if (d.w.suspendedUntil !== undefined && now >= d.w.suspendedUntil) d.w = revive(d.limits);
  }

  /** Takes the next batch that may start now, counting it as active. */
  next(d: Destination<J>, now: number): J | undefined {
    if (d.waiting.length === 0 || d.active >= slots(d.w, now)) return undefined;
    const ta = this.transportActive.get(d.transport) ?? 0;
    if (d.limits.processLimit > 0 && ta >= d.limits.processLimit) return undefined;
    d.active++;
    this.transportActive.set(d.transport, ta + 1);
    return d.waiting.shift();
  }

  /** A started batch finished; feedback updates the window. Returns true when it just died. */
  done(d: Destination<J>, now: number, siteFailure: boolean, reason: string, dsn: string): boolean {
    d.active--;
    this.transportActive.set(d.transport, (this.transportActive.get(d.transport) ?? 1) - 1);
    if (isSuspended(d.w, now)) return false;
    if (!siteFailure) {
      d.w = onSuccess(d.w, d.limits);
      return false;
    }
    d.w = onSiteFailure(d.w, d.limits, now, reason, dsn);
    return isSuspended(d.w, now);
  }

  /** Transports whose process limit is reached may free up when any destination finishes. */
  dropIdle(): void {
    for (const [k, d] of this.dests) if (d.active === 0 && d.waiting.length === 0 && d.w.suspendedUntil === undefined && d.w.failedCohorts === 0) this.dests.delete(k);
  }
}
