/*
 * One IMAP session's state machine (RFC 3501 §3): not-authenticated → authenticated ⇄ selected →
 * logout. Holds what commands share: the user's MailStore after login, the selected mailbox view,
 * ENABLEd extensions, the SEARCHRES saved result, counters for the logout line. It owns no socket:
 * output and raw input go through SessionIo (connection.ts implements it over a net/tls socket).
 *
 * Dovecot behaviour followed: pre-login replies have no timing suffix and hide error detail; the log
 * prefix is `imap-login` before login and `imap(user)<pid><session>` after; \Recent is shown after
 * the system flags and before keywords; new keywords are announced with FLAGS and PERMANENTFLAGS;
 * EXISTS/RECENT are sent when their values change; with QRESYNC enabled (RFC 7162 §3.2.10)
 * expunges are `* VANISHED uid-set` and flag FETCHes carry the UID; searches made with
 * `RETURN (UPDATE)` (RFC 5267 CONTEXT=SEARCH, search/context.ts) get their ESEARCH ADDTO/REMOVEFROM
 * updates with every announcement and live until CANCELUPDATE or the mailbox is closed.
 * Distrusts: nothing from the client reaches here unparsed; storage errors are mapped in errors.ts.
 */
import { randomBytes } from 'node:crypto';
import type { DovecotLog } from '../../shared/log/logger.js';
import type { AuthService } from '../auth/auth-service.js';
import type { MailboxView, MailStore, MessageInfo } from '../storage/api.js';
import { SYSTEM_FLAGS } from '../storage/api.js';
import { mdaEvents } from '../log-events.js';
import type { SessionState } from './command.js';
import type { ByteString } from './proto/formatter.js';
import { expungeUpdates, flagAndNewUpdates, type LiveSearch } from './search/context.js';
import { formatRuns } from './search/return-options.js';
import type { ImapSettings } from './settings.js';
import type { DetachedConnection } from '../worker/route.js';
import type { RouteUser } from '../worker/route.js';

/** The transport under a session. */
export interface SessionIo {
  /** Queues bytes for the client (latin1 byte string or Buffer). */
  write(data: ByteString | Buffer): void;
  /** Resolves once the client has read enough that more output may be queued. */
  drain(): Promise<void>;
  /** The next raw input line (AUTHENTICATE data, IDLE's DONE); undefined if the client went away; null if too long. */
  readLine(): Promise<string | undefined | null>;
  /** Switches the transport to TLS (STARTTLS), discarding anything the client pipelined in clear. */
  startTls(): Promise<void>;
  /** Ends the connection after pending output. */
  close(): void;
  /**
   * Gives the connection up for a hand-over to a mail worker: stops reading, returns the socket
   * and the bytes received but not yet parsed. Only adapters over a real socket implement it.
   */
  handOff?(): DetachedConnection;
  readonly tlsActive: boolean;
  readonly remoteIp: string;
  readonly localIp: string;
  readonly remotePort: number;
  readonly localPort: number;
}

export interface SessionDeps {
  readonly settings: ImapSettings;
  readonly auth: AuthService;
  readonly openStore: (user: string, facts: { rip: string; lip: string; session: string }) => Promise<MailStore>;
  /** Dovecot-style logger factory by prefix. */
  readonly log: (prefix: string) => DovecotLog;
  readonly tlsConfigured: boolean;
  /** Counts a user's connections from one IP; returns a release function or undefined when over the limit. */
  readonly claimUserIp: (user: string, ip: string) => (() => void) | undefined;
  /**
   * Per-uid mail workers (mda/worker/): when set, a logged-in session moves to the worker of the
   * user's uid instead of opening the mail here (the master runs as root and never touches mail).
   */
  readonly route?: RouteUser;
}

export type LoginResult =
  | { ok: true; handOff?: (tag: string) => Promise<void> }
  | { ok: false; bye: string };

export interface SelectedMailbox {
  readonly view: MailboxView;
  readonly readOnly: boolean;
  /** Last EXISTS / RECENT the client was told. */
  exists: number;
  recent: number;
  /** CONDSTORE was activated (ENABLE, SELECT (CONDSTORE), a MODSEQ fetch or search). */
  condstore: boolean;
  /** Found deleted under the session: the next command that needs it ends the session (dispatch.ts selectedDeleted). */
  deleted?: boolean;
}

