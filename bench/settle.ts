/*
 * A settled machine before anything is measured: the runner calls settleMachine() before every
 * side's round, and a workload that measures twice in one round (smtp: the cold run, then the warm
 * one) calls it between the two.
 */
import { spawnSync } from 'node:child_process';
import { cpuMeter } from './cpu-meter.js';
import { log } from './workload.js';

/** Below this busy share of all CPUs (sampled over QUIET_SAMPLE_MS) the machine counts as quiet. */
const QUIET_SHARE = 0.1;
const QUIET_SAMPLE_MS = 500;
const QUIET_MAX_WAIT_MS = 60_000;

/**
 * Flushes every dirty page (sync(1)), then waits (at most a minute) until the machine is quiet, so
 * that no side's round shares the disk or the CPUs with the aftermath of what ran before it.
 * Without the sync, the smtp rounds right after the cli workload (which writes two 100,000-message
 * maildirs and 10,000 queue files) ran during that writeback: Postfix's first two `-s 20` rounds
 * took 9.1-9.9 s against 4.6-5.2 s run alone, ours 3.8-4.3 s either way (its group commit shares
 * the slow fsyncs), which made the acceptance ratio read 2.2-2.3 instead of ~1.2. With the sync
 * alone, the same two rounds still took 9.9-11.2 s at twice the machine CPU per message (3.4-3.6
 * ms against 1.5): the kernel was still busy after the cli teardown, which the quiet wait covers.
 */
export async function settleMachine(): Promise<void> {
  spawnSync('sync', { stdio: 'ignore' });
  const t0 = Date.now();
  for (;;) {
    const end = cpuMeter();
    await new Promise((r) => setTimeout(r, QUIET_SAMPLE_MS));
    const { busyShare } = end();
    const waited = Date.now() - t0;
    if (busyShare < QUIET_SHARE || waited > QUIET_MAX_WAIT_MS) {
      if (waited > 2 * QUIET_SAMPLE_MS) log(`waited ${(waited / 1000).toFixed(1)} s for a quiet machine (${(busyShare * 100).toFixed(0)} % busy at the end)`);
      return;
    }
  }
}
