/*
 * An smtpd process (Postfix: master(8) runs up to maxproc smtpd processes that all accept on the
 * same listening sockets). Forked by the master (smtpd-processes.ts) when postern_smtpd_processes
 * is more than 1; runs smtpd and cleanup for every master.cf `inet … smtpd` service on the
 * listening sockets the master bound and passed over, and enqueues into the same LMDB queue
 * (LMDB serialises writers across processes; each process has its own slice of the queue-ID space).
 * qmgr stays in the master: after each commit this process tells it which queue IDs arrived
 * (one notice per event-loop turn). It logs its own lines, with its own PID, as Postfix's smtpd
 * and cleanup processes do, and runs as mail_owner once its files are open.
 *
 * It accepts only while the master spreads the load (spread.ts): a `listener` message brings a
 * listening socket to accept on, `pause` closes this process's copies of them (sessions in progress
 * go on), and a later `listener` brings new copies.
 *
 * Stops on `stop` or when the master goes away (IPC channel closed): listeners and sessions close
 * at once, as Postfix's smtpd processes do on `postfix stop`; a message whose 250 was not sent is
 * the client's to retry, one whose commit was flushed is in the queue.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { loadPostfixConfig } from '../../shared/config/postfix/config.js';
import { openLogSink } from '../../shared/log/sink.js';
import { queueSettings } from '../queue/settings.js';
import { startSmtpdServices, type RunningService } from '../smtpd/services.js';
import { becomeMailOwner, mailOwner } from './privileges.js';
import { endpointKey, readMasterServices, type SmtpdEndpoint } from './services.js';
import { mtaLogger, mtaRewriting, openQueue } from './wiring.js';
import { isMasterMessage, type InitMessage, type SmtpdToMaster } from './smtpd-protocol.js';
import { startIdleGc } from '../../shared/idle-gc.js';

const SESSIONS_REPORT_MS = 100;

interface Listener {
  readonly endpoint: SmtpdEndpoint;
  readonly server: Server;
}

/** A listening socket passed by the master (Node's TCP handle). */
type PassedHandle = object & { close?: () => void };

function send(m: SmtpdToMaster): void {
  if (process.connected) process.send?.(m);
}

/**
 * Starts cleanup and smtpd on the listeners; resolves with the function that stops them.
 * `credits.n`: the active slots qmgr has lent this process and it has not used yet (the master's
 * `credit` messages add to it).
 */
async function run(init: InitMessage, listeners: Listener[], credits: { n: number }): Promise<() => Promise<void>> {
  const cfg = loadPostfixConfig({ configDir: init.configDir });
  const services = readMasterServices(init.configDir);
  const sink = openLogSink(cfg.get('maillog_file'));
  const logger = mtaLogger(cfg, sink);
  const store = openQueue(queueSettings(cfg), (m) => logger('cleanup').warn(m), { index: init.slot, count: init.slots });
  const { resolver, cleanup } = mtaRewriting(cfg, store, logger);

  // Direct admission with the active slots qmgr lent us (credit messages): a new message due at
  // once, with nothing older due, is stored straight as active, as the master's own cleanup does,
  // which saves qmgr a write transaction (and its fsync) per batch of new mail.
  store.setDirectAdmission({
    reserve: () => {
      if (credits.n <= 0) return false;
      credits.n--;
      return true;
    },
    release: () => {
      credits.n++;
    },
  });
  // qmgr learns of new mail once per event-loop turn, however many sessions committed in it.
  let arrived: string[] = [];
  let admitted: string[] = [];
  store.onChange((c) => {
    if (c.kind !== 'enqueued') return;
    if (arrived.length === 0 && admitted.length === 0) {
      setImmediate(() => {
        const m: SmtpdToMaster = { type: 'enqueued', ids: arrived, admitted };
        arrived = [];
        admitted = [];
        send(m);
      });
    }
    if (c.admitted !== undefined) admitted.push(...c.ids);
    else arrived.push(...c.ids);
  });

  // The master decides from all sessions when the processes stop accepting (spread.ts): report ours,
  // at most every SESSIONS_REPORT_MS while the number changes (the last one always goes).
  let sessions = 0;
  let reportTimer: NodeJS.Timeout | undefined;
  const changed = (d: number): void => {
    sessions += d;
    reportTimer ??= setTimeout(() => {
      reportTimer = undefined;
      send({ type: 'sessions', n: sessions });
    }, SESSIONS_REPORT_MS);
  };
  for (const l of listeners) {
    l.server.on('connection', (socket: Socket) => {
      changed(1);
      socket.once('close', () => changed(-1));
    });
  }

  const byAddress = new Map(listeners.map((l) => [endpointKey(l.endpoint), l.server]));
  let running: RunningService[];
  try {
    running = await startSmtpdServices({
      services, resolver, cleanup, logger,
      etrn: async (domain) => {
        send({ type: 'etrn', domain });
        return true;
      },
      listenerFor: (ep) => byAddress.get(endpointKey(ep)),
    });
  } catch (err) {
    await store.close();
    await sink.close();
    throw err;
  }
  if (!init.keepPrivileges && process.getuid?.() === 0) {
    await sink.opened?.();
    becomeMailOwner(mailOwner(cfg));
  }
  send({ type: 'ready' });

  return async () => {
    clearTimeout(reportTimer);
    await Promise.allSettled(running.map((s) => s.close()));
    await store.close();
    await sink.close();
  };
}

