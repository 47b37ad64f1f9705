/*
 * The machine description printed with every benchmark: CPUs, memory, CPU model, kernel, load, and
 * the versions of Node, Dovecot and Postfix. Reads /proc and asks the installed programs.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface MachineInfo {
  readonly nproc: number;
  readonly memoryMiB: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly node: string;
  readonly dovecot: string;
  readonly postfix: string;
  readonly loadAverage: readonly number[];
}

function out(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}`.trim();
}

export function describeMachine(): MachineInfo {
  const c = cpus();
  const pf = out('/usr/sbin/postconf', ['-d', '-h', 'mail_version']);
  const dv = out('/usr/sbin/dovecot', ['--version']);
  return {
    nproc: c.length,
    memoryMiB: Math.round(totalmem() / 1048576),
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    kernel: release(),
    node: process.version,
    dovecot: dv === '' ? 'Dovecot not installed' : `Dovecot ${dv}`,
    postfix: pf === '' ? 'not installed' : pf,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