export interface SessionStats {
  in: number;
  out: number;
  deleted: number;
  expunged: number;
  trashed: number;
  hdrCount: number;
  hdrBytes: number;
  bodyCount: number;
  bodyBytes: number;
}

/**
 * The reason imap-login logs for a connection that never logged in, from the connection's reason
 * (Dovecot 2.3.19, observed: `Disconnected: Aborted login by logging out (no auth attempts in 0 secs)`,
 * `Disconnected: Connection closed (…)`, `Disconnected: Shutting down (…)`; `Inactivity` as for pop3-login).
 */
export function loginDisconnectReason(reason: string): string {
  switch (reason) {
    case 'Logged out':
      return 'Aborted login by logging out';
    case 'Disconnected for inactivity':
      return 'Inactivity';
    default:
      return reason;
  }
}

export class ImapSession {
  state: SessionState = 'not-authenticated';
  readonly id: string;
  readonly started = Date.now();
  user: string | undefined;
  store: MailStore | undefined;
  selected: SelectedMailbox | undefined;
  readonly enabled = new Set<string>();
  /** SEARCHRES `$`: UIDs of the last SEARCH RETURN (SAVE). */
  savedUids: number[] = [];
  /** CONTEXT=SEARCH: searches made with RETURN (UPDATE) on the selected mailbox, oldest first. */
  liveSearches: LiveSearch[] = [];
  badCommands = 0;
  /** Set with a `* BYE` the session sends before closing: the reason its `Disconnected:` log line gives. */
  byeReason: string | undefined;
  authAttempts = 0;
  lastAuthUser: string | undefined;
  lastAuthMethod: string | undefined;
  readonly stats: SessionStats = { in: 0, out: 0, deleted: 0, expunged: 0, trashed: 0, hdrCount: 0, hdrBytes: 0, bodyCount: 0, bodyBytes: 0 };
  log: DovecotLog;
  private releaseUserIp: (() => void) | undefined;

  constructor(
    readonly io: SessionIo,
    readonly deps: SessionDeps,
    /** A session resumed in a mail worker keeps the ID the login side gave it. */
    id?: string,
  ) {
    this.id = id ?? randomBytes(16).toString('base64').replace(/=+$/, '');
    this.log = deps.log('imap-login');
  }

  get settings(): ImapSettings {
    return this.deps.settings;
  }

  /** TLS, or the client connected from the address it connected to (Dovecot's "secured"). */
  get secured(): boolean {
    return this.io.tlsActive || this.io.remoteIp === this.io.localIp;
  }

  write(data: ByteString): void {
    this.stats.out += data.length;
    this.io.write(data);
  }

  untagged(text: ByteString): void {
    this.write(`* ${text}\r\n`);
  }

  /**
   * After a successful authentication: open the store and become `authenticated`; or, with
   * per-uid workers, log the login and return the hand-over the dispatcher runs with the tag.
   */
  async login(user: string, method: string): Promise<LoginResult> {
    const release = this.deps.claimUserIp(user, this.io.remoteIp);
    if (release === undefined) {
      return { ok: false, bye: `Maximum number of connections from user+IP exceeded (mail_max_userip_connections=${this.settings.mail_max_userip_connections})` };
    }
    if (this.deps.route !== undefined) return this.routeLogin(this.deps.route, user, method, release);
    let store: MailStore;
    try {
      store = await this.deps.openStore(user, { rip: this.io.remoteIp, lip: this.io.localIp, session: this.id });
    } catch (err) {
      release();
      throw err;
    }
    this.releaseUserIp = release;
    this.log.info(mdaEvents.login.success({
      user, method, rip: this.io.remoteIp, lip: this.io.localIp, mpid: process.pid, tls: this.io.tlsActive,
      secured: this.secured, session: this.id,
    }));
    this.user = user;
    this.store = store;
    this.state = 'authenticated';
    this.log = this.deps.log(`imap(${user})<${process.pid}><${this.id}>`);
    await this.autoMailboxes(store);
    return { ok: true };
  }

