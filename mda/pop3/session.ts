/*
 * The POP3 protocol state machine for one connection (RFC 1939 §3-§6, RFC 2449 CAPA and response codes,
 * RFC 2595 STLS, RFC 5034 AUTH), behaving like Dovecot 2.3's pop3-login followed by pop3:
 *   AUTHORIZATION  (pop3-login) CAPA USER PASS APOP AUTH STLS QUIT; a SASL exchange in progress takes every line;
 *   TRANSACTION    (pop3)       STAT LIST RETR TOP DELE NOOP RSET UIDL CAPA QUIT (and LAST with pop3_enable_last);
 *   UPDATE         entered by QUIT in TRANSACTION: deletions applied, then the connection ends.
 * Commands are looked up in the explicit list of commands/registry.ts; a command not allowed in the current
 * state is an unknown command, answered as Dovecot does (`-ERR Unknown command.` before login,
 * `-ERR Unknown command: NAME` after).
 *
 * No sockets here: bytes come in through handleLine()/onOverflow()/onEof()/onIdle() and go out through Pop3Io.
 * Distrusts: every input line (bounded by the adapter; NUL ends a line as in Dovecot's C strings).
 */
import { randomBytes } from 'node:crypto';
import type { DovecotLog } from '../../shared/log/logger.js';
import { expandVars } from '../../shared/config/dovecot/var-expand.js';
import { mdaEvents, pop3Events } from '../log-events.js';
import type { MailStore } from '../storage/api.js';
import type { MechSession, Pop3Auth } from './auth.js';
import type { Pop3ConnectionInfo, Pop3Io } from './io.js';
import type { Maildrop } from './maildrop.js';
import type { SessionLocks, ReleaseLock } from './session-lock.js';
import type { Pop3Settings } from './settings.js';
import type { OpenUserStore } from '../mail-user.js';
import type { RouteUser } from '../worker/route.js';
import { findCommand } from './commands/registry.js';
import { saslContinue } from './login.js';

export type Pop3State = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE';

export interface Pop3SessionDeps {
  readonly settings: Pop3Settings;
  readonly auth: Pop3Auth;
  readonly openStore: OpenUserStore;
  readonly locks: SessionLocks;
  /** Dovecot-style prefixed loggers: log('pop3-login'), log('pop3(alice)<pid><session>'). */
  readonly log: (prefix: string) => DovecotLog;
  /** TLS credentials are loaded and ssl != no: STLS is offered. */
  readonly tlsAvailable: boolean;
  readonly hostname: string;
  readonly pid: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Per-uid mail workers: a logged-in session moves to the worker of the user's uid (mda/worker/). */
  readonly route?: RouteUser;
}

export interface SaslInProgress {
  readonly mech: string;
  readonly session: MechSession;
}

export interface Pop3Stats {
  topCount: number;
  topBytes: number;
  retrCount: number;
  retrBytes: number;
  deleteSuccess: boolean;
  input: number;
  output: number;
}

