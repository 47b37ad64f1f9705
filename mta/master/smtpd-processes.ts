/*
 * The master's side of the smtpd processes (postern_smtpd_processes > 1).
 *
 * Postfix's master binds each `inet` service's socket and runs up to maxproc smtpd processes that
 * all accept on it; the kernel hands each new connection to one of them. The same here: the master
 * binds every smtpd address (as root, before it switches to mail_owner), *without listening*, keeps
 * the bound sockets, and passes them to each smtpd process, which listens and accepts on them
 * directly; a connection a process accepts costs the master nothing, which hears only the queue IDs
 * that arrived (for qmgr) and ETRN requests. The master accepts on the same sockets itself, and the
 * smtpd processes join in only while there are postern_smtpd_spread_sessions sessions or more at
 * once (spread.ts says why); `pause` stops them again. qmgr lends each process a few active slots
 * (CREDIT), so that new mail goes straight to active in its enqueue commit there too, as in the
 * master's own cleanup (QueueStore.DirectAdmission); a process that dies gives its slots back and
 * qmgr runs whatever it had stored as active but not handed over. Because it keeps the bound
 * sockets, it can start a replacement for an smtpd process at any time, after it has dropped root.
 *
 * A process that exits is logged as Postfix's master logs it (`warning: process
 * /usr/lib/postfix/sbin/smtpd pid N exit status 1` / `killed by signal 9`) and replaced a second
 * later; one that dies before it was ready also logs `bad command startup -- throttling` and is
 * replaced after service_throttle_time.
 *
 * Binding without listening uses net._createServerHandle, the function Node's own cluster module
 * binds with (exported by node:net since Node 0.x, unchanged through Node 24); Node 20 has no
 * SO_REUSEPORT option that would let each process bind for itself.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Log } from '../../shared/log/logger.js';
import { endpointKey, type SmtpdEndpoint } from './services.js';
import { isSmtpdMessage, type MasterToSmtpd } from './smtpd-protocol.js';
import { SmtpdSpread, type SpreadChange } from './spread.js';

const PROCESS_MAIN = fileURLToPath(new URL('./smtpd-process.js', import.meta.url));
/** How long a process may take from fork to listening before it counts as failed. */
const READY_TIMEOUT_MS = 30_000;
const RESPAWN_DELAY_MS = 1_000;
const STOP_TIMEOUT_MS = 5_000;

/** An smtpd address could not be bound, or an smtpd process ended before it was ready. */
export class SmtpdStartError extends Error {
  override readonly name = 'SmtpdStartError';
}

export interface SmtpdProcessesOptions {
  readonly configDir: string;
  readonly count: number;
  readonly endpoints: readonly SmtpdEndpoint[];
  readonly keepPrivileges: boolean;
  /** `$daemon_directory/smtpd`: the name Postfix's master logs a child by. */
  readonly path: string;
  /** service_throttle_time in milliseconds. */
  readonly throttleMs: number;
  /** postern_smtpd_spread_sessions (spread.ts; 0: the processes always accept, the master never). */
  readonly spreadSessions: number;
  readonly log: Log;
  readonly queue: SmtpdQueueLink;
  onEtrn(domain: string): void;
}

/** What the smtpd processes need from qmgr (main.ts wires it to the Qmgr and the store). */
export interface SmtpdQueueLink {
  /** Messages an smtpd process stored in incoming. */
  enqueued(ids: readonly string[]): void;
  /** A message an smtpd process stored straight as active, with a lent slot. */
  admitted(id: string): void;
  /** Lends up to n active slots; returns how many. */
  lend(n: number): number;
  /** Lent slots that will not be used. */
  giveBack(n: number): void;
  /** An smtpd process ended: run what it stored as active but could not hand over. */
  orphaned(): void;
}

/** Active slots each smtpd process holds for direct admission (topped up after each notice it sends). */
const CREDIT = 64;

export interface SmtpdProcesses {
  /** PIDs of the running smtpd processes (tests, `postfix status`-like checks). */
  pids(): number[];
  /** True while the smtpd processes accept (spread.ts). */
  spreading(): boolean;
  /** The master accepts on the smtpd addresses too (unless postern_smtpd_spread_sessions = 0). */
  readonly masterAccepts: boolean;
  /**
   * The server the master accepts on for this address (bound by the pool, not listening until
   * acceptHere()); undefined when the master does not accept.
   */
  masterListener(endpoint: SmtpdEndpoint): net.Server | undefined;
  /** Starts the master's own accepting, once its smtpd has a session handler on every masterListener. */
  acceptHere(): void;
  close(): Promise<void>;
}

type BoundHandle = object & { close(): void };

interface CreateServerHandle {
  (address: string, port: number, addressType: number, fd?: number, flags?: number): BoundHandle | number;
}

async function bindEndpoint(ep: SmtpdEndpoint): Promise<BoundHandle> {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;
  if (typeof create !== 'function') throw new SmtpdStartError('this Node.js cannot pass listening sockets to smtpd processes');
  const address = net.isIP(ep.host) ? ep.host : (await lookup(ep.host)).address;
  const h = create(address, ep.port, net.isIPv6(address) ? 6 : 4);
  if (typeof h === 'number') {
    const code = getSystemErrorName(h);
    const why = code === 'EADDRINUSE' ? 'Address already in use' : code === 'EACCES' ? 'Permission denied' : code;
    throw new SmtpdStartError(`bind ${address} port ${ep.port}: ${why}`);
  }
  return h;
}