  private async routeLogin(route: RouteUser, user: string, method: string, release: () => void): Promise<LoginResult> {
    let r;
    try {
      r = await route(user, { service: 'imap', rip: this.io.remoteIp, lip: this.io.localIp, session: this.id });
    } catch (err) {
      release();
      throw err;
    }
    this.log.info(mdaEvents.login.success({
      user, method, rip: this.io.remoteIp, lip: this.io.localIp, mpid: r.mpid, tls: this.io.tlsActive,
      secured: this.secured, session: this.id,
    }));
    const mail = r;
    return {
      ok: true,
      handOff: async (tag) => {
        const io = this.io.handOff;
        if (io === undefined) throw new Error('this connection cannot be handed over');
        // From here the worker owns the session: nothing of it is logged or released here but onEnd.
        this.state = 'logout';
        this.handedOff = true;
        await mail.transfer({ protocol: 'imap', session: this.id, method, tag }, io.call(this.io), release);
      },
    };
  }

  /** The session moved to a mail worker: end() logs nothing here. */
  private handedOff = false;

  /**
   * In a mail worker: the login side authenticated `user` and handed the session over; open the
   * mail and become `authenticated` (the login line was logged by the login side).
   */
  async resumeLogin(user: string): Promise<void> {
    const store = await this.deps.openStore(user, { rip: this.io.remoteIp, lip: this.io.localIp, session: this.id });
    this.user = user;
    this.store = store;
    this.state = 'authenticated';
    this.log = this.deps.log(`imap(${user})<${process.pid}><${this.id}>`);
    await this.autoMailboxes(store);
  }

