/*
 * Workload 4, IMAP: for each concurrency level (10 and 100 clients by default), a fresh peer gets
 * an identical copy of the same 100 mailboxes (a template written once as maildir files), then
 * bench/imap-load.ts runs its mix for `imapWarmupSeconds` and then `imapSeconds`: commands/s,
 * p50/p99 latency and CPU over the commands of the measured seconds, and apart the p99 of the
 * first seconds (the warm-up: a fresh daemon on cold mailboxes). Then the peer is restarted on the
 * same mail (its index kept: Dovecot's dovecot.index*, our sidecar) and the mix runs again for the
 * warm-up seconds and one more: the p99 of the first seconds after a restart, what users see when an
 * administrator restarts the daemon. Per-command figures go to the log.
 */
import { mkdirSync } from 'node:fs';
import { loadCorpus } from '../corpus.js';
import { runImapLoad } from '../imap-load.js';
import { copyTree, writeMaildir } from '../maildir-fixture.js';
import { benchDir, PASSWORD, startMdaPeer, userName } from '../mda-peers.js';
import type { MetricSpec } from '../workload.js';
import { cpuText } from '../cpu-meter.js';
import { removeLater } from '../scratch.js';
import { log, type Workload } from '../workload.js';

export function imapWorkload(levels: readonly number[]): Workload {
  let template = '';
  const metrics: MetricSpec[] = levels.flatMap((n) => [
    { metric: `${n} clients`, unit: 'commands/s', higherIsBetter: true },
    { metric: `${n} clients p50`, unit: 'ms', higherIsBetter: false },
    { metric: `${n} clients p99`, unit: 'ms', higherIsBetter: false },
    { metric: `${n} clients CPU`, unit: 'CPU ms/command', higherIsBetter: false },
    { metric: `${n} clients p99, first seconds`, unit: 'ms', higherIsBetter: false },
    { metric: `${n} clients p99, first seconds after a restart`, unit: 'ms', higherIsBetter: false },
  ]);
  return {
    id: 'imap',
    title: `IMAP mix at ${levels.join(' and ')} concurrent clients`,
    referenceName: 'Dovecot 2.3 imap',
    metrics,
    async setup(s) {
      template = benchDir('postern-bench-imap-template-');
      const bodies = loadCorpus(100 * 1024).map((m) => m.crlf);
      const users = Math.max(s.users, ...levels);
      for (let u = 1; u <= users; u++) writeMaildir(template, userName(u), u, s.imapMailboxMessages, bodies);
      log(`imap: template of ${users} mailboxes × ${s.imapMailboxMessages} messages in ${template}`);
    },
    async run(side, _round, s) {
      const out: Record<string, number> = {};
      const appendBodies = loadCorpus(16 * 1024).map((m) => m.crlf);
      for (const n of levels) {
        const users = Array.from({ length: n }, (_, i) => userName(i + 1));
        const peer = await startMdaPeer(side, {
          users: Math.max(s.users, n),
          mailProcesses: s.mailProcesses,
          prepare: (root) => {
            mkdirSync(root, { recursive: true });
            copyTree(template, root);
          },
        });
        try {
          const r = await runImapLoad({ port: peer.imapPort, users, password: PASSWORD, seconds: s.imapSeconds, warmupSeconds: s.imapWarmupSeconds, appendBodies });
          if (r.errors > r.commands * 0.01) throw new Error(`${r.errors} of ${r.commands} commands failed (${r.firstError ?? ''})`);
          out[`${n} clients`] = r.commands / r.seconds;
          out[`${n} clients p50`] = r.p50;
          out[`${n} clients p99`] = r.p99;
          out[`${n} clients CPU`] = r.cpu.busyMs / r.commands;
          if (r.warmup.commands > 0) out[`${n} clients p99, first seconds`] = r.warmup.p99;
          const ops = Object.entries(r.perOp).map(([op, v]) => `${op} n=${v.n} p50=${v.p50.toFixed(1)} p99=${v.p99.toFixed(1)}`).join('; ');
          log(`imap ${side} ${n} clients: ${(r.commands / r.seconds).toFixed(0)} commands/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${cpuText(r.cpu, r.commands, 'command')}, ${r.errors} errors${r.firstError ? ` (${r.firstError})` : ''}; first ${s.imapWarmupSeconds} s: ${r.warmup.commands} commands, p50 ${r.warmup.p50.toFixed(1)} ms, p99 ${r.warmup.p99.toFixed(1)} ms; ${ops}`);
          if (s.imapWarmupSeconds > 0) {
            await peer.restart();
            const again = await runImapLoad({ port: peer.imapPort, users, password: PASSWORD, seconds: 1, warmupSeconds: s.imapWarmupSeconds, appendBodies });
            if (again.errors > again.commands * 0.01) throw new Error(`after the restart, ${again.errors} of ${again.commands} commands failed (${again.firstError ?? ''})`);
            out[`${n} clients p99, first seconds after a restart`] = again.warmup.p99;
            log(`imap ${side} ${n} clients after a restart: first ${s.imapWarmupSeconds} s: ${again.warmup.commands} commands, p50 ${again.warmup.p50.toFixed(1)} ms, p99 ${again.warmup.p99.toFixed(1)} ms`);
          }
        } finally {
          await peer.stop();
        }
      }
      return out;
    },
    async teardown() {
      if (template !== '') removeLater(template);
    },
  };
}
