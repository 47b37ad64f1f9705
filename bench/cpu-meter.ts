/*
 * Machine CPU spent during a measured window: every process on the machine (the daemon under test,
 * its client such as smtp-source or the IMAP load generator, and the kernel's work for both), from
 * os.cpus() before and after. Divided by the work done it gives CPU milliseconds per message or per
 * command, the figure that says what bounds a throughput: a side near 100 % busy is CPU-bound, and
 * the ratio of CPU per unit is the efficiency ratio independent of how many cores were left idle.
 * The client is the same program for both sides, so its share per unit is the same on both.
 */
import { cpus, type CpuInfo } from 'node:os';

export interface CpuSample {
  /** Milliseconds summed over all CPUs: user + nice + sys + irq. */
  readonly busyMs: number;
  /** Milliseconds summed over all CPUs, idle included. */
  readonly totalMs: number;
}

export interface CpuUse {
  /** Busy CPU milliseconds (all CPUs) during the window. */
  readonly busyMs: number;
  /** Busy share of all CPUs during the window, 0..1. */
  readonly busyShare: number;
}

/** Sums os.cpus() times (milliseconds). Pure, for the table-driven test. */
export function sampleOf(infos: readonly CpuInfo[]): CpuSample {
  let busyMs = 0;
  let totalMs = 0;
  for (const { times: t } of infos) {
    const busy = t.user + t.nice + t.sys + t.irq;
    busyMs += busy;
    totalMs += busy + t.idle;
  }
  return { busyMs, totalMs };
}

export function cpuBetween(a: CpuSample, b: CpuSample): CpuUse {
  const busyMs = b.busyMs - a.busyMs;
  const totalMs = b.totalMs - a.totalMs;
  return { busyMs, busyShare: totalMs > 0 ? busyMs / totalMs : 0 };
}

/** Starts a window; the returned function ends it. */
export function cpuMeter(): () => CpuUse {
  const a = sampleOf(cpus());
  return () => cpuBetween(a, sampleOf(cpus()));
}

/** "0.62 CPU ms/message, machine 93 % busy": for the per-round log lines. */
export function cpuText(cpu: CpuUse, units: number, unit: string): string {
  return `${(cpu.busyMs / units).toFixed(2)} CPU ms/${unit}, machine ${(cpu.busyShare * 100).toFixed(0)} % busy`;
}