export async function startSmtpdProcesses(o: SmtpdProcessesOptions): Promise<SmtpdProcesses> {
  const handles: BoundHandle[] = [];
  try {
    for (const ep of o.endpoints) handles.push(await bindEndpoint(ep));
  } catch (err) {
    for (const h of handles) h.close();
    throw err;
  }
  const children = new Map<number, ChildProcess>();
  /** The processes that are ready: they accept while `spread.active`. */
  const ready = new Set<ChildProcess>();
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;

  const send = (child: ChildProcess, m: MasterToSmtpd, handle?: BoundHandle): void => {
    if (!child.connected) return;
    if (handle === undefined) child.send(m);
    else child.send(m, handle as net.Server);
  };
  /** Each listening socket again: the process closed its copies at the last pause. */
  const startAccepting = (child: ChildProcess): void => {
    o.endpoints.forEach((endpoint, index) => send(child, { type: 'listener', index, endpoint }, handles[index]));
  };

  // The master's own accepting, and when the processes join in (spread.ts).
  const spread = new SmtpdSpread(o.spreadSessions);
  const masterServers = spread.masterAccepts ? handles.map(() => net.createServer()) : [];
  let masterSessions = 0;
  /** The sessions each process last reported. */
  const processSessions = new Map<ChildProcess, number>();
  const allSessions = (): number => {
    let n = masterSessions;
    for (const k of processSessions.values()) n += k;
    return n;
  };
  let ticker: NodeJS.Timeout | undefined;
  const apply = (change: SpreadChange | undefined): void => {
    if (change === undefined || stopping) return;
    if (change === 'spread') {
      for (const c of ready) startAccepting(c);
      ticker ??= setInterval(() => apply(spread.tick(Date.now())), 100).unref();
    } else {
      for (const c of ready) send(c, { type: 'pause' });
      clearInterval(ticker);
      ticker = undefined;
    }
  };
  for (const server of masterServers) {
    server.on('connection', (socket: net.Socket) => {
      masterSessions++;
      apply(spread.sessions(allSessions(), Date.now()));
      socket.once('close', () => {
        masterSessions--;
        apply(spread.sessions(allSessions(), Date.now()));
      });
    });
  }

  const later = (ms: number, f: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    timers.add(t);
  };

  /** Starts the process for `slot`; resolves once it listens, rejects if it dies or hangs first. */
  const spawn = (slot: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const child = fork(PROCESS_MAIN, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let isReady = false;
      /** Slots lent to this process and not handed back as admitted messages yet. */
      let lent = 0;
      const topUp = (): void => {
        const n = o.queue.lend(CREDIT - lent);
        if (n <= 0) return;
        lent += n;
        if (child.connected) child.send({ type: 'credit', n } satisfies MasterToSmtpd);
        else o.queue.giveBack(n);
      };
      const timer = setTimeout(() => {
        if (!isReady) child.kill('SIGKILL');
      }, READY_TIMEOUT_MS);
      child.on('message', (m: unknown) => {
        if (!isSmtpdMessage(m)) return;
        if (m.type === 'enqueued') {
          const used = Math.min(lent, m.admitted.length);
          lent -= used;
          for (const id of m.admitted) o.queue.admitted(id);
          if (m.ids.length > 0) o.queue.enqueued(m.ids);
          topUp();
        } else if (m.type === 'sessions') {
          processSessions.set(child, m.n);
          apply(spread.sessions(allSessions(), Date.now()));
        } else if (m.type === 'etrn') {
          o.onEtrn(m.domain);
        } else if (m.type === 'ready' && !isReady) {
          isReady = true;
          clearTimeout(timer);
          ready.add(child);
          if (spread.active) startAccepting(child);
          topUp();
          resolve();
        }
      });
      child.on('error', () => undefined);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        ready.delete(child);
        processSessions.delete(child);
        if (child.pid !== undefined) children.delete(child.pid);
        if (lent > 0) o.queue.giveBack(lent);
        lent = 0;
        if (stopping) return;
        o.queue.orphaned();
        const pid = child.pid ?? 0;
        if (signal !== null && signal !== 'SIGTERM') o.log.warn(`process ${o.path} pid ${pid} killed by signal ${signalNumber(signal)}`);
        else if (code !== null && code !== 0) o.log.warn(`process ${o.path} pid ${pid} exit status ${code}`);
        if (!isReady) {
          o.log.warn(`${o.path}: bad command startup -- throttling`);
          reject(new SmtpdStartError(`smtpd process ${pid} ended before it was ready`));
        }
        later(isReady ? RESPAWN_DELAY_MS : o.throttleMs, () => {
          if (!stopping) spawn(slot).catch(() => undefined);
        });
      });
      if (child.pid !== undefined) children.set(child.pid, child);
      send(child, { type: 'init', configDir: o.configDir, slot, slots: o.count + 1, keepPrivileges: o.keepPrivileges, endpoints: o.endpoints });
    });

  const close = async (): Promise<void> => {
    stopping = true;
    clearInterval(ticker);
    for (const t of timers) clearTimeout(t);
    timers.clear();
    await Promise.all([...children.values()].map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const kill = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS);
      c.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (c.connected) c.send({ type: 'stop' } satisfies MasterToSmtpd);
      else c.kill('SIGTERM');
    })));
    for (const h of handles) h.close();
  };

  try {
    // Slot 0 is the master's own (pickup, bounces); smtpd processes take 1 … count.
    await Promise.all(Array.from({ length: o.count }, (_, i) => spawn(i + 1)));
  } catch (err) {
    await close();
    throw err;
  }
  const byAddress = new Map(o.endpoints.map((ep, i) => [endpointKey(ep), masterServers[i]]));
  return {
    pids: () => [...children.keys()],
    spreading: () => spread.active,
    masterAccepts: spread.masterAccepts,
    masterListener: (ep) => byAddress.get(endpointKey(ep)),
    acceptHere: () => masterServers.forEach((server, i) => server.listen(handles[i])),
    close,
  };
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}
