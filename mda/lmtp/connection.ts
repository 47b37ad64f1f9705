/*
 * The LMTP server state machine (RFC 2033) with Dovecot 2.3's replies, on top of smtp-server
 * 3.21 (a fixed dependency, wrapped here and nowhere else). smtp-server supplies the socket
 * handling, the pipelined line parser with dot-unstuffing, DATA streaming, back-pressure and the
 * idle timeout; this subclass replaces its command dispatch and every reply text, because
 * Dovecot differs in each of them (greeting, LHLO capability list, `250 2.1.0 OK`, 503/555
 * texts, `500 5.5.1 Unknown command`, `421 4.7.0 … Too many invalid commands.` after ten bad
 * commands, `500 5.5.2 Line too long` without dropping the connection, LHLO not required).
 *
 * States: 'ready' (no transaction) → MAIL → 'mail' → RCPT accepted → 'rcpt' → DATA → 'data'
 * → back to 'ready' once one reply per accepted recipient has been sent, in RCPT order, each
 * only after the delivery agent reported that recipient's message durable (DURABILITY: the
 * 250 follows storage.deliver()'s fsync of the file and its directory; a crash before the reply
 * makes Postfix retry, so delivery is at-least-once, never lost).
 *
 * Not supported: BDAT/CHUNKING (not advertised; Postfix never uses it), STARTTLS (not
 * advertised; Postfix talks to LMTP over a local Unix socket), XCLIENT.
 *
 * Distrusts the client: command lines are bounded (over `lineLimit` → 500 5.5.2, over the hard
 * cap → the connection is dropped), the message is bounded (`maxMessageSize` → 552 5.2.3 per
 * recipient, the excess is read and discarded), recipients are bounded (`maxRecipients` → 452
 * 4.5.3), and a handler failure becomes a temporary reply, never a crash of the server.
 */
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { DeliveryAgent, DeliveryTarget, ResolvedRecipient } from '../deliver/types.js';
import { outcomeReply } from './error-map.js';
import { parsePathArgs, PathSyntaxError, type ParsedPath } from './path-parser.js';
import { formatLhlo, REPLIES, type LmtpReply } from './replies.js';
import { newSessionId, recipientId, transactionId } from './session-id.js';

export type LmtpState = 'ready' | 'mail' | 'rcpt' | 'data';

export interface LmtpServerOptions {
  /** `hostname` (Dovecot: the system host name when empty). */
  readonly hostname: string;
  /** login_greeting. */
  readonly greeting: string;
  readonly agent: DeliveryAgent;
  readonly quotaFullTempfail: boolean;
  /** Longest command parameter text accepted (Dovecot: 4 KiB), bytes. */
  readonly lineLimit: number;
  /** Longest line read at all before the connection is dropped, bytes. */
  readonly hardLineLimit: number;
  readonly maxMessageSize: number;
  readonly maxRecipients: number;
  /** Bad commands tolerated before `421 4.7.0 … Too many invalid commands.` (Dovecot: 10). */
  readonly maxBadCommands: number;
  /** Idle timeout, ms. */
  readonly idleTimeoutMs: number;
  /** Called for connection-level events worth a log line (never message content). */
  readonly onEvent?: (ev: LmtpEvent) => void;
}

export type LmtpEvent =
  | { kind: 'connect'; sessionId: string; remote: string }
  | { kind: 'disconnect'; sessionId: string; remote: string; reason: string; state: LmtpState }
  | { kind: 'error'; sessionId: string; detail: string };

export interface ConnectionFacts {
  /** 'unix' for a Unix-socket listener. */
  readonly transport: 'unix' | 'tcp';
}

interface Transaction {
  mailFrom: ParsedPath;
  /** Accepted recipients in RCPT order; a repeated address shares the first one's delivery. */
  rcpts: { path: ParsedPath; rcpt: ResolvedRecipient; dupOf: number | undefined }[];
}

type Handler = (conn: LmtpConnection, args: string) => Promise<void> | void;

interface CommandSpec {
  /** States the command may run in; others get `wrongState`. */
  readonly states: readonly LmtpState[];
  readonly wrongState?: (state: LmtpState) => LmtpReply;
  readonly run: Handler;
}

const ALL: readonly LmtpState[] = ['ready', 'mail', 'rcpt'];

function mailOrderError(state: LmtpState): LmtpReply {
  return state === 'ready' ? REPLIES.mailNeeded : REPLIES.noValidRecipients;
}

