/*
 * Workload 5, idle connections: `idleSessions` clients log in (spread over the 100 users), SELECT
 * INBOX and IDLE; once all are idling the daemon's whole process tree is measured (bench/proc.ts)
 * after 2 s (logged) and after IDLE_SETTLE_MS (the figures): VmRSS summed over every process as
 * asked, and Pss (shared pages divided among the processes that map them) because summed RSS counts
 * Dovecot's shared libraries once per imap process. Per-connection figures subtract the tree's
 * memory measured before any client.
 * Why the figures wait 20 s: the question is what idle connections cost a server that keeps them,
 * and a garbage-collected daemon gives back the memory of the logins' burst only once it is quiet
 * (shared/idle-gc.ts: a few quiet 5 s intervals). Dovecot's processes measure the same at both times.
 * The totals are reported beside the per-connection figures because "before" is each daemon's own
 * fixed set: since the fifteenth session our session shards start with the daemon (mda/worker/
 * pool.ts startShards), so their own memory (about 34 KiB per connection at 2,000) is in "before",
 * as Dovecot's master, auth, log and config processes are; the totals count everything.
 */
import { openSessions } from '../imap-load.js';
import { PASSWORD, startMdaPeer, userName } from '../mda-peers.js';
import { treeMemory } from '../proc.js';
import { log, type Workload } from '../workload.js';

const IDLE_SETTLE_MS = 20_000;

export const idleWorkload: Workload = {
  id: 'idle',
  title: 'IDLE sessions: resident memory of the whole daemon',
  referenceName: 'Dovecot 2.3 (all processes)',
  metrics: [
    { metric: 'RSS per connection', unit: 'KiB', higherIsBetter: false },
    { metric: 'PSS per connection', unit: 'KiB', higherIsBetter: false },
    { metric: 'RSS total', unit: 'MiB', higherIsBetter: false },
    { metric: 'PSS total', unit: 'MiB', higherIsBetter: false },
  ],
  async run(side, _round, s) {
    const peer = await startMdaPeer(side, { users: s.users, mailProcesses: s.mailProcesses });
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const base = treeMemory(peer.pid);
      const users = Array.from({ length: s.idleSessions }, (_, i) => userName((i % s.users) + 1));
      const t0 = Date.now();
      const sessions = await openSessions(peer.imapPort, users, PASSWORD, true);
      await Promise.all(sessions.map((c) => c.idle()));
      const idling = (Date.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 2000));
      const early = treeMemory(peer.pid);
      await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS - 2000));
      const m = treeMemory(peer.pid);
      const mib = (k: number): string => (k / 1024).toFixed(0);
      log(`idle ${side}: ${sessions.length} sessions idling after ${idling.toFixed(1)} s; ${m.processes} processes, RSS ${mib(m.rssKiB)} MiB (before: ${mib(base.rssKiB)} MiB in ${base.processes}; 2 s after the last IDLE: ${mib(early.rssKiB)} MiB), PSS ${mib(m.pssKiB)} MiB (2 s after: ${mib(early.pssKiB)} MiB)`);
      for (const c of sessions) c.close();
      const n = sessions.length;
      return {
        'RSS per connection': (m.rssKiB - base.rssKiB) / n,
        'PSS per connection': (m.pssKiB - base.pssKiB) / n,
        'RSS total': m.rssKiB / 1024,
        'PSS total': m.pssKiB / 1024,
      };
    } finally {
      await peer.stop();
    }
  },
};
