/*
 * Workload 5, idle connections: `idleSessions` clients log in (spread over the 100 users), SELECT
 * INBOX and IDLE; once all are idling (plus 2 s to settle) the daemon's whole process tree is
 * measured (bench/proc.ts): VmRSS summed over every process as asked, and Pss (shared pages divided
 * among the processes that map them) because summed RSS counts Dovecot's shared libraries once per
 * imap process. Per-connection figures subtract the tree's memory measured before any client.
 */
import { openSessions } from '../imap-load.js';
import { PASSWORD, startMdaPeer, userName } from '../mda-peers.js';
import { treeMemory } from '../proc.js';
import { log, type Workload } from '../workload.js';

export const idleWorkload: Workload = {
  id: 'idle',
  title: 'IDLE sessions: resident memory of the whole daemon',
  referenceName: 'Dovecot 2.3 (all processes)',
  metrics: [
    { metric: 'RSS per connection', unit: 'KiB', higherIsBetter: false },
    { metric: 'PSS per connection', unit: 'KiB', higherIsBetter: false },
    { metric: 'RSS total', unit: 'MiB', higherIsBetter: false },
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
      await new Promise((r) => setTimeout(r, 2000));
      const m = treeMemory(peer.pid);
      log(`idle ${side}: ${sessions.length} sessions idling after ${((Date.now() - t0) / 1000).toFixed(1)} s; ${m.processes} processes, RSS ${(m.rssKiB / 1024).toFixed(0)} MiB (before: ${(base.rssKiB / 1024).toFixed(0)} MiB in ${base.processes}), PSS ${(m.pssKiB / 1024).toFixed(0)} MiB`);
      for (const c of sessions) c.close();
      const n = sessions.length;
      return {
        'RSS per connection': (m.rssKiB - base.rssKiB) / n,
        'PSS per connection': (m.pssKiB - base.pssKiB) / n,
        'RSS total': m.rssKiB / 1024,
      };
    } finally {
      await peer.stop();
    }
  },
};
