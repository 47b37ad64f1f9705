/*
 * A per-uid mail worker (pool.ts explains the design): forked by the MDA master, it loads its
 * modules, waits for `assign` (the uid and gid it is to serve) and becomes that uid for good; then
 * it serves the IMAP and POP3 sessions the master hands over after login and the LMTP deliveries
 * of that uid. Until `assign` it is a spare (pool.ts: postern_mail_worker_spares) and does nothing
 * else. It never reads dovecot.conf and never authenticates anyone: the settings, the user's
 * userdb fields and the connections come from the master over IPC, and its log lines go back to
 * the master (Dovecot's log service). It refuses to serve as root.
 *
 * Lifetime: once assigned and with no session or delivery for the idle time given as argv[2], it
 * says `idle`, and the master retires it (or keeps it: a session shard); SIGTERM (master stopping)
 * ends sessions as Dovecot's mail processes do (`* BYE Server shutting down.`, `-ERR [SYS/TEMP]
 * Server shutting down.`) and exits.
 *
 * Distrusts: nothing from the master beyond shape checks; the clients, as the protocol code does.
 */
import type { Socket } from 'node:net';
import type { DovecotLog } from '../../shared/log/logger.js';
import { AuthService } from '../auth/auth-service.js';
import type { Userdb } from '../auth/db.js';
import { LdaAgent } from '../deliver/agent.js';
import { ImapConnection } from '../imap/connection.js';
import type { SessionDeps } from '../imap/session.js';
import { leasedStore, leaseUserMail, type UserStoreOptions } from '../mail-user.js';
import { MailStoreCache } from '../store-cache.js';
import { authServicePop3Auth } from '../pop3/auth.js';
import { Pop3Connection } from '../pop3/server.js';
import { inProcessSessionLocks } from '../pop3/session-lock.js';
import type { Pop3SessionDeps } from '../pop3/session.js';
import { isStorageError, type MailStore } from '../storage/api.js';
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';
import { isMasterMessage, type DeliverRequest, type SessionHandoff, type WorkerSettings, type WorkerToMaster } from './protocol.js';
import { startIdleGc } from '../../shared/idle-gc.js';
import { warmUpImap, warmUpText } from '../imap/warmup.js';

const idleSecs = Number(process.argv[2] ?? '60');

function send(m: WorkerToMaster): void {
  if (process.connected) process.send?.(m);
}

function logFor(prefix: string): DovecotLog {
  const at = (level: 'debug' | 'info' | 'warn' | 'error' | 'fatal') => (text: string) => send({ type: 'log', level, prefix, text });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal') };
}

