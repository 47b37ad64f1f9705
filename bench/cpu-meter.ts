/*
 * Machine CPU spent during a measured window: every process on the machine (the daemon under test,
 * its client such as smtp-source or the IMAP load generator, and the kernel's work for both), from
 * /proc/stat before and after. Divided by the work done it gives CPU milliseconds per message or per
 * command, the figure that says what bounds a throughput: a side near 100 % busy is CPU-bound, and
 * the ratio of CPU per unit is the efficiency ratio independent of how many cores were left idle.
 * The client is the same program for both sides, so its share per unit is the same on both.
 */
import { readFileSync } from 'node:fs';

/**
 * /proc/stat counts in USER_HZ ticks, which the kernel fixes at 100 per second for this file
 * whatever its internal HZ.
 */
const MS_PER_TICK = 10;

export interface CpuSample {
  /** Milliseconds summed over all CPUs: user + nice + system + irq + softirq. */
  readonly busyMs: number;
  /** Milliseconds summed over all CPUs: busy + idle + iowait (steal, time the host took, is left out). */
  readonly totalMs: number;
}

export interface CpuUse {
  /** Busy CPU milliseconds (all CPUs) during the window. */
  readonly busyMs: number;
  /** Busy share of all CPUs during the window, 0..1. */
  readonly busyShare: number;
}

/**
 * Parses the aggregate `cpu` line of /proc/stat (user nice system idle iowait irq softirq steal …).
 * Not os.cpus(): libuv leaves softirq out, and on loopback the kernel's TCP receive work runs as
 * softirq (11 % of the busy time of an SMTP acceptance round here, measured from /proc/stat).
 * Pure, for the table-driven test.
 */
export function sampleOf(procStat: string): CpuSample {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('/proc/stat has no aggregate cpu line');
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busyMs: busy * MS_PER_TICK, totalMs: (busy + idle + iowait) * MS_PER_TICK };
}

export function cpuBetween(a: CpuSample, b: CpuSample): CpuUse {
  const busyMs = b.busyMs - a.busyMs;
  const totalMs = b.totalMs - a.totalMs;
  return { busyMs, busyShare: totalMs > 0 ? busyMs / totalMs : 0 };
}

/** Starts a window; the returned function ends it. */
export function cpuMeter(): () => CpuUse {
  const read = (): CpuSample => sampleOf(readFileSync('/proc/stat', 'latin1'));
  const a = read();
  return () => cpuBetween(a, read());
}

/** "0.62 CPU ms/message, machine 93 % busy": for the per-round log lines. */
export function cpuText(cpu: CpuUse, units: number, unit: string): string {
  return `${(cpu.busyMs / units).toFixed(2)} CPU ms/${unit}, machine ${(cpu.busyShare * 100).toFixed(0)} % busy`;
}
