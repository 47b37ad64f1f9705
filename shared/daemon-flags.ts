/*
 * Node options and environment both daemons run with, wherever they are started from: bin/_launch
 * (postern-mda, postern-mta, `dovecot -F`, `postfix start-fg`), the detaching `dovecot` and `postfix
 * start`, and the benchmark runner (so it measures what an administrator runs). bin/_launch is a
 * shell script and repeats both; test/shared/daemon-flags.test.ts keeps them equal.
 *
 * --max-semi-space-size=64 (MiB; Node 20's default grows it to 16 here): a busy IMAP server allocates
 * short-lived buffers and parse results per command, and with the default young generation a scavenge
 * ran every ~33 ms and took 2.8 s of 16 s of CPU at 100 clients; with 64 MiB, 1.6 s and 455 -> 523
 * commands/s (BENCH_SIDES=ours BENCH_ONLY=imap BENCH_IMAP_CLIENTS=100, --trace-gc, docs/performance.md).
 * It is a ceiling: V8 grows the young generation only while allocation keeps it full. It does not
 * shrink it again in a process that has nothing to do, so after a burst the pages stayed resident.
 *
 * --expose-gc: shared/idle-gc.ts runs a collection when a process has gone quiet, which gives those
 * pages back (after 2,000 IMAP logins, about 75 MiB in each of the MDA's processes).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--expose-gc'];

/**
 * Environment variables both daemons start with, unless the administrator set them: bin/_launch
 * exports the same (test/shared/daemon-flags.test.ts keeps the two equal), and the other starters
 * pass daemonEnv(). The mail workers and smtpd processes inherit them.
 *
 * MALLOC_ARENA_MAX=2: a daemon's JavaScript runs on one thread, but libuv's file-system and crypto
 * threads and lmdb-js's writer thread allocate too, and glibc gives each allocating thread an arena
 * of its own (up to 8 per core), whose freed memory serves only that arena. With 2 (the main
 * thread's and one the helpers share), 2,000 idle IMAP sessions cost 53.8-54.0 KiB PSS each instead
 * of 56.1-57.4 (four alternating pairs), 93.5 KiB RSS instead of 96.5; IMAP and SMTP throughput were
 * unchanged within the noise (docs/performance.md, fourteenth session).
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** `env` with DAEMON_ENV's variables added where it has none of its own. */
export function daemonEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [k, v] of Object.entries(DAEMON_ENV)) out[k] ??= v;
  return out;
}