/** Every module is loaded (static imports ran first): become uid:gid for good, or exit. */
function become(uid: number, gid: number): void {
  try {
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid <= 0) throw new Error(`bad uid/gid ${uid}:${gid}`);
    if (process.getuid?.() === 0) {
      process.setgroups?.([gid]);
      process.setgid?.(gid);
      process.setuid?.(uid);
    }
    if (process.getuid?.() !== uid || process.geteuid?.() !== uid || process.getgid?.() !== gid) throw new Error(`cannot run as ${uid}:${gid}`);
  } catch (err) {
    logFor('mail-worker').fatal(`mail workers never run as root: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(89);
  }
}

/** Set by `assign`: until then this process is a spare and takes no work. */
let assigned = false;
let settings: WorkerSettings | undefined;
/** userdb fields of the users this worker serves, as the master looked them up. */
const fieldsOf = new Map<string, KeyValueFields>();
const sessions = new Map<string, { kick(): void }>();
let deliveries = 0;
let retiring = false;
let idleTimer: NodeJS.Timeout | undefined;

/** The userdb a resumed session asks (IMAP QUOTA reads quota_rule from it): the master's answer. */
const handedUserdb: Userdb = {
  driver: 'postern-handoff',
  lookup: async (req) => {
    const fields = fieldsOf.get(req.user);
    return fields === undefined ? { kind: 'notfound' } : { kind: 'found', user: req.user, fields };
  },
};

function busy(): boolean {
  return sessions.size > 0 || deliveries > 0;
}

/** Called whenever work ends: exit when retired, ask to be retired after the idle time. */
function settle(): void {
  if (idleTimer !== undefined) clearTimeout(idleTimer);
  idleTimer = undefined;
  if (busy()) return;
  if (retiring) {
    process.exit(0);
  }
  if (!assigned) return;
  idleTimer = setTimeout(() => send({ type: 'idle' }), idleSecs * 1000);
}

/** The users' stores in this worker, shared by a user's sessions and deliveries (store-cache.ts). */
const stores = new MailStoreCache();

async function openStoreFor(user: string, o: UserStoreOptions, facts: { rip?: string; lip?: string; session?: string }): Promise<MailStore> {
  const fields = fieldsOf.get(user);
  if (fields === undefined) throw new Error(`no userdb fields for ${user}`);
  return leasedStore(await leaseUserMail(stores, user, fields, { ...o, service: o.service ?? 'imap' }, facts));
}

function startImap(s: WorkerSettings, h: SessionHandoff, socket: Socket): void {
  const deps: SessionDeps = {
    settings: s.imap,
    auth: new AuthService({ settings: s.auth, passdbs: [], userdbs: [{ db: handedUserdb }] }),
    openStore: async (user, facts) => {
      const store = await openStoreFor(user, s.imapStore, facts);
      send({ type: 'session-open', session: h.session });
      return store;
    },
    log: logFor,
    tlsConfigured: false,
    // The master counts user+IP connections (mail_max_userip_connections) before the hand-over.
    claimUserIp: () => () => undefined,
  };
  const conn: ImapConnection = new ImapConnection(socket, {
    deps, secureContext: undefined, implicitTls: false, resumed: { session: h.session, conn: h.conn },
    onClose: () => endSession(h.session),
  });
  sessions.set(h.session, { kick: () => conn.kick() });
  void conn.resume(h.tag, h.user, h.pending);
}

function startPop3(s: WorkerSettings, h: SessionHandoff, socket: Socket): void {
  const deps: Pop3SessionDeps = {
    settings: s.pop3,
    // Never asked after login; the master authenticated the user.
    auth: authServicePop3Auth(new AuthService({ settings: s.auth, passdbs: [], userdbs: [] })),
    openStore: async (user, facts) => {
      const store = await openStoreFor(user, s.pop3Store, facts);
      send({ type: 'session-open', session: h.session });
      return store;
    },
    locks: pop3Locks,
    log: logFor,
    tlsAvailable: false,
    hostname: s.pop3Hostname,
    pid: process.pid,
  };
  const conn = new Pop3Connection(socket, undefined);
  sessions.set(h.session, { kick: () => void conn.shutdown() });
  void conn.done.then(() => endSession(h.session));
  conn.resume(deps, h);
}

const pop3Locks = inProcessSessionLocks();

function endSession(id: string): void {
  if (!sessions.delete(id)) return;
  send({ type: 'session-end', session: id });
  settle();
}

function onSession(h: SessionHandoff, socket: Socket | undefined): void {
  const s = settings;
  if (socket === undefined || s === undefined) {
    socket?.destroy();
    send({ type: 'session-end', session: h.session });
    return;
  }
  fieldsOf.set(h.user, h.fields);
  settle();
  if (h.protocol === 'imap') startImap(s, h, socket);
  else startPop3(s, h, socket);
  settle();
}

/** A session shard's warm-up as it starts (imap/warmup.ts); `debug` (mail_debug): its result is logged. */
async function warmUp(s: WorkerSettings, maxMs: number, debug: boolean): Promise<void> {
  const r = await warmUpImap({ imap: s.imap, auth: s.auth, maxMs });
  if (debug) logFor('mail-worker').debug(warmUpText(r));
}

let agent: { settings: WorkerSettings; lda: LdaAgent } | undefined;

/** One agent per settings generation, so its store cache serves consecutive deliveries. */
function agentFor(s: WorkerSettings): LdaAgent {
  if (agent?.settings !== s) {
    agent = {
      settings: s,
      lda: new LdaAgent({
        settings: s.delivery,
        // Lookups happened in the master; the worker only saves.
        userdb: { normalize: (u) => ({ ok: true, user: u }), userLookup: async () => ({ kind: 'notfound' }) },
        logFor,
        processUid: process.getuid?.() ?? 0,
        processGid: process.getgid?.() ?? 0,
        stores,
      }),
    };
  }
  return agent.lda;
}

async function onDeliver(r: DeliverRequest): Promise<void> {
  const s = settings;
  deliveries++;
  settle();
  try {
    if (s === undefined) throw new Error('no settings yet');
    const o = await agentFor(s).deliverPrepared({ rcpt: r.rcpt, id: r.rcptId }, r.message, r.size, r.msgid);
    send(o.kind === 'saved'
      ? { type: 'delivered', id: r.id, kind: 'saved', mailbox: o.mailbox, uid: o.uid }
      : { type: 'delivered', id: r.id, kind: 'failed', error: { errorKind: o.error.kind, clientText: o.error.clientText, logDetail: o.error.logDetail } });
  } catch (err) {
    const detail = isStorageError(err) ? err.logDetail : err instanceof Error ? err.message : String(err);
    send({ type: 'delivered', id: r.id, kind: 'failed', error: { errorKind: 'TEMP', clientText: 'Internal error occurred. Refer to server log for more information.', logDetail: detail } });
  } finally {
    deliveries--;
    settle();
  }
}

process.on('message', (m: unknown, handle: unknown) => {
  if (!isMasterMessage(m)) return;
  // The master sends `assign` first. Until then the process may still be root, so it takes no
  // settings, and a session or delivery sent ahead of `assign` fails for want of them (onSession,
  // onDeliver answer the master) instead of being served as root.
  if (!assigned && m.type === 'init') return;
  switch (m.type) {
    case 'assign':
      if (assigned) return;
      become(m.uid, m.gid);
      assigned = true;
      settle();
      return;
    case 'init':
      settings = m.settings;
      return;
    case 'session':
      onSession(m, handle as Socket | undefined);
      return;
    case 'deliver':
      void onDeliver(m);
      return;
    case 'kick':
      sessions.get(m.session)?.kick();
      return;
    case 'retire':
      retiring = true;
      settle();
      return;
    case 'warm-up':
      if (settings !== undefined) void warmUp(settings, m.maxMs, m.debug);
      return;
  }
});

process.on('SIGTERM', () => {
  retiring = true;
  for (const s of sessions.values()) s.kick();
  settle();
  setTimeout(() => process.exit(0), 3000).unref();
});

// The master going away (crash, kill -9) ends the worker: nobody could route to it any more.
process.on('disconnect', () => {
  for (const s of sessions.values()) s.kick();
  setTimeout(() => process.exit(0), 1500).unref();
});

process.on('uncaughtException', (err) => {
  logFor('mail-worker').fatal(`uncaught: ${err.stack ?? err.message}`);
  setTimeout(() => process.exit(75), 100);
});

startIdleGc();
send({ type: 'ready' });
settle();
