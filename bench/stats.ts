/*
 * Pure statistics for the benchmark runner: medians of rounds, nearest-rank percentiles of latency
 * samples, and the ratio of ours to the reference. No I/O, no clock: tested in test/bench/.
 * Distrusts: empty sample lists and zero denominators (they give NaN, never a thrown error, so one
 * failed round does not lose the others).
 */

/** Median of the values (mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/**
 * Nearest-rank percentile (p in 0..100) of unsorted samples: the smallest value with at least p% of
 * the samples at or below it. p99 of 100 samples is the 99th smallest. NaN when empty.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0 || !(p >= 0 && p <= 100)) return Number.NaN;
  const v = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * v.length));
  return v[rank - 1]!;
}

/** Percentile of an already sorted array (ascending); for large latency arrays sorted once. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0 || !(p >= 0 && p <= 100)) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** ours ÷ reference; NaN when either side is missing or the reference is zero. */
export function ratio(ours: number, reference: number): number {
  if (!Number.isFinite(ours) || !Number.isFinite(reference) || reference === 0) return Number.NaN;
  return ours / reference;
}

/**
 * How many times better ours is (above 1: ours better, below 1: ours worse), whichever direction
 * the metric points: ours/ref for throughput, ref/ours for latency and memory.
 */
export function advantage(ours: number, reference: number, higherIsBetter: boolean): number {
  return higherIsBetter ? ratio(ours, reference) : ratio(reference, ours);
}

/** Rounds for display: 3 significant digits, integers kept whole. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (Math.abs(x) >= 100) return Math.round(x).toString();
  return Number(x.toPrecision(3)).toString();
}
