/*
 * Workload 3, LMTP delivery alone: the fixed pipelined client (bench/lmtp-client.ts) delivers
 * `lmtpMessages` corpus messages over `lmtpConnections` connections to 100 users, into a freshly
 * started peer whose 100 INBOXes exist and are empty (same dovecot.conf for both, mail_fsync on). Messages/s from the
 * first connect to the last 250; then every message is checked to be a file in new/.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus } from '../corpus.js';
import { createEmptyMaildirs } from '../maildir-fixture.js';
import { runLmtp } from '../lmtp-client.js';
import { startMdaPeer, userName } from '../mda-peers.js';
import { cpuText } from '../cpu-meter.js';
import { log, type Workload } from '../workload.js';

function countNew(root: string): number {
  let n = 0;
  for (const u of readdirSync(root)) {
    try {
      n += readdirSync(join(root, u, 'Maildir', 'new')).length;
    } catch {
      // user without mail yet
    }
  }
  return n;
}

export const lmtpWorkload: Workload = {
  id: 'lmtp',
  title: 'LMTP delivery alone',
  referenceName: 'Dovecot 2.3 lmtp',
  metrics: [
    { metric: 'delivery', unit: 'messages/s', higherIsBetter: true },
    { metric: 'delivery CPU', unit: 'CPU ms/message', higherIsBetter: false },
  ],
  async run(side, _round, s) {
    const recipients = Array.from({ length: s.users }, (_, i) => userName(i + 1));
    const peer = await startMdaPeer(side, { users: s.users, mailProcesses: s.mailProcesses, prepare: (root) => createEmptyMaildirs(root, recipients) });
    try {
      const r = await runLmtp({
        socket: peer.lmtpSocket,
        connections: s.lmtpConnections,
        count: s.lmtpMessages,
        bodies: loadCorpus().map((m) => m.data),
        recipients,
      });
      if (r.failed > 0) throw new Error(`${r.failed} deliveries failed: ${r.firstError ?? ''}`);
      const files = countNew(peer.mailRoot);
      if (files !== r.delivered) throw new Error(`${r.delivered} accepted but ${files} files in new/`);
      log(`lmtp ${side}: ${r.delivered} messages in ${r.seconds.toFixed(2)} s, ${cpuText(r.cpu, r.delivered, 'message')}`);
      return { delivery: r.delivered / r.seconds, 'delivery CPU': r.cpu.busyMs / r.delivered };
    } finally {
      await peer.stop();
    }
  },
};
