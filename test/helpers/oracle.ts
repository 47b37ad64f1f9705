/*
 * Finds the real Postfix/Dovecot programs that interop tests compare against.
 *
 * In CI (CI=true) .ci/run installs them, so a missing program is a failure, not a skip. Outside CI
 * a developer may not have them; the test is then skipped with the reason printed.
 */
import { existsSync } from 'node:fs';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

const SEARCH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of a real program, or undefined. */
export function findOracle(name: string): string | undefined {
  for (const dir of SEARCH) {
    const p = `${dir}/${name}`;
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * For `test(name, { skip: oracleSkip('postconf') }, …)`: false when the program exists; a reason
 * string outside CI; throws in CI so the run fails loudly.
 */
export function oracleSkip(...names: string[]): false | string {
  const missing = names.filter((n) => findOracle(n) === undefined);
  if (missing.length === 0) return false;
  const why = `real ${missing.join(', ')} not installed (apt-get install postfix postfix-lmdb postfix-pcre dovecot-core …; .ci/run does this)`;
  if (process.env['CI'] === 'true') throw new Error(`interop oracle missing in CI: ${why}`);
  return why;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a program synchronously with input, capturing output as UTF-8 text. */
export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: 'utf8',
    input: opts.input ?? '',
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