function main(): void {
  let listeners: Listener[] | undefined;
  /** Sockets to accept on that came before run() had set smtpd up on them. */
  const pending = new Map<number, PassedHandle>();
  let started = false;
  const credits = { n: 0 };
  let stop: Promise<() => Promise<void>> | undefined;
  let stopping = false;
  const finish = (): void => {
    if (stopping) return;
    stopping = true;
    const done = stop ? stop.then((f) => f(), () => undefined) : Promise.resolve();
    void done.finally(() => process.exit(0));
  };
  /** Accepts on `handle` at listener `index`, unless already accepting there (then the copy is closed). */
  const accept = (index: number, handle: PassedHandle): void => {
    const l = listeners?.[index];
    if (l === undefined || l.server.listening || stopping) {
      handle.close?.();
      return;
    }
    l.server.listen(handle);
  };
  startIdleGc();
  process.on('disconnect', finish);
  process.on('SIGTERM', finish);
  // A terminal's ^C or ^\ reaches the whole process group: the master decides (it stops us).
  for (const sig of ['SIGINT', 'SIGQUIT', 'SIGHUP'] as const) process.on(sig, () => undefined);
  process.on('message', (m: unknown, handle?: PassedHandle) => {
    if (!isMasterMessage(m)) return;
    if (m.type === 'stop') {
      finish();
    } else if (m.type === 'credit') {
      credits.n += m.n;
    } else if (m.type === 'init' && listeners === undefined) {
      const ls = m.endpoints.map((endpoint) => ({ endpoint, server: createServer() }));
      listeners = ls;
      stop = run(m, ls, credits);
      stop.then(() => {
        started = true;
        for (const [index, h] of pending) accept(index, h);
        pending.clear();
      }, (err: Error) => {
        process.stderr.write(`postfix/smtpd: fatal: ${err.message}\n`);
        process.exit(1);
      });
    } else if (m.type === 'listener' && handle !== undefined) {
      if (started) accept(m.index, handle);
      else {
        pending.get(m.index)?.close?.();
        pending.set(m.index, handle);
      }
    } else if (m.type === 'pause') {
      for (const h of pending.values()) h.close?.();
      pending.clear();
      // Closing the server closes this process's copy of the socket only: the master's and the
      // other processes' copies keep it listening, and sessions in progress are not touched.
      for (const l of listeners ?? []) if (l.server.listening) l.server.close();
    }
  });
}

main();
