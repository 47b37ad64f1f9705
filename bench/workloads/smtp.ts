/*
 * Workloads 1 and 2, with Postfix's own smtp-source as the client (`-s 20 -l 5120 -m N`, and `-s 1`):
 *  - smtp: acceptance into the MTA with delivery to the discard transport (default_transport =
 *    discard): messages/s from smtp-source's start to its exit (its last 250 and QUIT). Each round
 *    starts both MTAs fresh and measures `-s 20` twice: *cold* (the first N messages after start:
 *    Postfix forks its smtpd and cleanup processes, Node compiles our code as it goes) and *warm*
 *    (the next N, once the first N are delivered and the machine has settled), then `-s 1`. A mail
 *    server runs for days: the warm figure is its steady state, the cold one is kept beside it,
 *    measured as in every run before the seventh session (and the only one those runs had).
 *  - e2e: into the MTA with virtual_transport = lmtp:unix:<the MDA's socket> (Postfix into Dovecot,
 *    ours into ours): messages/s until the last file is in new/ (polled every 20 ms).
 * Both need our MTA; without it they report "not available: MTA not built".
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { freePort } from '../../test/helpers/free-port.js';
import { startMdaPeer, userName } from '../mda-peers.js';
import { createEmptyMaildirs } from '../maildir-fixture.js';
import { listening, ourMtaBuilt, startMtaPeer, type MtaPeer } from '../mta-peers.js';
import { cpuMeter, cpuText, type CpuUse } from '../cpu-meter.js';
import { settleMachine } from '../settle.js';
import { log, type Workload } from '../workload.js';

const SMTP_SOURCE = '/usr/sbin/smtp-source';

export interface SourceRun {
  /** From spawn to exit. */
  readonly secs: number;
  /** Machine CPU over the same window (smtp-source's own included). */
  readonly cpu: CpuUse;
}