/** The commands LMTP knows, with the states each may run in (DATA streaming is the 'data' state). */
const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  LHLO: { states: ALL, run: (c, a) => c.cmdLhlo(a) },
  MAIL: { states: ['ready'], wrongState: () => REPLIES.mailAlreadyGiven, run: (c, a) => c.cmdMail(a) },
  RCPT: { states: ['mail', 'rcpt'], wrongState: () => REPLIES.mailNeeded, run: (c, a) => c.cmdRcpt(a) },
  DATA: { states: ['rcpt'], wrongState: mailOrderError, run: (c) => c.cmdData() },
  RSET: { states: ALL, run: (c) => c.cmdRset() },
  NOOP: { states: ALL, run: (c) => c.reply(REPLIES.ok) },
  QUIT: { states: ALL, run: (c) => c.cmdQuit() },
  VRFY: { states: ALL, run: (c, a) => c.reply(a.trim() === '' ? REPLIES.vrfyNoArg : REPLIES.vrfy) },
  STARTTLS: { states: ALL, run: (c) => c.reply(REPLIES.startTlsDisabled) },
  AUTH: { states: ALL, run: (c) => c.reply(REPLIES.unsupportedCommand) },
  BDAT: { states: ALL, run: (c) => c.reply(REPLIES.unsupportedCommand) },
};

/** A command name Dovecot's parser accepts as a name (an unknown one is "Unknown command"). */
const COMMAND_NAME = /^[A-Za-z0-9_-]*$/;

export class LmtpConnection extends SMTPConnection {
  readonly sessionId = newSessionId();
  state: LmtpState = 'ready';
  private lhloName = '';
  private tx: Transaction | undefined;
  private transactions = 0;
  private badCommands = 0;

  constructor(server: SMTPServer, socket: Socket, private readonly o: LmtpServerOptions, private readonly facts: ConnectionFacts) {
    super(server, socket, {});
  }

  private get remoteIp(): string | undefined {
    return this.facts.transport === 'unix' ? undefined : this.remoteAddress;
  }

  /** Greets at once: no early-talker delay, no reverse DNS (Dovecot's LMTP does neither). */
  override init(): void {
    this._setListeners(() => {
      this.o.onEvent?.({ kind: 'connect', sessionId: this.sessionId, remote: this.remoteIp ?? 'local' });
      this.connectionReady();
    });
    this._socket.once('close', () => {
      this.o.onEvent?.({ kind: 'disconnect', sessionId: this.sessionId, remote: this.remoteIp ?? 'local', reason: 'Connection closed', state: this.state });
    });
  }

  override _sendGreeting(): void {
    this.reply(REPLIES.greeting(this.o.hostname, this.o.greeting));
  }

  /** Whether the socket is corked until the end of this event-loop turn (coalesce()). */
  private corked = false;

  /**
   * Replies written in one event-loop turn leave in one write(2): a pipelining client (Postfix's
   * lmtp client sends MAIL, RCPT … and DATA together) gets its 250s and the 354 together, as
   * Dovecot's output stream flushes once per batch of input. One write per reply line was about
   * a tenth of the LMTP server's CPU in the bench profile. end() flushes a corked socket.
   */
  private coalesce(): void {
    if (this.corked) return;
    this.corked = true;
    this._socket.cork();
    setImmediate(() => {
      this.corked = false;
      this._socket.uncork();
    });
  }

  /** Writes one of our replies (the enhanced code is part of the text, never the library's). */
  reply(r: LmtpReply): void {
    this.coalesce();
    super.send(r.code, r.enhanced !== '' ? `${r.enhanced} ${r.text}` : r.text, false);
  }

