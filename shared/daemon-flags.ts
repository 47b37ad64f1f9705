/*
 * Node options both daemons run with, wherever they are started from: bin/_launch (postern-mda,
 * postern-mta, `dovecot -F`, `postfix start-fg`), the detaching `dovecot` and `postfix start`, and
 * the benchmark runner (so it measures what an administrator runs). bin/_launch is a shell script and
 * repeats the list; test/shared/daemon-flags.test.ts keeps the two equal.
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
