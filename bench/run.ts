/*
 * `make bench`: runs every workload on the reference peer (Dovecot 2.3 / Postfix 3.7) and on
 * Postern in alternation (reference, ours, reference, ours … for `rounds` rounds), prints the
 * medians and ratios with the machine description, and writes bench/results/<timestamp>.json and
 * bench/results/latest.md. A workload that cannot run says why ("not available: …"); a round that
 * fails is logged and left out of the medians, never replaced by a number.
 * Environment: BENCH_QUICK=1 (smoke run), BENCH_ROUNDS, BENCH_ONLY=lmtp,imap,idle,cli,smtp, and the
 * per-workload sizes in bench/settings.ts. Never part of `make test`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeScratch } from './scratch.js';
import { settleMachine } from './settle.js';
import { describeMachine } from './machine.js';
import { consoleTable, markdownReport, RESULT_SCHEMA, summarize, unavailable, type BenchResult, type MetricResult } from './results.js';
import { benchSettings, type BenchSettings } from './settings.js';
import { log, type Workload } from './workload.js';
import { workloadsFor } from './workloads/list.js';
import type { Side } from './mda-peers.js';

const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

async function runWorkload(w: Workload, s: BenchSettings): Promise<MetricResult[]> {
  const reason = (await w.unavailable?.(s)) ?? undefined;
  if (reason !== undefined) {
    log(`${w.id}: not available: ${reason}`);
    return w.metrics.map((m) => unavailable({ workload: w.id, metric: m.metric, reason }));
  }
  log(`${w.id}: ${w.title}`);
  try {
    await w.setup?.(s);
  } catch (err) {
    const why = `setup failed: ${(err as Error).message.split('\n')[0]}`;
    log(`${w.id}: ${why}`);
    await w.teardown?.().catch(() => undefined);
    return w.metrics.map((m) => unavailable({ workload: w.id, metric: m.metric, reason: why }));
  }
  const values: Record<Side, Record<string, number[]>> = { ours: {}, reference: {} };
  const errors: string[] = [];
  try {
    for (let round = 0; round < s.rounds; round++) {
      for (const side of s.sides) {
        try {
          await settleMachine();
          const v = await w.run(side, round, s);
          for (const [k, x] of Object.entries(v)) (values[side][k] ??= []).push(x);
        } catch (err) {
          const msg = `${side} round ${round + 1}: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`;
          log(`${w.id}: ${msg}`);
          errors.push(msg);
        }
      }
    }
  } finally {
    await w.teardown?.().catch((err: Error) => log(`${w.id}: teardown: ${err.message}`));
  }
  return w.metrics.map((m) => {
    const ours = values.ours[m.metric] ?? [];
    const reference = values.reference[m.metric] ?? [];
    if (ours.length === 0 || reference.length === 0) {
      return unavailable({ workload: w.id, metric: m.metric, reason: `no successful round (${errors[0] ?? 'no value'})` });
    }
    return summarize({
      workload: w.id,
      ...m,
      ours,
      reference,
      referenceName: w.referenceName,
      ...(errors.length > 0 ? { note: `failed rounds: ${errors.join('; ')}` } : {}),
    });
  });
}

async function main(): Promise<void> {
  const s = benchSettings(process.env);
  const machine = describeMachine();
  const startedAt = new Date().toISOString();
  log(`${s.quick ? 'quick' : 'full'} run, ${s.rounds} rounds; ${machine.nproc} CPUs ${machine.cpuModel}, ${machine.memoryMiB} MiB, load ${machine.loadAverage.join(' ')}`);
  const metrics: MetricResult[] = [];
  try {
    for (const w of workloadsFor(s)) {
      if (s.only.length > 0 && !s.only.includes(w.id)) continue;
      metrics.push(...(await runWorkload(w, s)));
    }
  } finally {
    removeScratch();
  }
  const res: BenchResult = {
    schema: RESULT_SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: s.quick ? 'quick' : 'full',
    rounds: s.rounds,
    machine,
    settings: { ...s, only: s.only.join(','), imapClients: s.imapClients.join(','), sides: s.sides.join(',') },
    metrics,
  };
  const m = machine;
  process.stdout.write(
    `\nMachine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryMiB} MiB, kernel ${m.kernel}, Node ${m.node}, ${m.dovecot}, Postfix ${m.postfix}\n\n` +
      `${consoleTable(metrics)}\n`,
  );
  // A one-sided run (BENCH_SIDES) has no ratios: it is for profiling, never a result to keep.
  if (s.sides.length < 2) return;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(RESULTS_DIR, `${stamp}.json`), JSON.stringify(res, null, 1) + '\n');
  writeFileSync(join(RESULTS_DIR, 'latest.md'), markdownReport(res));
  process.stdout.write(`\nWritten: bench/results/${stamp}.json, bench/results/latest.md\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
