/*
 * Per-uid mail workers, the master's side (Dovecot: the root master forks mail processes that run
 * as the user's uid, service_drop_privileges; issue 3 item 6).
 *
 * Node cannot change uid per session: setuid is process-wide and every async operation shares it.
 * So when the daemon is started as root with no `mail_uid` (system users with their own uids, the
 * Debian default), the master keeps root and every user's mail is touched only by a worker
 * process that runs with that user's uid and gid (and only that gid as its group). One worker
 * serves every session and delivery of one uid:gid pair; it is started on first use and retired
 * after postern_mail_worker_idle_timeout without work. Once workers are in use the pool keeps
 * postern_mail_worker_spares more started and unassigned (Dovecot's process_min_avail): a worker
 * costs Node's start-up and module loading, about 0.4 s here, and a small server whose workers
 * retire after every quiet minute paid it on most logins and deliveries; a spare is assigned in
 * milliseconds. Session shards (one uid, postern_mail_processes > 1) start with the daemon
 * (startShards) and are kept when idle: they are a fixed set, and the JIT-warmed code is worth
 * more than the memory a retirement gives back (shared/idle-gc.ts already returns what a burst
 * took). The master does the protocol up to login
 * (as imap-login/pop3-login), the userdb lookup and the LMTP dialogue (as Dovecot's lmtp, which
 * also runs as root and switches uid per delivery), and then:
 *  - IMAP/POP3: hands the logged-in connection over (SessionHandoff). A plaintext socket is passed
 *    as a file descriptor; a TLS connection stays in the master, which pipes its plaintext through
 *    a Unix socket pair whose other end is passed (Dovecot's login processes proxy TLS the same way);
 *  - LMTP: sends each recipient's message to the worker and waits for its saved/failed outcome.
 * Workers log through the master (the log service), report sessions for `doveadm who`/`kick`, and
 * never read dovecot.conf: the master sends the settings they need (and again after SIGHUP).
 *
 * A worker that dies fails its in-flight deliveries with a temporary error (LMTP 451, nothing is
 * lost: the MTA retries) and drops its sessions; the next use starts a new one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DovecotLog } from '../../shared/log/logger.js';
import type { SessionSink } from '../admin/sessions.js';
import { StorageError } from '../storage/api.js';
import type { DeliveryOutcome } from '../deliver/types.js';
import type { DetachedConnection } from './route.js';
import {
  isWorkerMessage, type DeliverRequest, type MasterToWorker, type SessionHandoff, type WarmUpOrder, type WorkerSettings,
} from './protocol.js';

const WORKER_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface MailWorkerPoolOptions {
  /** Where the master-private socket-pair listener lives (`<base_dir>/postern-pair`, mode 0700 dir). */
  readonly runDir: string;
  readonly logFor: (prefix: string) => DovecotLog;
  readonly settings: () => WorkerSettings;
  readonly sessions: SessionSink;
  /** Seconds a per-uid worker with nothing to do lives on (session shards are kept). */
  readonly idleTimeoutSecs: number;
  /**
   * Workers kept started and unassigned once workers are in use (postern_mail_worker_spares), so a
   * uid whose worker was retired gets one at once, not after Node's start-up.
   */
  readonly spares: number;
}


interface LiveSession {
  readonly user: string;
  readonly service: string;
  readonly ip: string;
  readonly onEnd: () => void;
  unregister?: () => void;
  /** The master's end of a TLS pipe, closed when the session ends. */
  pipe?: { readonly client: Socket; readonly pair: Socket };
}

/**
 * Which worker serves a session or delivery: the uid:gid it runs as and, when sessions are spread over
 * several processes of one uid (`postern_mail_processes`, main.ts), the shard number (0 otherwise).
 */
export interface WorkerSlot {
  readonly uid: number;
  readonly gid: number;
  readonly shard?: number;
}

function slotKey(s: WorkerSlot): string {
  return s.shard === undefined || s.shard === 0 ? `${s.uid}:${s.gid}` : `${s.uid}:${s.gid}#${s.shard}`;
}

class Worker {
  readonly child: ChildProcess;
  readonly sessions = new Map<string, LiveSession>();
  readonly deliveries = new Map<number, (o: DeliveryOutcome) => void>();
  /** Set by assign(); empty while the worker is a spare. */
  key = '';
  uid = -1;
  /** A session shard: kept when idle (the shards are a fixed set; retiring one only costs a start). */
  keep = false;
  retired = false;

