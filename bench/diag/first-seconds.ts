/*
 * Diagnostic: what the IMAP server's first seconds after a start wait for. One daemon, 200 users
 * with the bench's mailboxes, and the bench's mix at `clients` sessions in three phases:
 *   A: users 1..N, right after the start: cold code (Node's JIT) and cold mailboxes;
 *   B: users N+1..2N, after A: warm code, mailboxes never read by this daemon;
 *   C: users 1..N again: warm code, warm mailboxes;
 *   D: users 1..N after a restart of the daemon: cold code, mailboxes read before the restart
 *      (what an index on disk keeps: Dovecot's dovecot.index*, our sidecar).
 * Each phase prints its first `warmup` seconds and the `seconds` after them. If B's first seconds
 * look like C's, a cold mailbox costs little and A's first seconds are the code warming up.
 * Not part of `make bench`; run it on a quiet machine, and more than once (single runs vary by 2x).
 *
 *   node dist/bench/diag/first-seconds.js [ours|reference] [clients=100] [warmup=5] [seconds=5]
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus } from '../corpus.js';
import { runImapLoad } from '../imap-load.js';
import { copyTree, writeMaildir } from '../maildir-fixture.js';
import { benchDir, PASSWORD, startMdaPeer, userName, type Side } from '../mda-peers.js';
import { treeCpuSeconds } from '../proc.js';
import { removeLater, removeScratch } from '../scratch.js';

const side = (process.argv[2] ?? 'ours') as Side;
const clients = Number(process.argv[3] ?? 100);
const warmupSeconds = Number(process.argv[4] ?? 5);
const seconds = Number(process.argv[5] ?? 5);
const MESSAGES = 150;

const template = benchDir('postern-first-seconds-');
removeLater(template);
const bodies = loadCorpus(100 * 1024).map((m) => m.crlf);
for (let u = 1; u <= 2 * clients; u++) writeMaildir(template, userName(u), u, MESSAGES, bodies);
const appendBodies = loadCorpus(16 * 1024).map((m) => m.crlf);
const peer = await startMdaPeer(side, {
  users: 2 * clients,
  mailProcesses: 2,
  prepare: (root) => {
    mkdirSync(root, { recursive: true });
    copyTree(template, root);
  },
});
try {
  const phase = async (name: string, firstUser: number): Promise<void> => {
    const users = Array.from({ length: clients }, (_, i) => userName(firstUser + i));
    // The daemon's CPU (all its processes), sampled every 100 ms: what a command costs it in each
    // part, a figure far steadier than the rates on a machine whose other load varies.
    const cpu: { us: number; s: number }[] = [];
    const sample = (): void => void cpu.push({ us: Number(process.hrtime.bigint() / 1000n), s: treeCpuSeconds(peer.pid) });
    const sampler = setInterval(sample, 100);
    // Markers in the daemon's own output, to slice what BENCH_OURS_NODE_ARGS (--trace-gc, …) logs there by phase.
    const mark = (what: string): void => appendFileSync(join(peer.dir, 'stdout.log'), `=== ${name}: ${what}\n`);
    mark('start');
    const marker = setTimeout(() => mark(`after ${warmupSeconds} s`), warmupSeconds * 1000);
    const r = await runImapLoad({ port: peer.imapPort, users, password: PASSWORD, seconds, warmupSeconds, appendBodies });
    clearInterval(sampler);
    clearTimeout(marker);
    mark('end');
    sample();
    const at = (us: number): number => (cpu.find((c) => c.us >= us) ?? cpu[cpu.length - 1]!).s;
    const t0 = r.loopStartedUs;
    const t1 = t0 + warmupSeconds * 1e6;
    const w = r.warmup;
    const perCommand = (a: number, b: number, n: number): string => `${((1000 * (b - a)) / Math.max(1, n)).toFixed(2)} CPU ms/command`;
    console.log(`${side} ${name}: first ${warmupSeconds} s ${w.commands} commands, p50 ${w.p50.toFixed(0)} ms, p99 ${w.p99.toFixed(0)} ms, ${perCommand(at(t0), at(t1), w.commands)}; next ${seconds} s ${r.commands} commands, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, ${perCommand(at(t1), cpu[cpu.length - 1]!.s, r.commands)}`);
    console.log(`  loop started at ${r.loopStartedUs} µs (monotonic; to slice --cpu-prof profiles)`);
    console.log(`  by second: ${w.perSecond.map((f, i) => `${i}: ${f.commands} p99 ${f.p99.toFixed(0)}`).join('; ')}`);
    console.log(`  by command (first ${warmupSeconds} s): ${Object.entries(w.perOp).map(([op, f]) => `${op} n=${f.n} p50=${f.p50.toFixed(0)} p99=${f.p99.toFixed(0)}`).join('; ')}`);
  };
  await phase('A (cold code, cold mailboxes)', 1);
  await phase('B (warm code, cold mailboxes)', clients + 1);
  await phase('C (warm code, warm mailboxes)', 1);
  await peer.restart();
  await phase('D (after a restart, mailboxes read before it)', 1);
} finally {
  await peer.stop();
  removeScratch();
}