  /** `auto = create|subscribe` mailboxes exist (and are subscribed) from the first command on. */
  private async autoMailboxes(store: MailStore): Promise<void> {
    const auto = this.settings.mailboxes.filter((m) => m.auto !== 'no');
    if (auto.length === 0) return;
    try {
      const existing = new Set((await store.list()).filter((e) => !e.attributes.includes('\\NonExistent')).map((e) => e.name));
      const subscribed = new Set(await store.subscriptions());
      for (const m of auto) {
        if (!existing.has(m.name) && m.name !== 'INBOX') await store.create(m.name).catch(() => undefined);
        if (m.auto === 'subscribe' && !subscribed.has(m.name)) await store.subscribe(m.name).catch(() => undefined);
      }
    } catch (err) {
      this.log.error(`autocreate failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Flag list for FETCH FLAGS: system flags, \Recent, keywords (Dovecot's order). */
  flagsOf(m: MessageInfo): string {
    const sys = m.flags.filter((f) => f.startsWith('\\'));
    const kw = m.flags.filter((f) => !f.startsWith('\\'));
    return `(${[...sys, ...(m.recent ? ['\\Recent'] : []), ...kw].join(' ')})`;
  }

  /** `* FLAGS (…)` and `* OK [PERMANENTFLAGS (…)]` for the selected mailbox. */
  sendFlags(): void {
    const sel = this.selected;
    if (sel === undefined) return;
    const all = [...SYSTEM_FLAGS, ...sel.view.keywords()];
    this.untagged(`FLAGS (${all.join(' ')})`);
    if (sel.readOnly) this.untagged('OK [PERMANENTFLAGS ()] Read-only mailbox.');
    else this.untagged(`OK [PERMANENTFLAGS (${[...all, '\\*'].join(' ')})] Flags permitted.`);
  }

  /**
   * Pulls changes made by others (and our own expunges) into the view and tells the client:
   * EXPUNGE from the highest sequence number down, new FLAGS, EXISTS/RECENT when they changed,
   * and FETCH FLAGS for messages whose flags changed.
   */
  async announceChanges(uidCommand: boolean): Promise<void> {
    const sel = this.selected;
    if (sel === undefined) return;
    const ch = await sel.view.refresh();
    if (this.liveSearches.length > 0 && ch.expunged.length > 0) {
      const seqs = [...ch.expungedSeqs].sort((a, b) => a - b);
      const seqOf = new Map(ch.expunged.map((u, i) => [u, seqs[i]!]));
      for (const l of expungeUpdates(this.liveSearches, ch.expunged, seqOf)) this.untagged(l);
    }
    // RFC 7162 §3.2.10: once QRESYNC is enabled, expunges are reported as VANISHED UID sets.
    if (this.enabled.has('QRESYNC')) {
      if (ch.expunged.length > 0) this.untagged(`VANISHED ${formatRuns([...ch.expunged].sort((a, b) => a - b))}`);
    } else for (const seq of ch.expungedSeqs) this.untagged(`${seq} EXPUNGE`);
    if (ch.keywordsChanged) this.sendFlags();
    const expungedCount = ch.expungedSeqs.length;
    if (ch.exists !== sel.exists - expungedCount || ch.added.length > 0) {
      this.untagged(`${ch.exists} EXISTS`);
    }
    if (ch.recent !== sel.recent && (ch.added.length > 0 || ch.recent > sel.recent)) this.untagged(`${ch.recent} RECENT`);
    sel.exists = ch.exists;
    sel.recent = ch.recent;
    const addedUids = new Set(ch.added.map((m) => m.uid));
    for (const m of ch.flagChanges) {
      if (addedUids.has(m.uid)) continue;
      const parts = [`FLAGS ${this.flagsOf(m)}`];
      // RFC 7162 §3.2.4: with QRESYNC every FETCH carries the UID.
      if (uidCommand || this.enabled.has('QRESYNC')) parts.unshift(`UID ${m.uid}`);
      if (sel.condstore) parts.push(`MODSEQ (${m.modseq})`);
      this.untagged(`${m.seq} FETCH (${parts.join(' ')})`);
    }
    await this.sendSearchUpdates();
  }

  /** ESEARCH ADDTO/REMOVEFROM for live searches whose result changed in the current snapshot. */
  async sendSearchUpdates(): Promise<void> {
    const sel = this.selected;
    if (sel === undefined || this.liveSearches.length === 0) return;
    const lines = await flagAndNewUpdates(this.liveSearches, { view: sel.view, saved: this.savedUids, now: Date.now() });
    for (const l of lines) this.untagged(l);
  }

  /** Closes the selected mailbox (no expunge) and returns to `authenticated`. */
  async unselect(): Promise<void> {
    const sel = this.selected;
    this.selected = undefined;
    this.liveSearches = [];
    if (this.state === 'selected') this.state = 'authenticated';
    if (sel !== undefined) await sel.view.close().catch(() => undefined);
  }

  logoutStats(): string {
    const s = this.stats;
    return `in=${s.in} out=${s.out} deleted=${s.deleted} expunged=${s.expunged} trashed=${s.trashed} hdr_count=${s.hdrCount} hdr_bytes=${s.hdrBytes} body_count=${s.bodyCount} body_bytes=${s.bodyBytes}`;
  }

  /** Releases everything; `reason` is what the disconnect log line says. */
  async end(reason: string): Promise<void> {
    if (this.handedOff) return;
    const wasLoggedIn = this.user !== undefined;
    this.state = 'logout';
    await this.unselect().catch(() => undefined);
    if (this.store !== undefined) {
      const st = this.store;
      this.store = undefined;
      await st.close().catch(() => undefined);
    }
    this.releaseUserIp?.();
    this.releaseUserIp = undefined;
    if (wasLoggedIn) {
      this.log.info(reason === 'Logged out' ? mdaEvents.mail.imapLoggedOut(this.logoutStats()) : mdaEvents.mail.imapDisconnected(reason, this.logoutStats()));
    } else {
      const secs = Math.round((Date.now() - this.started) / 1000);
      const detail = this.authAttempts > 0 ? `auth failed, ${this.authAttempts} attempts in ${secs} secs` : `no auth attempts in ${secs} secs`;
      this.log.info(mdaEvents.login.disconnected({
        reason: loginDisconnectReason(reason), detail, user: this.lastAuthUser ?? '',
        ...(this.lastAuthMethod !== undefined ? { method: this.lastAuthMethod } : {}),
        rip: this.io.remoteIp, lip: this.io.localIp, tls: this.io.tlsActive, secured: this.secured, session: this.id,
      }));
    }
  }
}