/** Runs smtp-source to completion. */
export async function smtpSource(peer: MtaPeer, sessions: number, count: number, to: string): Promise<SourceRun> {
  const t0 = process.hrtime.bigint();
  const cpuEnd = cpuMeter();
  const child = spawn(SMTP_SOURCE, ['-s', String(sessions), '-l', '5120', '-m', String(count), '-f', 'sender@example.org', '-t', to, `${peer.host}:${peer.port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? -1)));
  if (code !== 0) throw new Error(`smtp-source -s ${sessions}: exit ${code}: ${err.slice(0, 300)}`);
  if (/error|fatal/i.test(err)) throw new Error(`smtp-source -s ${sessions}: ${err.slice(0, 300)}`);
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, cpu: cpuEnd() };
}

/**
 * Waits until the MTA's log says `removed` for `count` messages in all (both MTAs log it when a
 * message leaves the queue), so that no delivery of one measurement runs into the next. Gives up
 * after a minute without progress, saying so; the measurement after it is then still taken.
 */
async function delivered(peer: MtaPeer, count: number): Promise<void> {
  let last = -1;
  let progressAt = Date.now();
  for (;;) {
    let n = 0;
    try {
      n = readFileSync(peer.maillog, 'latin1').split(': removed\n').length - 1;
    } catch {
      // no log yet
    }
    if (n >= count) return;
    if (n !== last) {
      last = n;
      progressAt = Date.now();
    } else if (Date.now() - progressAt > 60_000) {
      log(`smtp: only ${n} of ${count} messages left the queue (see ${peer.maillog}); measuring anyway`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const notBuilt = async (): Promise<string | undefined> => (ourMtaBuilt() ? undefined : 'MTA not built');

export const smtpWorkload: Workload = {
  id: 'smtp',
  title: 'SMTP acceptance (smtp-source, discard transport)',
  referenceName: 'Postfix 3.7',
  metrics: [
    { metric: 'acceptance -s 20', unit: 'messages/s', higherIsBetter: true },
    { metric: 'acceptance -s 20 warm', unit: 'messages/s', higherIsBetter: true },
    { metric: 'acceptance -s 1', unit: 'messages/s', higherIsBetter: true },
    { metric: 'acceptance -s 20 CPU', unit: 'CPU ms/message', higherIsBetter: false },
    { metric: 'acceptance -s 20 warm CPU', unit: 'CPU ms/message', higherIsBetter: false },
    { metric: 'acceptance -s 1 CPU', unit: 'CPU ms/message', higherIsBetter: false },
  ],
  unavailable: notBuilt,
  async setup(s) {
    // The ceiling of the SMTP dialogue here: smtp-source into Postfix's smtp-sink (no queue, no fsync).
    const port = await freePort();
    const sink = spawn('/usr/sbin/smtp-sink', [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), `127.0.0.1:${port}`, '256'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 50));
      const r = await smtpSource({ host: '127.0.0.1', port, maillog: '', stop: async () => undefined }, 20, s.smtpMessages, 'rcpt@bench.test');
      log(`smtp: ceiling smtp-source -s 20 into smtp-sink: ${(s.smtpMessages / r.secs).toFixed(0)} messages/s, ${cpuText(r.cpu, s.smtpMessages, 'message')}`);
    } catch (err) {
      log(`smtp: ceiling not measured: ${(err as Error).message}`);
    } finally {
      sink.kill('SIGTERM');
    }
  },
  async run(side, _round, s) {
    const peer = await startMtaPeer(side, { default_transport: 'discard' }, s.smtpdProcesses);
    try {
      const n = s.smtpMessages;
      const cold = await smtpSource(peer, 20, n, 'rcpt@bench.test');
      await delivered(peer, n);
      await settleMachine();
      const warm = await smtpSource(peer, 20, n, 'rcpt@bench.test');
      await delivered(peer, 2 * n);
      await settleMachine();
      const n1 = Math.max(100, Math.round(n / 5));
      const s1 = await smtpSource(peer, 1, n1, 'rcpt@bench.test');
      log(
        `smtp ${side}: -s 20 cold: ${n} in ${cold.secs.toFixed(2)} s, ${cpuText(cold.cpu, n, 'message')}; ` +
          `warm: ${n} in ${warm.secs.toFixed(2)} s, ${cpuText(warm.cpu, n, 'message')}; ` +
          `-s 1: ${n1} in ${s1.secs.toFixed(2)} s, ${cpuText(s1.cpu, n1, 'message')}`,
      );
      return {
        'acceptance -s 20': n / cold.secs,
        'acceptance -s 20 warm': n / warm.secs,
        'acceptance -s 1': n1 / s1.secs,
        'acceptance -s 20 CPU': cold.cpu.busyMs / n,
        'acceptance -s 20 warm CPU': warm.cpu.busyMs / n,
        'acceptance -s 1 CPU': s1.cpu.busyMs / n1,
      };
    } finally {
      await peer.stop();
    }
  },
};

function countNew(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

export const e2eWorkload: Workload = {
  id: 'e2e',
  title: 'End-to-end: smtp-source into the MTA, LMTP into the MDA, until the last file is in new/',
  referenceName: 'Postfix 3.7 + Dovecot 2.3',
  metrics: [
    { metric: 'end-to-end -s 20', unit: 'messages/s', higherIsBetter: true },
    { metric: 'end-to-end -s 20 CPU', unit: 'CPU ms/message', higherIsBetter: false },
  ],
  unavailable: notBuilt,
  async run(side, _round, s) {
    const mda = await startMdaPeer(side, { users: s.users, mailProcesses: s.mailProcesses, prepare: (root) => createEmptyMaildirs(root, [userName(1)]) });
    let mta: MtaPeer | undefined;
    try {
      mta = await startMtaPeer(side, {
        virtual_mailbox_domains: 'bench.test',
        virtual_mailbox_maps: 'static:OK',
        virtual_transport: `lmtp:unix:${mda.lmtpSocket}`,
      }, s.smtpdProcesses);
      const to = userName(1);
      const newDir = `${mda.maildir(to)}/new`;
      const t0 = process.hrtime.bigint();
      const cpuEnd = cpuMeter();
      await smtpSource(mta, 20, s.smtpMessages, to);
      // A deferred delivery waits for the retry back-off (minutes): 20 s without progress is a stall.
      let last = -1;
      let progressAt = Date.now();
      for (let n = countNew(newDir); n < s.smtpMessages; n = countNew(newDir)) {
        if (n !== last) {
          last = n;
          progressAt = Date.now();
        } else if (Date.now() - progressAt > 20_000) {
          throw new Error(`stalled: ${n} of ${s.smtpMessages} files in new/ (deferred deliveries? see ${mta.maillog})`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = cpuEnd();
      log(`e2e ${side}: ${s.smtpMessages} messages in new/ after ${secs.toFixed(2)} s, ${cpuText(cpu, s.smtpMessages, 'message')}`);
      return { 'end-to-end -s 20': s.smtpMessages / secs, 'end-to-end -s 20 CPU': cpu.busyMs / s.smtpMessages };
    } finally {
      await mta?.stop();
      await mda.stop();
    }
  },
};