  /** Only smtp-server's own replies (timeouts, shutdown, parser overflow) arrive here. */
  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    const text = typeof data === 'string' ? data : '';
    if (code === 421 && /timeout/i.test(text)) return this.reply(REPLIES.idleTimeout(this.o.hostname));
    if (code === 421 && /shutting down/i.test(text)) return this.reply(REPLIES.shuttingDown(this.o.hostname));
    if (code === 421 && text.startsWith('Error: ')) {
      // The parser gave up on a line longer than the hard cap: it cannot resynchronise.
      this.reply(REPLIES.lineTooLong);
      this.close();
      return;
    }
    this.coalesce();
    super.send(code, data, context);
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    const next = callback ?? (() => undefined);
    const done = (): void => this._whenWritable(next);
    if (this._upgrading || this._closing) return done();
    const line = command.toString('latin1');
    const sp = line.indexOf(' ');
    const name = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const args = sp < 0 ? '' : line.slice(sp + 1);
    let spec: CommandSpec | undefined;
    let bad: LmtpReply | undefined;
    if (line.length - name.length > this.o.lineLimit) bad = REPLIES.lineTooLong;
    else if (!COMMAND_NAME.test(name)) bad = REPLIES.invalidSyntax;
    else {
      spec = COMMANDS[name];
      if (spec === undefined) bad = REPLIES.unknownCommand;
    }
    if (bad !== undefined || spec === undefined) {
      if (++this.badCommands > this.o.maxBadCommands) {
        this.reply(REPLIES.tooManyInvalid(this.o.hostname));
        return;
      }
      this.reply(bad ?? REPLIES.unknownCommand);
      setImmediate(done);
      return;
    }
    if (!spec.states.includes(this.state)) {
      this.reply(spec.wrongState?.(this.state) ?? REPLIES.unknownCommand);
      setImmediate(done);
      return;
    }
    this._handlerPending = true;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this._handlerPending = false;
      done();
    };
    Promise.resolve()
      .then(() => spec.run(this, args))
      .catch((err: unknown) => {
        this.o.onEvent?.({ kind: 'error', sessionId: this.sessionId, detail: `${name}: ${err instanceof Error ? err.message : String(err)}` });
        if (this.state !== 'data') this.reply(REPLIES.internalError);
      })
      // After DATA this lets the parser stream the message; commands pipelined behind it wait
      // for parser.continue(), which follows the last per-recipient reply.
      .finally(finish);
  }

  private resetTransaction(): void {
    this.tx = undefined;
    this.state = 'ready';
  }

  cmdLhlo(args: string): void {
    const name = args.trim().split(/\s+/)[0] ?? '';
    if (name === '') {
      this.reply(REPLIES.missingHostname);
      return;
    }
    // Goes into the Received header: keep it printable and short.
    this.lhloName = name.replace(/[^\x21-\x7e]/g, '').slice(0, 255);
    this.resetTransaction();
    this.coalesce();
    this._socket.write(formatLhlo(this.o.hostname, ['8BITMIME', 'ENHANCEDSTATUSCODES', 'PIPELINING']).map((l) => `${l}\r\n`).join(''));
  }

  private parsePath(which: 'FROM' | 'TO', args: string): ParsedPath | undefined {
    const prefix = `${which}:`;
    if (args.slice(0, prefix.length).toUpperCase() !== prefix) {
      this.reply(REPLIES.vrfyNoArg);
      return undefined;
    }
    try {
      return parsePathArgs(args.slice(prefix.length), which === 'FROM');
    } catch (err) {
      if (!(err instanceof PathSyntaxError)) throw err;
      this.reply(REPLIES.invalidPath(which, err.reason));
      return undefined;
    }
  }

  cmdMail(args: string): void {
    const path = this.parsePath('FROM', args);
    if (path === undefined) return;
    for (const [k, v] of path.params) {
      if (k === 'BODY') {
        if (v === undefined || !['7BIT', '8BITMIME'].includes(v.toUpperCase())) return this.reply(REPLIES.unsupportedBody);
      } else return this.reply(REPLIES.unsupportedParams);
    }
    this.tx = { mailFrom: path, rcpts: [] };
    this.state = 'mail';
    this.reply(REPLIES.mailOk);
  }

  async cmdRcpt(args: string): Promise<void> {
    const path = this.parsePath('TO', args);
    if (path === undefined || this.tx === undefined) return;
    for (const k of path.params.keys()) if (k !== 'ORCPT') return this.reply(REPLIES.unsupportedParams);
    const tx = this.tx;
    const key = path.address.toLowerCase();
    const first = tx.rcpts.findIndex((r) => r.path.address.toLowerCase() === key);
    if (first >= 0) {
      tx.rcpts.push({ path, rcpt: tx.rcpts[first]!.rcpt, dupOf: first });
      return this.reply(REPLIES.rcptOk);
    }
    if (tx.rcpts.length >= this.o.maxRecipients) return this.reply(REPLIES.tooManyRecipients);
    const r = await this.o.agent.lookup(path.address, path.localPart, path.domain, {
      sessionId: this.sessionId,
      ...(this.remoteIp !== undefined ? { remoteIp: this.remoteIp } : {}),
      ...(this.facts.transport === 'tcp' ? { localIp: this.localAddress } : {}),
    });
    if (this.tx !== tx) return;
    if (r.kind === 'notfound') return this.reply(REPLIES.userUnknown(path.address, r.user));
    if (r.kind === 'tempfail') return this.reply(REPLIES.rcptTempFail(path.address));
    tx.rcpts.push({ path, rcpt: r.rcpt, dupOf: undefined });
    this.state = 'rcpt';
    this.reply(REPLIES.rcptOk);
  }

  cmdRset(): void {
    this.resetTransaction();
    this.reply(REPLIES.ok);
  }

  cmdQuit(): void {
    this.reply(REPLIES.bye);
    this.close();
  }

  cmdData(): void {
    const parser = this._parser;
    const tx = this.tx;
    if (parser === false || tx === undefined) return;
    this.state = 'data';
    const stream = parser.startDataMode(this.o.maxMessageSize);
    this._dataStream = stream;
    const chunks: Buffer[] = [];
    let size = 0;
    let oversize = false;
    stream.on('data', (c: Buffer) => {
      if (oversize) return;
      size += c.length;
      if (size > this.o.maxMessageSize) {
        oversize = true;
        chunks.length = 0;
      } else chunks.push(c);
    });
    // The client vanished mid-message: nothing is delivered and nobody gets a reply.
    stream.on('error', () => undefined);
    stream.on('end', () => {
      void this.finishData(tx, oversize ? undefined : Buffer.concat(chunks, size)).finally(() => {
        this._dataStream = false;
        this.resetTransaction();
        if (this._parser) this._parser.continue();
      });
    });
    this.reply(REPLIES.dataGo);
  }

  private async finishData(tx: Transaction, message: Buffer | undefined): Promise<void> {
    this.transactions++;
    if (message === undefined) {
      for (let i = 0; i < tx.rcpts.length; i++) this.reply(REPLIES.messageTooBig);
      return;
    }
    const transId = transactionId(this.sessionId, this.transactions);
    const unique = tx.rcpts.filter((r) => r.dupOf === undefined);
    const targets: DeliveryTarget[] = unique.map((r, i) => ({ rcpt: r.rcpt, id: recipientId(transId, i + 1) }));
    let replies: LmtpReply[];
    try {
      const outcomes = await this.o.agent.deliver({
        sender: tx.mailFrom.address,
        lhloName: this.lhloName,
        remoteIp: this.remoteIp,
        transactionId: transId,
      }, targets, message);
      replies = targets.map((t, i) => outcomeReply(t.rcpt.address, t.id, outcomes[i]!, this.o.quotaFullTempfail));
    } catch (err) {
      this.o.onEvent?.({ kind: 'error', sessionId: this.sessionId, detail: `DATA: ${err instanceof Error ? err.message : String(err)}` });
      replies = targets.map((t) => REPLIES.dataTempFail(t.rcpt.address, 'Temporary internal error'));
    }
    let u = 0;
    const byRcpt = tx.rcpts.map((r) => (r.dupOf === undefined ? replies[u++]! : undefined));
    tx.rcpts.forEach((r, i) => {
      const own = byRcpt[i] ?? byRcpt[r.dupOf ?? 0]!;
      this.reply(r.dupOf === undefined ? own : { ...own, text: own.text.replace(/^<[^>]*>/, `<${r.path.address}>`) });
    });
  }
}

