/*
 * One smtpd SMTP session, as Postfix 3.7.11's smtpd_proto() runs it: greeting, then a loop of
 * read command → classify (state.ts) → handler (commands-*.ts) → reply, with Postfix's error
 * accounting (every failed command raises error_count; from smtpd_soft_error_limit on, every reply
 * first sleeps smtpd_error_sleep_time; at smtpd_hard_error_limit `421 4.7.0 host Error: too many
 * errors`), junk-command accounting, improper-pipelining detection (logged once per session;
 * refused with smtpd_forbid_unauth_pipelining), smtpd_forbid_bare_newline, the non-SMTP command
 * trap, the idle timeout, and the `lost connection after X` / `disconnect from … ehlo=1 …` lines.
 *
 * Why not smtp-server's connection class: Postfix's line discipline (LF ends a line, over-long
 * command lines cut and skipped, DATA ended by `.` after a bare LF unless normalize), BDAT, its
 * error/sleep accounting, 521/421 hang-ups and reply texts differ in nearly every method, so a
 * subclass would replace everything but the socket; this file owns the state machine and the I/O
 * lives in input.ts (reads) and server.ts (socket, TLS). See server.ts.
 *
 * Distrusts the client throughout; passwords and message bodies are never logged.
 */
import { formatReply, replyText, type SmtpReply } from '../../shared/proto/smtp-reply.js';
import type { Log } from '../../shared/log/logger.js';
import { mtaEvents, smtpdEvents, hostAddr, type CommandCounts } from '../log-events.js';
import type { Cleanup, ClientInfo, CleanupResult, IncomingMessage } from '../cleanup/api.js';
import type { SmtpdFacts, SmtpdPolicy, SmtpdStage, Decision } from './policy/api.js';
import type { DovecotSaslClient } from './sasl/dovecot-client.js';
import { InputEofError, InputTimeoutError, type SmtpInput } from './input.js';
import type { MailArgs, RcptArgs } from './envelope-syntax.js';
import type { SmtpdSettings } from './settings.js';
import { classifyLine, COMMANDS, COUNTER_ORDER, sequenceError, type CommandName, type SmtpdState } from './state.js';
import { R } from './replies.js';
import { MilterChain, parseMilterReply, type SmtpdMilterConfig } from './milters.js';
import type { MilterResult } from '../milter/client.js';

import type { AsyncQueue } from './async-queue.js';

/** The SASL backend smtpd uses (DovecotSaslClient, or a test double). */
export type SaslBackend = Pick<DovecotSaslClient, 'mechanisms' | 'start' | 'continue'>;

export interface TlsInfo {
  /** `TLSv1.3` */
  protocol: string;
  cipher: string;
  bits?: number;
}

export interface SessionDeps {
  settings: SmtpdSettings;
  cleanup: Cleanup;
  policy: SmtpdPolicy;
  sasl: SaslBackend | undefined;
  log: Log;
  /** Qualifies an unqualified address with $myorigin (Resolver.qualify). */
  qualify: (address: string) => string;
  /** Injectable for tests; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** ETRN: asks the queue manager to flush a fast_flush_domains site; false = service unavailable. */
  etrn?: (domain: string) => Promise<boolean>;
  /** smtpd_milters and the milter_* settings of this service (milters.ts); absent = no milters. */
  milters?: SmtpdMilterConfig;
}

export interface SessionTransport {
  input: SmtpInput;
  write(text: string): void;
  /** STARTTLS: completes the server handshake on the socket; resolves with the negotiated TLS. */
  startTls: (() => Promise<TlsInfo>) | undefined;
  close(): void;
}

export interface ConnectionFacts {
  clientName: string;
  clientAddr: string;
  clientPort: number;
  serverAddr: string;
  serverPort: number;
  /** Set for implicit TLS (smtpd_tls_wrappermode). */
  tls?: TlsInfo;
}

export class SessionEnd extends Error {
  override readonly name = 'SessionEnd';
}

export interface Transaction {
  mail: MailArgs;
  recipients: RcptArgs[];
  queueId?: string;
  /** PREPEND header fields (access(5), policy services) for the message, in order. */
  prepend?: string[];
  /** access(5) HOLD / DISCARD actions that fired in this transaction (first reason kept), for cleanup. */
  actions?: { hold?: string; discard?: string };
}

