/*
 * Gives a quiet daemon process's young generation back to the system.
 *
 * Why: the daemons run with a large young generation (--max-semi-space-size=64, shared/daemon-flags.ts),
 * which V8 grows while allocation keeps it full: a burst (2,000 IMAP logins, a run of smtp-source)
 * leaves up to 128 MiB of semi-space pages resident in each process. V8 shrinks the young generation
 * only at a garbage collection that finds the allocation rate low, and a process with nothing to do
 * collects nothing, so those pages stayed resident for good: measured after 2,000 IMAP logins, about
 * 75 MiB in the master and in each mail worker, sessions idle (docs/performance.md, "Thirteenth
 * session").
 *
 * How: every IDLE_GC_INTERVAL_MS the process looks at its event loop's utilization over the interval.
 * When it was below QUIET_UTILIZATION and the young generation's resident pages exceed
 * YOUNG_RESIDENT_LIMIT, it runs a full collection (the `gc` that --expose-gc gives). V8 judges the
 * allocation rate from its recent collections, so the first quiet collections after a burst may not
 * shrink anything: measured after 2,000 IMAP logins, the second or third did in the master and the
 * workers, once the fourth. After MAX_TRIES collections in a row that left the young generation
 * above the limit, it waits for the next busy interval before trying again, so a process whose
 * young objects really are that large is not collected every interval for nothing.
 *
 * Cost: a full collection of a process's heap, a few tens of milliseconds, only in an interval in
 * which the event loop was busy less than 5 % of the time, and at most MAX_TRIES per quiet spell. Without
 * --expose-gc (a daemon started some other way, or in a test process) this does nothing.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export const IDLE_GC_INTERVAL_MS = 5_000;
/** The share of an interval the event loop may have been busy for the interval to count as quiet. */
export const QUIET_UTILIZATION = 0.05;
/** Resident young-generation bytes above which a quiet process collects (V8 starts at 1 MiB). */
export const YOUNG_RESIDENT_LIMIT = 8 * 1024 * 1024;
/** Collections in a row that may leave the young generation above the limit before waiting for activity. */
export const MAX_TRIES = 6;

/** What the process saw over one interval. */
export interface IntervalSample {
  /** Event-loop utilization over the interval, 0..1. */
  readonly utilization: number;
  /** Resident bytes of the young generation now. */
  readonly youngResident: number;
}

/** Decides, interval by interval, whether to collect (pure: the wiring is startIdleGc). */
export class IdleCollector {
  private tries = 0;

  /** True when the process should collect now. */
  tick(s: IntervalSample): boolean {
    if (s.utilization >= QUIET_UTILIZATION) {
      this.tries = 0;
      return false;
    }
    if (s.youngResident <= YOUNG_RESIDENT_LIMIT) {
      this.tries = 0;
      return false;
    }
    if (this.tries >= MAX_TRIES) return false;
    this.tries++;
    return true;
  }
}

type Gc = () => void;

/** The young generation's resident bytes (semi-spaces and its large objects). */
export function youngResident(): number {
  let n = 0;
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') n += s.physical_space_size;
  }
  return n;
}

export interface IdleGc {
  stop(): void;
}

/**
 * Starts the interval in this process (unref'd: it never keeps a process alive). `gc` defaults to
 * the global one --expose-gc defines; without it nothing starts.
 */
export function startIdleGc(o: { intervalMs?: number; gc?: Gc } = {}): IdleGc {
  const gc = o.gc ?? (globalThis as { gc?: Gc }).gc;
  if (typeof gc !== 'function') return { stop: () => undefined };
  const collector = new IdleCollector();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    if (collector.tick({ utilization, youngResident: youngResident() })) gc();
    // The collection is not held against the next interval: measured from after it.
    last = performance.eventLoopUtilization();
  }, o.intervalMs ?? IDLE_GC_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
