/*
 * The runner's knobs: full mode (`make bench`, about 20 minutes on 2 cores) and quick mode
 * (BENCH_QUICK=1, a smoke run of a couple of minutes), each overridable by one BENCH_* variable.
 * Only bench/run.ts reads the environment; workloads receive this object.
 */
import { availableParallelism } from 'node:os';

export interface BenchSettings {
  readonly quick: boolean;
  readonly rounds: number;
  /** Workload ids to run (BENCH_ONLY=lmtp,imap), all when empty. */
  readonly only: readonly string[];
  /** Sides to run (BENCH_SIDES=ours while profiling; both by default). A one-sided run has no ratio. */
  readonly sides: readonly ('reference' | 'ours')[];
  readonly users: number;
  readonly lmtpMessages: number;
  readonly lmtpConnections: number;
  readonly imapClients: readonly number[];
  readonly imapSeconds: number;
  /**
   * Seconds each IMAP level runs its mix before the measured `imapSeconds` (both sides alike): a
   * server runs for days, and the first seconds after a start measure the start (cold caches, and
   * for us a JIT compiler). They are reported apart, as the "first seconds" p99.
   */
  readonly imapWarmupSeconds: number;
  readonly imapMailboxMessages: number;
  readonly idleSessions: number;
  readonly cliMailboxMessages: number;
  readonly cliQueueMessages: number;
  readonly cliRepeats: number;
  readonly smtpMessages: number;
  /**
   * Our MDA's `postern_mail_processes` (plugin setting; Dovecot ignores it): the processes its
   * logged-in sessions are spread over. Default: one per CPU, as Dovecot uses every core.
   */
  readonly mailProcesses: number;
  /**
   * Our MTA's `postern_smtpd_processes` (Postfix has no such parameter; it runs smtpd processes as
   * the load asks, up to master.cf's maxproc): the processes that accept SMTP. Default: one per CPU.
   */
  readonly smtpdProcesses: number;
}

function num(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${v}: a positive number is needed`);
  return n;
}

function sidesOf(v: string | undefined): ('reference' | 'ours')[] {
  if (v === undefined || v === '') return ['reference', 'ours'];
  const sides = v.split(',').map((x) => x.trim());
  for (const x of sides) if (x !== 'reference' && x !== 'ours') throw new Error(`BENCH_SIDES=${v}: reference, ours or both`);
  return sides as ('reference' | 'ours')[];
}

export function benchSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const quick = env['BENCH_QUICK'] === '1';
  return {
    quick,
    rounds: num(env, 'BENCH_ROUNDS', quick ? 2 : 3),
    only: (env['BENCH_ONLY'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    sides: sidesOf(env['BENCH_SIDES']),
    users: 100,
    lmtpMessages: num(env, 'BENCH_LMTP_MESSAGES', quick ? 500 : 5000),
    lmtpConnections: num(env, 'BENCH_LMTP_CONNECTIONS', 4),
    imapClients: (env['BENCH_IMAP_CLIENTS'] ?? '10,100').split(',').map(Number).filter((n) => n > 0),
    imapSeconds: num(env, 'BENCH_IMAP_SECONDS', quick ? 4 : 15),
    imapWarmupSeconds: num(env, 'BENCH_IMAP_WARMUP', quick ? 2 : 5),
    imapMailboxMessages: num(env, 'BENCH_IMAP_MAILBOX', quick ? 40 : 150),
    idleSessions: num(env, 'BENCH_IDLE_SESSIONS', quick ? 200 : 2000),
    cliMailboxMessages: num(env, 'BENCH_CLI_MAILBOX', quick ? 5000 : 100_000),
    cliQueueMessages: num(env, 'BENCH_CLI_QUEUE', quick ? 500 : 10_000),
    cliRepeats: num(env, 'BENCH_CLI_REPEATS', quick ? 3 : 5),
    smtpMessages: num(env, 'BENCH_SMTP_MESSAGES', quick ? 500 : 5000),
    mailProcesses: num(env, 'BENCH_MAIL_PROCESSES', availableParallelism()),
    smtpdProcesses: num(env, 'BENCH_SMTPD_PROCESSES', availableParallelism()),
  };
}