export interface BdatState {
  /** Bytes accepted so far in this message. */
  bytes: number;
  /** After a failed chunk: later chunks are read and discarded until RSET / MAIL. */
  failed: boolean;
  queue?: AsyncQueue;
  result?: Promise<CleanupResult>;
  /** The message handed to cleanup (end-of-data HOLD/DISCARD are added to it). */
  message?: IncomingMessage;
}

export class SmtpdSession {
  state: SmtpdState = 'idle';
  helo: string | undefined;
  ehlo = false;
  tls: TlsInfo | undefined;
  sasl: { method: string; username: string } | undefined;
  tx: Transaction | undefined;
  bdat: BdatState | undefined;
  /** Postfix's msg_size: set by MAIL SIZE=, kept across a rejected MAIL until RSET (the sticky 552). */
  msgSize = 0;
  errorCount = 0;
  junkCommands = 0;
  rcptOvershoot = 0;
  where = 'CONNECT';
  hangup = false;
  illegalPipelining = false;
  accessDenied: SmtpReply | undefined;
  readonly client: string;
  private readonly counts = new Map<string, { ok: number; total: number }>();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly deps: SessionDeps,
    readonly io: SessionTransport,
    readonly conn: ConnectionFacts,
  ) {
    this.client = hostAddr(conn.clientName, conn.clientAddr);
    this.tls = conn.tls;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    if (deps.milters) {
      this.milters = new MilterChain(deps.milters, (text) => deps.log.warn(text));
      Object.assign(this.milters.values, {
        clientName: conn.clientName, clientPtr: conn.clientName, clientAddr: conn.clientAddr, clientPort: String(conn.clientPort),
        daemonAddr: conn.serverAddr, daemonPort: String(conn.serverPort),
      });
    }
  }

  /** smtpd_milters for this session (one MilterSession per milter), when configured. */
  readonly milters: MilterChain | undefined;

  /** Brings the milter macros up to date with the session (TLS, SASL, envelope, queue ID). */
  milterMacros(extra: { mailAddr?: string; rcptAddr?: string } = {}): void {
    const v = this.milters?.values;
    if (!v) return;
    if (this.tls) Object.assign(v, { tlsVersion: this.tls.protocol, cipher: this.tls.cipher, ...(this.tls.bits ? { cipherBits: this.tls.bits } : {}) });
    if (this.sasl) Object.assign(v, { authType: this.sasl.method, authAuthen: this.sasl.username });
    v.queueId = this.tx?.queueId;
    if (extra.mailAddr !== undefined) v.mailAddr = extra.mailAddr;
    if (extra.rcptAddr !== undefined) v.rcptAddr = extra.rcptAddr;
  }

  /**
   * A milter's answer to an SMTP event, as smtpd's check_milter_reply(): a reply is logged
   * `NOQUEUE: milter-reject: STAGE from …: 550 5.7.1 …; from=<…> to=<…> proto=… helo=<…>` and
   * returned for the client; shutdown is `421 4.7.0 Server closing connection`; hold and discard
   * are logged (`milter-hold: … milter triggers HOLD action`) and kept for cleanup.
   */
  milterVerdict(stage: string, r: MilterResult, env: { to?: string; from?: string } = {}): SmtpReply | undefined {
    if (r.action === 'continue') return undefined;
    if (r.action === 'hold' || r.action === 'discard') {
      const kind = r.action;
      this.logReject(stage, { code: 0, text: `milter triggers ${kind.toUpperCase()} action` }, env, `milter-${kind}`);
      const target = this.tx ? (this.tx.actions ??= {}) : this.sessionActions;
      target[kind] ??= `milter triggers ${kind.toUpperCase()} action`;
      return undefined;
    }
    const rep = r.action === 'shutdown' ? { code: 421, enhanced: '4.7.0', text: 'Server closing connection' } : parseMilterReply(r.reply);
    this.logReject(stage, rep, env, 'milter-reject');
    return rep;
  }

  get settings(): SmtpdSettings {
    return this.deps.settings;
  }

  /** RFC 3848 protocol name for Received: and the reject log's `proto=`. */
  get protocol(): string {
    if (!this.ehlo) return 'SMTP';
    return `ESMTP${this.tls ? 'S' : ''}${this.sasl ? 'A' : ''}`;
  }

  get needTls(): boolean {
    return this.settings.tlsLevel === 'encrypt' && !this.tls;
  }

  clientInfo(): ClientInfo {
    const info: ClientInfo = { name: this.conn.clientName, addr: this.conn.clientAddr, port: this.conn.clientPort, protocol: this.protocol };
    if (this.helo !== undefined) info.helo = this.helo;
    if (this.sasl && this.settings.saslAuthenticatedHeader) info.sasl = this.sasl;
    if (this.tls && this.settings.tlsReceivedHeader) info.tls = `${this.tls.protocol} with cipher ${this.tls.cipher}${this.tls.bits ? ` (${this.tls.bits}/${this.tls.bits} bits)` : ''}`;
    return info;
  }

  facts(extra: Partial<SmtpdFacts> = {}): SmtpdFacts {
    const f: SmtpdFacts = {
      client: { name: this.conn.clientName, addr: this.conn.clientAddr, port: this.conn.clientPort },
      server: { addr: this.conn.serverAddr, port: this.conn.serverPort },
      tls: this.tls !== undefined,
      protocol: this.protocol,
      recipientCount: this.tx?.recipients.length ?? 0,
      pipelined: this.illegalPipelining,
      ...extra,
    };
    if (this.helo !== undefined) f.helo = this.helo;
    if (this.tx) f.sender = this.tx.mail.sender;
    if (this.sasl) f.sasl = this.sasl;
    // For policy services (check_policy_service): queue_id, size, instance, encryption_*.
    if (this.tx) f.transaction = this.tx;
    if (this.tx?.queueId !== undefined) f.queueId = this.tx.queueId;
    if (this.tls) f.tlsInfo = this.tls;
    f.size = extra.size ?? this.msgSize;
    return f;
  }

  /** Asks the policy; an exception is a temporary local problem, never an accept. */
  async decide(stage: SmtpdStage, extra: Partial<SmtpdFacts> = {}): Promise<Decision> {
    try {
      const d = await this.deps.policy.evaluate(stage, this.facts(extra));
      // PREPEND headers belong to the transaction (Postfix resets them at mail_reset); before MAIL
      // they wait for it.
      if (d.prepend && d.kind !== 'reject' && d.kind !== 'defer') (this.tx ? (this.tx.prepend ??= []) : this.pendingPrepend).push(...d.prepend);
      return d;
    } catch (err) {
      this.deps.log.warn(smtpdEvents.policyFailure(stage, err instanceof Error ? err.message : String(err)));
      return { kind: 'defer', reply: R.localError };
    }
  }

  /** Logs `NOQUEUE: reject: STAGE from …` (or with the queue ID once there is one). */
  logReject(stage: string, r: SmtpReply, env: { to?: string; from?: string } = {}, action: 'reject' | 'milter-reject' | 'milter-hold' | 'milter-discard' = 'reject'): void {
    const e: { from?: string; to?: string; proto: string; helo?: string } = { proto: this.protocol };
    const from = env.from ?? this.tx?.mail.sender;
    if (from !== undefined) e.from = from;
    if (env.to !== undefined) e.to = env.to;
    if (this.helo !== undefined) e.helo = this.helo;
    this.deps.log.info(mtaEvents.smtpd.reject(this.tx?.queueId, stage, this.client, r.code === 0 ? r.text : replyText(r), e, action));
  }

  /**
   * A HOLD or DISCARD decision: logged as Postfix does (`NOQUEUE: hold: RCPT from …: <rcpt>:
   * Recipient address triggers HOLD action; from=<…> to=<…> proto=… helo=<…>`) and kept for
   * cleanup; the command itself succeeds. Decisions before MAIL (connect, HELO) apply to the
   * session's transactions.
   */
  noteAction(stage: string, d: { kind: 'hold' | 'discard'; reason: string }, env: { to?: string; from?: string } = {}): void {
    const e: { from?: string; to?: string; proto: string; helo?: string } = { proto: this.protocol };
    const from = env.from ?? this.tx?.mail.sender;
    if (from !== undefined) e.from = from;
    if (env.to !== undefined) e.to = env.to;
    if (this.helo !== undefined) e.helo = this.helo;
    // The policy phrases the reason like a rejection (`<x>: Recipient address rejected: triggers
    // HOLD action`); Postfix's smtpd logs HOLD/DISCARD without `rejected:` (observed 3.7.11).
    const reason = d.reason.replace(/^(<[^>]*>: [^:]+?) rejected: /, '$1 ');
    this.deps.log.info(mtaEvents.smtpd.reject(this.tx?.queueId, stage, this.client, reason, e, d.kind));
    const target = this.tx ? (this.tx.actions ??= {}) : this.sessionActions;
    target[d.kind] ??= d.reason;
  }

  /** PREPEND headers from stages before MAIL, for the next transaction. */
  pendingPrepend: string[] = [];

  /** HOLD/DISCARD from the connect or HELO stage (smtpd_delay_reject = no): every transaction inherits them. */
  sessionActions: { hold?: string; discard?: string } = {};

  /** Sends a reply the way smtpd_chat_reply() does. */
  async reply(r: SmtpReply): Promise<void> {
    if (this.errorCount >= this.settings.softErrorLimit) await this.sleep(this.settings.errorSleepTime * 1000);
    let out = r;
    if (this.settings.softBounce && r.code >= 500) {
      out = { ...r, code: r.code - 100 };
      if (r.enhanced?.startsWith('5')) out.enhanced = `4${r.enhanced.slice(1)}`;
    }
    // A SASL challenge keeps its space even when empty (`334 `), as Postfix sends it.
    this.io.write(out.code === 334 ? `334 ${out.text}\r\n` : formatReply(out));
    if (out.code === 421 || out.code === 521) this.hangup = true;
  }

  /** Ends the mail transaction (Postfix mail_reset). */
  resetTransaction(): void {
    // The milters' transaction ends too (milter_abort: RSET, after the message, HELO).
    if (this.tx && this.milters) void this.milters.abort();
    this.bdat?.queue?.fail(new SessionEnd('transaction reset'));
    this.tx = undefined;
    this.bdat = undefined;
    this.state = 'idle';
    this.msgSize = 0;
    this.rcptOvershoot = 0;
  }

  private count(name: string, ok: boolean): void {
    const c = this.counts.get(name) ?? { ok: 0, total: 0 };
    c.total++;
    if (ok) c.ok++;
    this.counts.set(name, c);
  }

  private commandCounts(): CommandCounts[] {
    return COUNTER_ORDER.filter((n) => this.counts.has(n)).map((n) => ({ name: n, ...this.counts.get(n)! }));
  }

  /** Runs the session to its end; never throws. */
  async run(handlers: Readonly<Record<CommandName, (s: SmtpdSession, args: string) => Promise<boolean>>>): Promise<void> {
    this.deps.log.info(mtaEvents.smtpd.connect(this.client));
    try {
      const d = await this.decide('connect');
      if (d.kind === 'reject' || d.kind === 'defer') {
        this.logReject('CONNECT', d.reply);
        this.accessDenied = d.reply;
      } else if (d.kind === 'hold' || d.kind === 'discard') {
        this.noteAction('CONNECT', d);
      }
      let banner: SmtpReply = { code: 220, text: this.settings.banner };
      if (this.milters) {
        const family = this.conn.clientAddr.includes(':') ? 'inet6' : 'inet';
        const rep = this.milterVerdict('CONNECT', await this.milters.connect({ hostname: this.conn.clientName, address: this.conn.clientAddr, port: this.conn.clientPort, family }));
        // Postfix 3.7.11: a 5xx at connect answers the greeting with 554 and the later commands
        // with the milter's reply; 421 hangs up; a 4xx keeps the greeting (observed).
        if (rep?.code === 421) banner = rep;
        else if (rep && rep.code >= 500) banner = { code: 554, text: `${this.settings.myhostname} ESMTP not accepting connections` };
      }
      await this.reply(banner);
      await this.loop(handlers);
    } catch (err) {
      if (err instanceof InputEofError) {
        this.deps.log.info(mtaEvents.smtpd.lostConnection(this.whereText(), this.client));
      } else if (err instanceof InputTimeoutError) {
        this.deps.log.info(mtaEvents.smtpd.timeout(this.whereText(), this.client));
        try {
          this.io.write(formatReply(R.timeout(this.settings.myhostname)));
        } catch {
          /* the peer may be gone */
        }
      } else if (!(err instanceof SessionEnd)) {
        this.deps.log.warn(smtpdEvents.internalError(this.client, err instanceof Error ? err.message : String(err)));
        try {
          this.io.write(formatReply(R.localError));
        } catch {
          /* the peer may be gone */
        }
      }
    } finally {
      this.resetTransaction();
      if (this.milters) await this.milters.quit().catch(() => undefined);
      const counts = this.commandCounts();
      this.deps.log.info(counts.length === 0 ? smtpdEvents.disconnectNoCommands(this.client) : mtaEvents.smtpd.disconnect(this.client, counts));
      this.io.close();
    }
  }

  /** `DATA (123 bytes)` while message content is being read, else the last command. */
  dataBytes: number | undefined;
  private whereText(): string {
    return this.dataBytes !== undefined ? `${this.where} (${this.dataBytes} bytes)` : this.where;
  }

  private async loop(handlers: Readonly<Record<CommandName, (s: SmtpdSession, args: string) => Promise<boolean>>>): Promise<void> {
    const s = this.settings;
    for (;;) {
      if (this.hangup) return;
      if (this.errorCount >= s.hardErrorLimit) {
        this.deps.log.info(mtaEvents.smtpd.tooManyErrors(this.where, this.client));
        await this.reply(R.tooManyErrors(s.myhostname));
        return;
      }
      const line = await this.io.input.readCommand(s.lineLimit);
      if (line.truncated) this.deps.log.warn(smtpdEvents.requestTooLong(this.client, s.lineLimit, line.text));
      if (line.bareLf && s.forbidBareNewline === 'reject') {
        // Postfix 3.7.11: reject with the host name in the text, log against the previous command, hang up.
        this.logReject(this.where, { code: 0, text: 'bare <LF> received' });
        await this.reply(R.bareNewline(s.forbidBareNewlineRejectCode, s.myhostname));
        return;
      }
      const c = classifyLine(line.text);
      if (c.kind === 'empty') {
        await this.reply(R.badSyntax);
        this.errorCount++;
        continue;
      }
      if (c.kind === 'forbidden') {
        this.deps.log.warn(smtpdEvents.nonSmtp(this.client, c.text));
        this.count('unknown', false);
        await this.reply(R.nonSmtp);
        return;
      }
      if (c.kind === 'unknown') {
        this.where = 'UNKNOWN';
        this.count('unknown', false);
        // Postfix sends the milters the verb only; their reply replaces `502 … not recognized`.
        const rep = this.milters ? this.milterVerdict('UNKNOWN', await this.milters.unknown(line.text.trim().split(/[ \t]+/)[0] ?? '')) : undefined;
        await this.reply(rep ?? R.notRecognized);
        this.errorCount++;
        continue;
      }
      const flags = COMMANDS[c.name];
      // RFC 2920: input queued behind a command that ends a group, or without EHLO, is improper.
      if (!this.illegalPipelining && this.io.input.buffered() > 0 && (flags.last || !this.ehlo)) {
        this.illegalPipelining = true;
        this.deps.log.info(mtaEvents.smtpd.improperPipelining(c.name, this.client, escapeForLog(this.io.input.peek(100))));
      }
      this.where = c.name;
      if (this.illegalPipelining && s.forbidUnauthPipelining) {
        this.count(c.name.toLowerCase(), false);
        await this.reply(R.syncError);
        this.hangup = true;
        return;
      }
      if (this.accessDenied && c.name !== 'QUIT') {
        this.count(c.name.toLowerCase(), false);
        await this.reply(this.accessDenied);
        this.errorCount++;
        continue;
      }
      const seq = sequenceError(c.name, {
        state: this.state, heloRequired: s.heloRequired, heloSeen: this.helo !== undefined,
        bdatUsed: this.bdat !== undefined, needTls: this.needTls,
      });
      let ok: boolean;
      if (seq) {
        await this.reply(seq);
        ok = false;
      } else {
        ok = await handlers[c.name](this, c.args);
      }
      this.count(c.name.toLowerCase(), ok);
      if (!ok) this.errorCount++;
      if (flags.limit && this.junkCommands++ > s.junkCommandLimit) this.errorCount++;
      if (c.name === 'QUIT' && ok) return;
    }
  }
}

/** What the client sent ahead, as Postfix prints it in the improper-pipelining line (`\r\n` spelled out). */
export function escapeForLog(b: Buffer): string {
  let s = '';
  for (const byte of b) {
    if (byte === 0x0d) s += '\\r';
    else if (byte === 0x0a) s += '\\n';
    else if (byte === 0x09) s += '\\t';
    else if (byte < 0x20 || byte >= 0x7f) s += '?';
    else s += String.fromCharCode(byte);
  }
  return s;
}