/** smtp-server's server object, used only as the owner of our connections (it never listens). */
export class LmtpServer {
  private readonly smtp: SMTPServer;
  private readonly live = new Set<LmtpConnection>();

  constructor(private readonly o: LmtpServerOptions) {
    this.smtp = new SMTPServer({
      lmtp: true,
      name: o.hostname,
      disableReverseLookup: true,
      hideSTARTTLS: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      logger: false,
      maxCommandLength: o.hardLineLimit,
      socketTimeout: o.idleTimeoutMs,
    });
  }

  /** Takes over an accepted socket. */
  accept(socket: Socket, facts: ConnectionFacts): void {
    const conn = new LmtpConnection(this.smtp, socket, this.o, facts);
    this.live.add(conn);
    this.smtp.connections.add(conn);
    conn.on('error', () => undefined);
    socket.once('close', () => this.live.delete(conn));
    conn.init();
  }

  get connectionCount(): number {
    return this.live.size;
  }

  /** Says 421 to idle connections and closes them; in-flight DATA is given `graceMs` to finish. */
  async close(graceMs = 5000): Promise<void> {
    const end = Date.now() + graceMs;
    while (Date.now() < end && [...this.live].some((c) => c.state === 'data')) await new Promise((r) => setTimeout(r, 50));
    for (const c of this.live) {
      c.reply(REPLIES.shuttingDown(this.o.hostname));
      c.close();
    }
    this.live.clear();
  }
}
