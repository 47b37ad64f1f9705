/*
 * Wall-clock timing of one command-line program run (spawnSync, stdout captured so that the
 * program really writes it), with a check of its exit status so a failing tool is never timed.
 */
import { spawnSync } from 'node:child_process';

export interface TimedRun {
  readonly ms: number;
  readonly stdout: string;
}

export function timeCommand(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): TimedRun {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'latin1', maxBuffer: 512 * 1024 * 1024, timeout: 600_000, ...(env ? { env } : {}) });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${(r.stderr || r.stdout || '').slice(0, 300)}`);
  return { ms, stdout: r.stdout };
}
