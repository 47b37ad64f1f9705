/*
 * The benchmark result document: one entry per metric with every round's value for both sides, the
 * medians and the ratio, plus the machine description and the run's settings. Pure: building the
 * document, checking its shape (test/bench/), and rendering the console and Markdown tables.
 * A metric that could not run carries `status: "not available"` and a reason, never a number.
 */
import { advantage, formatNumber, median, ratio } from './stats.js';
import type { MachineInfo } from './machine.js';

export const RESULT_SCHEMA = 'postern-bench/1';

/** One measured quantity of a workload, as collected by the runner (values per round). */
export interface MetricSamples {
  readonly workload: string;
  readonly metric: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly ours: readonly number[];
  readonly reference: readonly number[];
  /** Name of the reference peer ("Dovecot 2.3.19", "Postfix 3.7.11"). */
  readonly referenceName: string;
  readonly note?: string;
}

export interface UnavailableMetric {
  readonly workload: string;
  readonly metric: string;
  readonly reason: string;
}

export interface MetricResult {
  readonly workload: string;
  readonly metric: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly status: 'ok' | 'not available';
  readonly reason?: string;
  readonly referenceName?: string;
  readonly rounds?: { readonly ours: readonly number[]; readonly reference: readonly number[] };
  readonly oursMedian?: number;
  readonly referenceMedian?: number;
  /** ours ÷ reference of the medians. */
  readonly ratio?: number;
  /** Above 1: ours better (ours/ref for throughput, ref/ours for latency and memory). */
  readonly advantage?: number;
  readonly note?: string;
}

export interface BenchResult {
  readonly schema: typeof RESULT_SCHEMA;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly mode: 'quick' | 'full';
  readonly rounds: number;
  readonly machine: MachineInfo;
  readonly settings: Readonly<Record<string, number | string | boolean>>;
  readonly metrics: readonly MetricResult[];
}

/** JSON has no NaN: a missing median becomes null through this. */
function finite(x: number): number | undefined {
  return Number.isFinite(x) ? x : undefined;
}

export function summarize(s: MetricSamples): MetricResult {
  const o = median(s.ours);
  const r = median(s.reference);
  return {
    workload: s.workload,
    metric: s.metric,
    unit: s.unit,
    higherIsBetter: s.higherIsBetter,
    status: 'ok',
    referenceName: s.referenceName,
    rounds: { ours: [...s.ours], reference: [...s.reference] },
    oursMedian: finite(o),
    referenceMedian: finite(r),
    ratio: finite(ratio(o, r)),
    advantage: finite(advantage(o, r, s.higherIsBetter)),
    ...(s.note !== undefined ? { note: s.note } : {}),
  };
}

export function unavailable(u: UnavailableMetric): MetricResult {
  return { workload: u.workload, metric: u.metric, unit: '', higherIsBetter: true, status: 'not available', reason: u.reason };
}

/** Shape check of a parsed result document; returns the problems found (empty when valid). */
export function checkResultShape(doc: unknown): string[] {
  const errs: string[] = [];
  if (typeof doc !== 'object' || doc === null) return ['not an object'];
  const d = doc as Record<string, unknown>;
  if (d['schema'] !== RESULT_SCHEMA) errs.push('schema');
  for (const k of ['startedAt', 'finishedAt', 'mode']) if (typeof d[k] !== 'string') errs.push(k);
  if (typeof d['rounds'] !== 'number') errs.push('rounds');
  const m = d['machine'] as Record<string, unknown> | undefined;
  if (typeof m !== 'object' || m === null) errs.push('machine');
  else for (const k of ['nproc', 'memoryMiB']) if (typeof m[k] !== 'number') errs.push(`machine.${k}`);
  if (!Array.isArray(d['metrics'])) return [...errs, 'metrics'];
  (d['metrics'] as unknown[]).forEach((x, i) => {
    const r = x as Record<string, unknown>;
    if (typeof r['workload'] !== 'string' || typeof r['metric'] !== 'string') errs.push(`metrics[${i}].name`);
    if (r['status'] === 'ok') {
      const rounds = r['rounds'] as Record<string, unknown> | undefined;
      if (!rounds || !Array.isArray(rounds['ours']) || !Array.isArray(rounds['reference'])) errs.push(`metrics[${i}].rounds`);
      for (const k of ['oursMedian', 'referenceMedian', 'ratio']) {
        if (r[k] !== undefined && typeof r[k] !== 'number') errs.push(`metrics[${i}].${k}`);
      }
    } else if (r['status'] === 'not available') {
      if (typeof r['reason'] !== 'string' || r['reason'] === '') errs.push(`metrics[${i}].reason`);
      if ('oursMedian' in r || 'ratio' in r) errs.push(`metrics[${i}] has numbers but is not available`);
    } else errs.push(`metrics[${i}].status`);
  });
  return errs;
}

const fmt = (x: number | undefined): string => formatNumber(x ?? Number.NaN);

/** Rows: workload, metric, ours, reference, ratio, advantage. */
export function tableRows(metrics: readonly MetricResult[]): string[][] {
  return metrics.map((m) =>
    m.status === 'ok'
      ? [m.workload, `${m.metric} (${m.unit})`, fmt(m.oursMedian), fmt(m.referenceMedian), fmt(m.ratio), `${fmt(m.advantage)}x ${(m.advantage ?? 0) >= 1 ? 'better' : 'worse'}`]
      : [m.workload, m.metric, '-', '-', '-', `not available: ${m.reason ?? ''}`],
  );
}

const HEAD = ['workload', 'metric', 'Postern (median)', 'reference (median)', 'ratio ours/ref', 'ours is'];

export function consoleTable(metrics: readonly MetricResult[]): string {
  const rows = [HEAD, ...tableRows(metrics)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function markdownReport(res: BenchResult): string {
  const m = res.machine;
  const lines = [
    `# Postern benchmark: ${res.mode} run, ${res.rounds} rounds (A B alternation), ${res.finishedAt}`,
    '',
    `Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryMiB} MiB, kernel ${m.kernel}, Node ${m.node}, ${m.dovecot}, Postfix ${m.postfix}; load average at start ${m.loadAverage.join(' ')}.`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...tableRows(res.metrics).map((r) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`),
    '',
    'Ratio = ours ÷ reference of the medians; "ours is" folds in the direction (latency and memory: lower is better).',
    '',
  ];
  return lines.join('\n');
}
