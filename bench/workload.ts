/*
 * What a workload gives the runner: the metrics it measures, whether it can run here (a reason
 * when not: "MTA not built"), and one measurement of one side per call. The runner alternates the
 * sides (reference, ours, reference, ours …) and keeps every round's value.
 */
import type { BenchSettings } from './settings.js';
import type { Side } from './mda-peers.js';

export interface MetricSpec {
  readonly metric: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
}

export type RoundValues = Readonly<Record<string, number>>;

export interface Workload {
  readonly id: string;
  readonly title: string;
  readonly referenceName: string;
  readonly metrics: readonly MetricSpec[];
  /** Why it cannot run here, or undefined when it can. */
  unavailable?(s: BenchSettings): Promise<string | undefined>;
  setup?(s: BenchSettings): Promise<void>;
  run(side: Side, round: number, s: BenchSettings): Promise<RoundValues>;
  teardown?(): Promise<void>;
}

export const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};