  constructor(idleSecs: number) {
    // Started with the master's ids (root, for per-uid workers) and dropping to the uid:gid of
    // `assign` once its modules are loaded (as Dovecot's processes drop after exec), so the code
    // need not be readable by every mail user.
    this.child = fork(WORKER_MAIN, [String(idleSecs)], {
      serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  assign(key: string, slot: WorkerSlot): void {
    this.key = key;
    this.uid = slot.uid;
    this.keep = slot.shard !== undefined;
    this.send({ type: 'assign', uid: slot.uid, gid: slot.gid });
  }

  send(m: MasterToWorker, handle?: Socket): void {
    if (!this.child.connected) throw new StorageError('TEMP', 'Internal error occurred. Refer to server log for more information.', `mail worker ${this.child.pid ?? '?'} is gone`);
    if (handle === undefined) this.child.send(m);
    else this.child.send(m, handle);
  }
}

export class MailWorkerPool {
  /** The worker each slot (uid:gid, and shard) is routed to. */
  private readonly workers = new Map<string, Worker>();
  /** Every live worker, retired ones and spares included (close() stops them all). */
  private readonly all = new Set<Worker>();
  /** Started, unassigned workers (MailWorkerPoolOptions.spares), the oldest first. */
  private readonly spares: Worker[] = [];
  /** Set at the first assignment: spares are kept from then on. */
  private inUse = false;
  private pairServer: Server | undefined;
  private readonly pairWaiters = new Map<string, (s: Socket | undefined) => void>();
  private nextDelivery = 1;
  private closed = false;
  /**
   * The warm-up of each shard's slot (startShards), run again by the shard that replaces one that
   * died: it too would otherwise serve its first sessions with cold code.
   */
  private readonly warmUps = new Map<string, WarmUpOrder>();

  constructor(private readonly o: MailWorkerPoolOptions) {}

  private get log(): DovecotLog {
    return this.o.logFor('master');
  }

  /** The worker of a slot: the running one, else a spare, else a new one. */
  private worker(slot: WorkerSlot): Worker {
    if (this.closed) throw new StorageError('TEMP', 'Internal error occurred. Refer to server log for more information.', 'shutting down');
    const key = slotKey(slot);
    const existing = this.workers.get(key);
    if (existing !== undefined) return existing;
    const spare = this.takeSpare();
    const w = spare ?? this.start();
    w.assign(key, slot);
    this.workers.set(key, w);
    w.send({ type: 'init', settings: this.o.settings() });
    const warmUp = this.warmUps.get(key);
    if (warmUp !== undefined) w.send({ type: 'warm-up', ...warmUp });
    this.inUse = true;
    // A new worker's start is not slowed by a spare's: the spare follows its `ready`.
    if (spare !== undefined) this.startSpares();
    return w;
  }

  private start(): Worker {
    const w = new Worker(this.o.idleTimeoutSecs);
    this.all.add(w);
    w.child.on('message', (m: unknown) => this.onMessage(w, m));
    w.child.on('error', (err) => this.log.error(`mail worker ${w.uid >= 0 ? `uid=${w.uid}` : '(spare)'}: ${err.message}`));
    w.child.on('exit', (code, signal) => this.onExit(w, code, signal));
    return w;
  }

  /** A spare still able to take work (one that died is dropped by onExit). */
  private takeSpare(): Worker | undefined {
    for (;;) {
      const w = this.spares.shift();
      if (w === undefined || w.child.connected) return w;
    }
  }

  /**
   * Tops the spares up, after the first use only (a taken spare, or a new worker's `ready`): a
   * daemon whose sessions never leave the master keeps none, and one started as root forks them
   * after its own privilege drop (main.ts), so they can be stopped.
   */
  private startSpares(): void {
    while (!this.closed && this.spares.length < this.o.spares) this.spares.push(this.start());
  }

  /**
   * Starts the session shards 0..n-1 of uid:gid now, as the daemon starts (Dovecot's
   * process_min_avail): they are a fixed set, never retired, so starting each on its first login
   * only made that login wait for Node's start-up (about 0.5 s here, bench/diag/worker-start.ts).
   * `warmUp`: each then runs the IMAP warm-up (imap/warmup.ts) for at most `maxMs`, and so does a
   * shard started later in the place of one that died.
   */
  startShards(uid: number, gid: number, n: number, warmUp?: WarmUpOrder): void {
    for (let shard = 0; shard < n; shard++) {
      if (warmUp !== undefined && warmUp.maxMs > 0) this.warmUps.set(slotKey({ uid, gid, shard }), warmUp);
      this.worker({ uid, gid, shard });
    }
  }

  /** The pid a session will be served by (the `mpid=` of the login log line). */
  pidFor(slot: WorkerSlot): number {
    return this.worker(slot).child.pid ?? 0;
  }

  private onMessage(w: Worker, m: unknown): void {
    if (!isWorkerMessage(m)) return;
    switch (m.type) {
      case 'ready':
        if (this.inUse) this.startSpares();
        return;
      case 'log': {
        const l = this.o.logFor(m.prefix);
        l[m.level](m.text);
        return;
      }
      case 'session-open': {
        const s = w.sessions.get(m.session);
        if (s === undefined) return;
        const pid = w.child.pid ?? 0;
        s.unregister = this.o.sessions.register({
          user: s.user, service: s.service, pid, ip: s.ip, session: m.session, kick: () => this.kick(w, m.session),
        });
        return;
      }
      case 'session-end':
        this.endSession(w, m.session);
        return;
      case 'delivered': {
        const done = w.deliveries.get(m.id);
        if (done === undefined) return;
        w.deliveries.delete(m.id);
        done(m.kind === 'saved'
          ? { kind: 'saved', mailbox: m.mailbox, uid: m.uid }
          : { kind: 'failed', error: new StorageError(m.error.errorKind, m.error.clientText, m.error.logDetail) });
        return;
      }
      case 'idle':
        if (w.keep || w.sessions.size > 0 || w.deliveries.size > 0) return;
        this.retire(w);
        return;
    }
  }

  private kick(w: Worker, session: string): void {
    try {
      w.send({ type: 'kick', session });
    } catch {
      this.endSession(w, session);
    }
  }

  private retire(w: Worker): void {
    if (this.workers.get(w.key) === w) this.workers.delete(w.key);
    w.retired = true;
    try {
      w.send({ type: 'retire' });
    } catch {
      // already gone
    }
  }

  private endSession(w: Worker, session: string): void {
    const s = w.sessions.get(session);
    if (s === undefined) return;
    w.sessions.delete(session);
    s.unregister?.();
    s.pipe?.client.destroy();
    s.pipe?.pair.destroy();
    s.onEnd();
  }

  private onExit(w: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.workers.get(w.key) === w) this.workers.delete(w.key);
    this.all.delete(w);
    const spare = this.spares.indexOf(w);
    if (spare >= 0) this.spares.splice(spare, 1);
    if (!w.retired && !this.closed) {
      this.log.error(`service(mail-worker): child ${w.child.pid ?? '?'} (${w.uid >= 0 ? `uid ${w.uid}` : 'spare'}) ${signal !== null ? `killed with signal ${signal}` : `returned error ${code ?? '?'}`}`);
    }
    for (const id of [...w.sessions.keys()]) this.endSession(w, id);
    for (const [id, done] of w.deliveries) {
      done({ kind: 'failed', error: new StorageError('TEMP', 'Internal error occurred. Refer to server log for more information.', `mail worker ${w.child.pid ?? '?'} exited before delivery ${id} finished`) });
    }
    w.deliveries.clear();
  }

  /**
   * Hands a logged-in connection to the worker of a slot. `onEnd` runs once the session is over
   * (or could not be handed over): the master's user+IP slot is released there.
   */
  async handOff(slot: WorkerSlot, h: Omit<SessionHandoff, 'type' | 'pending' | 'conn'>, c: DetachedConnection, onEnd: () => void): Promise<void> {
    const w = this.worker(slot);
    const live: LiveSession = { user: h.user, service: h.protocol, ip: c.conn.remoteIp, onEnd };
    const msg: SessionHandoff = { ...h, type: 'session', pending: c.pending, conn: c.conn };
    try {
      if (!c.tls) {
        w.sessions.set(h.session, live);
        w.send(msg, c.socket);
        return;
      }
      const { client, server } = await this.socketPair();
      live.pipe = { client, pair: server };
      w.sessions.set(h.session, live);
      pipeBoth(c.socket, client);
      // Not destroyed here: Node may queue the handle until the worker acknowledged the previous
      // one, and closes our copy itself once it is sent (keepOpen is false).
      w.send(msg, server);
    } catch (err) {
      w.sessions.delete(h.session);
      c.socket.destroy();
      onEnd();
      throw err;
    }
  }

  /** Delivers one recipient's message through the worker of uid:gid. */
  deliver(slot: WorkerSlot, r: Omit<DeliverRequest, 'type' | 'id'>): Promise<DeliveryOutcome> {
    const w = this.worker(slot);
    const id = this.nextDelivery++;
    return new Promise((resolve) => {
      w.deliveries.set(id, resolve);
      try {
        w.send({ ...r, type: 'deliver', id });
      } catch (err) {
        w.deliveries.delete(id);
        resolve({ kind: 'failed', error: err instanceof StorageError ? err : new StorageError('TEMP', 'Internal error occurred. Refer to server log for more information.', String(err)) });
      }
    });
  }

  /** SIGHUP: workers get the reloaded settings. */
  reload(): void {
    for (const w of this.workers.values()) {
      try {
        w.send({ type: 'init', settings: this.o.settings() });
      } catch {
        // exiting
      }
    }
  }

  /** Two connected Unix sockets, through the master-only listener (mode 0600 in a 0700 directory). */
  private async socketPair(): Promise<{ client: Socket; server: Socket }> {
    const path = await this.pairListener();
    const token = randomBytes(16).toString('hex');
    const accepted = new Promise<Socket | undefined>((resolve) => this.pairWaiters.set(token, resolve));
    const client = createConnection(path);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    client.write(`${token}\n`);
    const timeout = setTimeout(() => this.pairWaiters.get(token)?.(undefined), 5000);
    const server = await accepted;
    clearTimeout(timeout);
    this.pairWaiters.delete(token);
    if (server === undefined) {
      client.destroy();
      throw new Error('socket pair: no connection accepted');
    }
    return { client, server };
  }

  /**
   * Makes the socket-pair listener now (normally made at the first TLS hand-over). `owner`: the
   * uid:gid this process is about to drop to, given the directory and the socket, so the master
   * can still reach them after the drop (base_dir itself stays root's).
   */
  async prepare(owner?: { readonly uid: number; readonly gid: number }): Promise<void> {
    const path = await this.pairListener();
    if (owner === undefined) return;
    chownSync(dirname(path), owner.uid, owner.gid);
    chownSync(path, owner.uid, owner.gid);
  }

  private async pairListener(): Promise<string> {
    const dir = join(this.o.runDir, 'postern-pair');
    const path = join(dir, 'pair');
    if (this.pairServer !== undefined) return path;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { mode: 0o700, recursive: true });
    chmodSync(dir, 0o700);
    const srv = createServer((s) => {
      s.pause();
      // Exactly the token line is read (byte by byte) so nothing else is consumed before the hand-over.
      let line = '';
      const onReadable = (): void => {
        let b: Buffer | null;
        while ((b = s.read(1) as Buffer | null) !== null) {
          if (b[0] === 0x0a) {
            s.off('readable', onReadable);
            const waiter = this.pairWaiters.get(line);
            if (waiter === undefined) s.destroy();
            else waiter(s);
            return;
          }
          line += b.toString('latin1');
          if (line.length > 64) {
            s.destroy();
            return;
          }
        }
      };
      s.on('readable', onReadable);
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
    this.pairServer = srv;
    return path;
  }

  /** Stops every worker (their sessions end) and the pair listener. */
  async close(): Promise<void> {
    this.closed = true;
    const exits: Promise<void>[] = [];
    for (const w of [...this.all]) {
      exits.push(new Promise((resolve) => {
        if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
        w.child.once('exit', () => resolve());
        w.child.kill('SIGTERM');
        setTimeout(() => w.child.kill('SIGKILL'), 5000).unref();
      }));
    }
    this.workers.clear();
    this.spares.length = 0;
    await Promise.all(exits);
    await new Promise<void>((resolve) => (this.pairServer === undefined ? resolve() : this.pairServer.close(() => resolve())));
    try {
      rmSync(join(this.o.runDir, 'postern-pair'), { recursive: true, force: true });
    } catch {
      // After a privilege drop base_dir is root's: the directory stays until the next start removes it.
    }
  }
}

/** Copies bytes both ways; either side closing closes the other. */
function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('close', end);
  b.on('close', end);
  a.on('error', end);
  b.on('error', end);
  a.resume();
}