const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Pop3Session {
  state: Pop3State = 'AUTHORIZATION';
  closed = false;
  /** Dovecot session ID: 12 bytes, base64 (kept across a hand-over to a mail worker). */
  readonly sessionId: string;
  readonly startedAt: number;
  tls: boolean;
  badCount = 0;

  // AUTHORIZATION state
  lastUser: string | undefined;
  triedUser = '';
  method: string | undefined;
  authAttempts = 0;
  triedDisabledPlaintext = false;
  triedUnsupportedMech = false;
  sasl: SaslInProgress | undefined;
  readonly apopChallenge: string | undefined;

  // TRANSACTION state
  user = '';
  store: MailStore | undefined;
  maildrop: Maildrop | undefined;
  releaseLock: ReleaseLock | undefined;
  readonly stats: Pop3Stats = { topCount: 0, topBytes: 0, retrCount: 0, retrBytes: 0, deleteSuccess: false, input: 0, output: 0 };

  private loginLog: DovecotLog;
  private mailLog: DovecotLog | undefined;

  constructor(
    readonly deps: Pop3SessionDeps,
    readonly conn: Pop3ConnectionInfo,
    readonly io: Pop3Io,
    sessionId?: string,
  ) {
    this.sessionId = sessionId ?? randomBytes(12).toString('base64');
    this.startedAt = this.now();
    this.tls = conn.tls;
    this.loginLog = deps.log('pop3-login');
    this.apopChallenge = deps.auth.apopEnabled
      ? `<${randomBytes(4).readUInt32BE().toString(16)}.${randomBytes(4).readUInt32BE().toString(16)}.${Math.floor(this.startedAt / 1000).toString(16)}@${deps.hostname}>`
      : undefined;
  }

  get settings(): Pop3Settings {
    return this.deps.settings;
  }

  now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  sleep(ms: number): Promise<void> {
    return (this.deps.sleep ?? sleepMs)(ms);
  }

  /** Loopback peer (remote IP = local IP) or TLS: Dovecot's "secured". */
  get secured(): boolean {
    return this.tls || this.conn.rip === this.conn.lip;
  }

  /** USER/PASS and plaintext SASL mechanisms are allowed on this connection. */
  get plaintextAllowed(): boolean {
    return this.secured || !this.settings.disable_plaintext_auth;
  }

  get log(): DovecotLog {
    return this.mailLog ?? this.loginLog;
  }

  /** The line bound that applies now (the adapter asks after every line). */
  get maxLineLength(): number {
    return this.state === 'AUTHORIZATION' ? this.settings.postern_pop3_login_max_line_length : this.settings.postern_pop3_max_line_length;
  }

  get idleTimeoutMs(): number {
    return this.state === 'AUTHORIZATION' ? this.settings.postern_pop3_login_idle_timeout : this.settings.postern_pop3_idle_timeout;
  }

  async send(data: Buffer | string): Promise<void> {
    if (this.closed) return;
    this.stats.output += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    await this.io.write(data);
  }

  /** One reply line; CRLF added. */
  reply(line: string): Promise<void> {
    return this.send(`${line}\r\n`);
  }

  async greet(): Promise<void> {
    await this.reply(`+OK ${this.settings.login_greeting}${this.apopChallenge !== undefined ? ` ${this.apopChallenge}` : ''}`);
  }

  /** Called by login.ts once authentication and mailbox opening succeeded. */
  enterTransaction(user: string): void {
    this.state = 'TRANSACTION';
    this.user = user;
    this.badCount = 0;
    this.mailLog = this.deps.log(`pop3(${user})<${this.deps.pid}><${this.sessionId}>`);
  }

  async handleLine(raw: Buffer): Promise<void> {
    if (this.closed) return;
    this.stats.input += raw.length + 2;
    const nul = raw.indexOf(0);
    const line = (nul >= 0 ? raw.subarray(0, nul) : raw).toString('utf8');
    if (this.sasl !== undefined) {
      await saslContinue(this, line);
      return;
    }
    const sp = line.indexOf(' ');
    const name = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    let args = sp < 0 ? '' : line.slice(sp + 1);
    if (this.state !== 'AUTHORIZATION') args = args.replace(/^ +/, '');
    const cmd = name === '' ? undefined : findCommand(name, this);
    const outcome = cmd !== undefined ? await cmd.run(this, args) : await this.unknownCommand(name);
    if (this.closed) return;
    if (outcome === 'ok') {
      this.badCount = 0;
      return;
    }
    this.badCount++;
    if (this.state === 'AUTHORIZATION' && this.badCount >= this.settings.postern_pop3_login_max_bad_commands) {
      await this.reply('-ERR Too many invalid bad commands.');
      await this.closeLogin('Too many invalid commands');
    } else if (this.state !== 'AUTHORIZATION' && this.badCount > this.settings.postern_pop3_max_bad_commands) {
      await this.reply('-ERR Too many bad commands.');
      await this.closeMail('Too many bad commands.');
    }
  }

  private async unknownCommand(name: string): Promise<'bad'> {
    await this.reply(this.state === 'AUTHORIZATION' || name === '' ? '-ERR Unknown command.' : `-ERR Unknown command: ${name}`);
    return 'bad';
  }

  /** The input line was longer than the bound. */
  async onOverflow(): Promise<void> {
    if (this.closed) return;
    if (this.state === 'AUTHORIZATION') {
      await this.reply('-ERR Input buffer full, aborting');
      await this.closeLogin('Input buffer full');
    } else {
      await this.reply('-ERR Input line too long.');
      await this.closeMail('Input line too long');
    }
  }

  async onIdle(): Promise<void> {
    if (this.closed) return;
    if (this.state === 'AUTHORIZATION') {
      await this.reply('-ERR Disconnected for inactivity.');
      await this.closeLogin('Inactivity');
    } else {
      await this.reply('-ERR Disconnected for inactivity.');
      await this.closeMail('Disconnected for inactivity');
    }
  }

  /** The client went away (or the transport failed) before QUIT: nothing is deleted. */
  async onEof(reason = 'Connection closed'): Promise<void> {
    if (this.closed) return;
    if (this.state === 'AUTHORIZATION') await this.closeLogin(reason);
    else await this.closeMail(reason);
  }

  private loginDetail(): string {
    const secs = Math.floor((this.now() - this.startedAt) / 1000);
    if (this.sasl !== undefined) return `client didn't finish SASL auth, waited ${secs} secs`;
    if (this.authAttempts === 0) return `no auth attempts in ${secs} secs`;
    if (this.triedDisabledPlaintext && this.method === undefined) return 'tried to use disallowed plaintext auth';
    if (this.triedUnsupportedMech && this.method === undefined) return 'tried to use unsupported auth mechanism';
    return `auth failed, ${this.authAttempts} attempts in ${secs} secs`;
  }

  /** Ends a connection that never logged in, with pop3-login's log line. */
  async closeLogin(reason: string): Promise<void> {
    if (this.closed) return;
    this.loginLog.info(mdaEvents.login.disconnected({
      reason, detail: this.loginDetail(), user: this.triedUser,
      ...(this.method !== undefined ? { method: this.method } : {}),
      rip: this.conn.rip, lip: this.conn.lip, tls: this.tls, secured: this.secured, session: this.sessionId,
    }));
    this.sasl = undefined;
    this.closed = true;
    this.io.close();
    await this.releaseMail();
  }

  /** Ends a logged-in session: pending \Seen flags are kept (as Dovecot does), deletions only after QUIT. */
  async closeMail(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.maildrop !== undefined && this.state === 'TRANSACTION') {
      try {
        await this.maildrop.commitSeen();
      } catch (err) {
        this.log.error(pop3Events.storageError('Couldn\'t update \\Seen flags', err instanceof Error ? err.message : String(err)));
      }
    }
    this.log.info(pop3Events.disconnected(reason, this.logoutStats()));
    this.io.close();
    await this.releaseMail();
  }

  /** pop3_logout_format expanded with Dovecot's variables. */
  logoutStats(): string {
    const md = this.maildrop;
    const s = this.stats;
    const deleted = s.deleteSuccess && md !== undefined ? md.deletedCount : 0;
    const deletedBytes = s.deleteSuccess && md !== undefined ? md.deletedSize : 0;
    const vars: Record<string, string> = {
      p: String(s.topBytes), top_bytes: String(s.topBytes),
      t: String(s.topCount), top_count: String(s.topCount),
      b: String(s.retrBytes), retr_bytes: String(s.retrBytes),
      r: String(s.retrCount), retr_count: String(s.retrCount),
      d: String(deleted), deleted_count: String(deleted),
      m: String(md?.count ?? 0), message_count: String(md?.count ?? 0),
      s: String(md?.totalSize ?? 0), message_bytes: String(md?.totalSize ?? 0),
      i: String(s.input), input: String(s.input),
      o: String(s.output), output: String(s.output),
      u: '', uidl_change: '', session: this.sessionId, deleted_bytes: String(deletedBytes),
    };
    return expandVars(this.settings.pop3_logout_format, vars);
  }

  private async releaseMail(): Promise<void> {
    const view = this.maildrop?.view;
    this.maildrop = undefined;
    try {
      await view?.close();
      await this.store?.close();
    } catch (err) {
      this.log.error(pop3Events.storageError('close', err instanceof Error ? err.message : String(err)));
    }
    this.store = undefined;
    this.releaseLock?.();
    this.releaseLock = undefined;
  }

  /** The login line, logged when authentication succeeded. */
  logLogin(user: string, method: string, mpid = this.deps.pid): void {
    this.loginLog.info(mdaEvents.login.success({
      user, method, rip: this.conn.rip, lip: this.conn.lip, mpid, tls: this.tls, secured: this.secured, session: this.sessionId,
    }));
  }
}
