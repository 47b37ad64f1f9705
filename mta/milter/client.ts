/*
 * One milter, one SMTP session: the MTA side of the Sendmail milter protocol as Postfix 3.7's
 * milter8.c runs it. smtpd calls connect/helo/envfrom/envrcpt/data/unknown as the SMTP commands
 * arrive, cleanup sends the message with header/eoh/body/eom (or message()), smtpd calls abort()
 * when a transaction ends (RSET, after DATA, a rejected MAIL) and quit() at disconnect.
 *
 * Each call returns Postfix's answer for that event: continue, discard, hold (quarantine), an SMTP
 * reply (4xx/5xx text, possibly multi-line with CRLF) or shutdown (421 and disconnect). eom() also
 * returns the modifications the milter asked for, in order, for apply.ts.
 *
 * Behaviour kept from milter8.c:
 * - the socket is opened at connect() (libmilter closes it when the SMTP client leaves), offered
 *   every SMFIF_* action and the SMFIP_* events of milter_protocol;
 * - events the milter disabled (SMFIP_NO*) are not sent, but their macros still are, except for
 *   header/eoh/body, which are not sent at all; events outside the negotiated version are skipped
 *   with their macros; SMFIP_NR_* events are sent without waiting; SMFIR_SKIP skips the following
 *   events of the same type;
 * - ACCEPT, REJECT, TEMPFAIL or REPLYCODE at connect/helo close the socket and stick for the whole
 *   session; DISCARD at connect/helo is ignored with a warning; QUARANTINE sticks until quit;
 * - a communication error (I/O, timeout, bad packet, unexpected reply) closes the socket and from
 *   then on every event answers milter_default_action; a configuration error (bad milter_protocol,
 *   malformed reply code) answers the configuration-error text instead.
 *
 * Distrusts the milter: packets are bounded (codec.ts), every read has a deadline
 * (milter_command_timeout, milter_content_timeout while the message is sent), PROGRESS extends it.
 */
import {
  commandName,
  decodeReply,
  encodeCommand,
  MILTER_CHUNK_SIZE,
  replyName,
  SMFIC,
  SMFIP,
  type ConnectFamily,
  type MilterCommand,
  type MilterModification,
} from './codec.js';
import { DEFAULT_MILTER_MACROS, evalMacros, type MacroListStage, type MacroLookup, type MilterMacroLists } from './macros.js';
import { acceptNegotiation, parseMilterProtocol, type Negotiated } from './negotiate.js';
import { MilterTransport, parseMilterEndpoint } from './transport.js';

export interface MilterSettings {
  /** milter_connect_timeout, milter_command_timeout, milter_content_timeout, in seconds. */
  connectTimeout: number;
  commandTimeout: number;
  contentTimeout: number;
  /** milter_protocol */
  protocol: string;
  /** milter_default_action: accept, reject, tempfail or quarantine. */
  defaultAction: string;
  /** milter_*_macros */
  macros: MilterMacroLists;
  /** milter_macro_defaults, by brace name. */
  macroDefaults?: ReadonlyMap<string, string>;
  /** Largest packet accepted from the milter (Postfix: INT_MAX/2). */
  maxPacket?: number;
  /** soft_bounce: 5xx replies from the milter become 4xx. */
  softBounce?: boolean;
}

export const DEFAULT_MILTER_SETTINGS: MilterSettings = {
  connectTimeout: 30,
  commandTimeout: 30,
  contentTimeout: 300,
  protocol: '6',
  defaultAction: 'tempfail',
  macros: DEFAULT_MILTER_MACROS,
};

/** Default packet limit: generous for REPLBODY chunks, far below Postfix's INT_MAX/2. */
export const DEFAULT_MAX_PACKET = 64 * 1024 * 1024;

export type MilterResult =
  | { action: 'continue' }
  | { action: 'discard' }
  | { action: 'hold'; reason: string }
  | { action: 'reply'; reply: string }
  | { action: 'shutdown' };

export interface EomResult {
  result: MilterResult;
  modifications: MilterModification[];
}

export interface ConnectInfo {
  /** Verified client name, or `unknown` (sent as `[address]`, the Sendmail form). */
  hostname: string;
  address: string;
  port?: number;
  family: ConnectFamily;
}

export interface MilterLogger {
  warn(text: string): void;
}

export type MilterState = 'closed' | 'error' | 'ready' | 'envelope' | 'message' | 'accept_con' | 'accept_msg' | 'reject_con';

/** A header field as cleanup holds it: the name and the whole field (`Name: value`, folded lines joined with LF). */
export interface MilterHeaderField {
  readonly name: string;
  readonly raw: Buffer;
}

type R = MilterResult | undefined;

const CONTINUE: MilterResult = { action: 'continue' };
const reply = (text: string): MilterResult => ({ action: 'reply', reply: text });

export class MilterSession {
  private transport: MilterTransport | undefined;
  private state: MilterState = 'closed';
  private defReply: R;
  private skipEvent = 0;
  private neg: Negotiated | undefined;
  private msg: { resp: R; edits: MilterModification[]; body: Buffer[]; bodyLen: number } | undefined;

  constructor(
    /** The milter_* list entry, `inet:host:port` or `unix:/path`. */
    readonly name: string,
    private readonly settings: MilterSettings,
    private readonly lookup: MacroLookup,
    private readonly log: MilterLogger = { warn: () => undefined },
  ) {}

  get currentState(): MilterState {
    return this.state;
  }

  /** The negotiated version, actions and protocol flags (after connect()). */
  get negotiated(): Readonly<Negotiated> | undefined {
    return this.neg;
  }

  // ---- envelope events --------------------------------------------------------------------------

  async connect(client: ConnectInfo): Promise<MilterResult> {
    if (this.state === 'closed') await this.open();
    if (this.state !== 'ready') return out(this.defReply);
    this.state = 'envelope';
    const hostname = client.hostname !== 'unknown' || client.address === 'unknown' ? client.hostname : `[${client.address}]`;
    const cmd: MilterCommand =
      client.family === 'unknown'
        ? { kind: 'connect', hostname, family: 'unknown' }
        : { kind: 'connect', hostname, family: client.family, port: client.family === 'unix' ? 0 : (client.port ?? 0), address: client.address };
    return out(await this.event(cmd, SMFIP.NOCONNECT, SMFIP.NR_CONN, 'connect'));
  }

  async helo(name: string): Promise<MilterResult> {
    if (this.state !== 'envelope' && this.state !== 'accept_msg') return out(this.defReply);
    return out(await this.event({ kind: 'helo', name }, SMFIP.NOHELO, SMFIP.NR_HELO, 'helo'));
  }

  /** MAIL FROM: args[0] is the address as given (`<a@b>`), then the ESMTP parameters. */
  async envfrom(args: readonly string[]): Promise<MilterResult> {
    if (this.state !== 'envelope') return out(this.defReply);
    return out(await this.event({ kind: 'mail', args }, SMFIP.NOMAIL, SMFIP.NR_MAIL, 'mail'));
  }

  async envrcpt(args: readonly string[]): Promise<MilterResult> {
    if (this.state !== 'envelope') return out(this.defReply);
    return out(await this.event({ kind: 'rcpt', args }, SMFIP.NORCPT, SMFIP.NR_RCPT, 'rcpt'));
  }

  async data(): Promise<MilterResult> {
    if (this.state !== 'envelope') return out(this.defReply);
    return out(await this.event({ kind: 'data' }, SMFIP.NODATA, SMFIP.NR_DATA, 'data'));
  }

  /** An SMTP command smtpd did not recognise: Postfix sends its first word only (`XFOO`, recorded). */
  async unknown(line: string): Promise<MilterResult> {
    if (this.state !== 'envelope') return out(this.defReply);
    return out(await this.event({ kind: 'unknown', line }, SMFIP.NOUNKNOWN, SMFIP.NR_UNKN, 'unknown'));
  }

  // ---- message content --------------------------------------------------------------------------

  /**
   * One header field as stored, without the MTA's own Received: header (Postfix hides it; see
   * apply.ts for how header indexes account for it). Sends the name and the value after `:`,
   * with Sendmail's one leading space removed unless the milter negotiated SMFIP_HDR_LEADSPC.
   */
  async header(field: MilterHeaderField): Promise<MilterResult> {
    const c = this.content();
    if (c !== 'send') return out(c === 'skip' ? this.defReply : this.msg?.resp);
    if ((this.neg!.events & SMFIP.NOHDRS) !== 0) return CONTINUE;
    let i = Buffer.byteLength(field.name, 'latin1');
    while (field.raw[i] === 0x20 || field.raw[i] === 0x09) i++;
    if (field.raw[i] === 0x3a) i++;
    if ((this.neg!.events & SMFIP.HDR_LEADSPC) === 0 && field.raw[i] === 0x20) i++;
    const value = Buffer.from(field.raw.subarray(i));
    this.msg!.resp = await this.event({ kind: 'header', name: field.name, value }, SMFIP.NOHDRS, SMFIP.NR_HDR, 'eoh');
    return out(this.msg!.resp);
  }

  async eoh(): Promise<MilterResult> {
    const c = this.content();
    if (c !== 'send') return out(c === 'skip' ? this.defReply : this.msg?.resp);
    if ((this.neg!.events & SMFIP.NOEOH) !== 0) return CONTINUE;
    this.msg!.resp = await this.event({ kind: 'eoh' }, SMFIP.NOEOH, SMFIP.NR_EOH, 'eoh');
    return out(this.msg!.resp);
  }

  /** Body bytes after the empty line, CRLF line ends; sent in chunks of at most 65535 bytes. */
  async body(bytes: Buffer): Promise<MilterResult> {
    const c = this.content();
    if (c !== 'send') return out(c === 'skip' ? this.defReply : this.msg?.resp);
    if ((this.neg!.events & SMFIP.NOBODY) !== 0) return CONTINUE;
    const m = this.msg!;
    let off = 0;
    while (off < bytes.length) {
      const take = Math.min(MILTER_CHUNK_SIZE - m.bodyLen, bytes.length - off);
      m.body.push(bytes.subarray(off, off + take));
      m.bodyLen += take;
      off += take;
      if (m.bodyLen === MILTER_CHUNK_SIZE) {
        m.resp = await this.flushBody();
        if (this.content() !== 'send') break;
      }
    }
    return out(m.resp);
  }

  /** End of message: flushes the body, sends BODYEOB, collects the milter's modifications. */
  async eom(): Promise<EomResult> {
    const c = this.content();
    if (c === 'skip') return { result: out(this.defReply), modifications: [] };
    const m = this.msg!;
    if (c === 'send' && m.bodyLen > 0 && (this.neg!.events & SMFIP.NOBODY) === 0) m.resp = await this.flushBody();
    if (this.content() === 'send') m.resp = await this.event({ kind: 'bodyeob' }, 0, 0, 'eom', m.edits);
    if (this.state === 'message' || this.state === 'accept_msg') this.state = 'envelope';
    this.msg = undefined;
    return { result: out(m.resp), modifications: m.edits };
  }

  /** The whole message: header fields (without our own Received:), then the body. */
  async message(headers: readonly MilterHeaderField[], body: Buffer): Promise<EomResult> {
    for (const h of headers) await this.header(h);
    await this.eoh();
    if (body.length > 0) await this.body(body);
    return this.eom();
  }

  // ---- transaction and session end --------------------------------------------------------------

  /** Ends the current transaction (RSET, after the message, HELO after MAIL). */
  async abort(): Promise<void> {
    this.msg = undefined;
    if (this.state !== 'envelope' && this.state !== 'message' && this.state !== 'accept_msg') return;
    await this.write({ kind: 'abort' });
    if ((this.state as MilterState) !== 'error') this.state = 'envelope';
  }

  /** The SMTP client has gone: QUIT to the milter and close the socket. */
  async quit(): Promise<void> {
    if (this.state === 'envelope' || this.state === 'message' || this.state === 'accept_msg') await this.write({ kind: 'quit' });
    this.transport?.close();
    this.transport = undefined;
    this.state = 'closed';
    this.defReply = undefined;
    this.msg = undefined;
  }

  // ---- internals --------------------------------------------------------------------------------

  private async open(): Promise<void> {
    let offer;
    let endpoint;
    try {
      offer = parseMilterProtocol(this.settings.protocol);
      endpoint = parseMilterEndpoint(this.name);
    } catch (err) {
      this.confError((err as Error).message);
      return;
    }
    try {
      this.transport = await MilterTransport.open(endpoint, this.settings.connectTimeout * 1000, this.settings.maxPacket ?? DEFAULT_MAX_PACKET);
    } catch (err) {
      this.commError(`connect to Milter service ${this.name}: ${(err as Error).message}`);
      return;
    }
    try {
      await this.transport.send(encodeCommand({ kind: 'optneg', version: offer.version, actions: offer.actions, protocol: offer.events }), this.cmdMs());
      const p = await this.transport.read(this.cmdMs());
      if (p.code !== SMFIC.OPTNEG) {
        this.commError(`milter ${this.name}: unexpected reply "${String.fromCharCode(p.code)}" in initial handshake`);
        return;
      }
      const r = decodeReply(p);
      if (r.kind !== 'optneg') throw new Error('unreachable');
      const neg = acceptNegotiation(offer, r);
      if ('conflict' in neg) {
        this.commError(`milter ${this.name}: ${neg.conflict}`);
        return;
      }
      for (const s of neg.ignoredStages) this.log.warn(`milter ${this.name}: ignoring unknown macro type ${s}`);
      this.neg = neg;
      this.state = 'ready';
      this.defReply = undefined;
      this.skipEvent = 0;
    } catch (err) {
      this.commError(`milter ${this.name}: read error in initial handshake: ${(err as Error).message}`);
    }
  }

  private content(): 'send' | 'done' | 'skip' {
    if (this.msg === undefined) {
      if (this.state !== 'envelope') return 'skip';
      this.state = 'message';
      this.msg = { resp: undefined, edits: [], body: [], bodyLen: 0 };
    }
    return this.state !== 'message' || this.msg.resp !== undefined ? 'done' : 'send';
  }

  private async flushBody(): Promise<R> {
    const m = this.msg!;
    const chunk = Buffer.concat(m.body, m.bodyLen);
    m.body = [];
    m.bodyLen = 0;
    return this.event({ kind: 'body', chunk }, SMFIP.NOBODY, SMFIP.NR_BODY, 'eom');
  }

  private cmdMs(): number {
    return this.settings.commandTimeout * 1000;
  }

  private timeoutMs(): number {
    return (this.state === 'message' ? this.settings.contentTimeout : this.settings.commandTimeout) * 1000;
  }

  private macroList(stage: MacroListStage): string {
    const own = stage === 'unknown' ? undefined : this.neg?.macroOverrides[stage];
    return own !== undefined && own !== '' ? own : this.settings.macros[stage];
  }

  /** Writes a command that gets no reply (ABORT, QUIT). */
  private async write(cmd: MilterCommand): Promise<void> {
    if (!this.transport) return;
    try {
      await this.transport.send(encodeCommand(cmd), this.cmdMs());
    } catch (err) {
      this.commError(`milter ${this.name}: error writing command: ${(err as Error).message}`);
    }
  }

  /** milter8_event(): macros, the event, and the reply loop. */
  private async event(cmd: MilterCommand, skipFlag: number, noReplyFlag: number, stage: MacroListStage, edits?: MilterModification[]): Promise<R> {
    const t = this.transport;
    const neg = this.neg;
    if (!t || !neg || this.defReply !== undefined) return this.defReply;
    const code = encodeCommand(cmd)[4]!;
    if ((skipFlag & neg.nonProtocol) !== 0) return this.defReply;
    if (this.skipEvent !== 0) {
      if (code === this.skipEvent) return this.defReply;
      this.skipEvent = 0;
    }
    try {
      const macros = encodeCommand({ kind: 'macro', forCode: code, macros: evalMacros(this.macroList(stage), this.lookup, this.settings.macroDefaults) });
      if ((skipFlag & neg.events) !== 0) {
        await t.send(macros, this.cmdMs());
        return this.defReply;
      }
      await t.send(Buffer.concat([macros, encodeCommand(cmd)]), this.timeoutMs());
      if ((noReplyFlag & neg.events) !== 0) return this.defReply;
      return await this.replies(t, code, edits);
    } catch (err) {
      return this.commError(`milter ${this.name}: ${commandName(code)}: ${(err as Error).message}`);
    }
  }

  private async replies(t: MilterTransport, code: number, edits: MilterModification[] | undefined): Promise<R> {
    const inConnect = code === SMFIC.CONNECT || code === SMFIC.HELO;
    let replacingBody = false;
    let bodyLockout = false;
    for (;;) {
      const p = await t.read(this.timeoutMs());
      const r = decodeReply(p);
      if (replacingBody && r.kind !== 'replbody') {
        replacingBody = false;
        bodyLockout = true;
      }
      switch (r.kind) {
        case 'progress':
          continue;
        case 'continue':
          return this.defReply;
        case 'accept':
          if (inConnect) {
            this.closeStream();
            this.state = 'accept_con';
          } else {
            this.state = 'accept_msg';
          }
          return this.defReply;
        case 'discard':
          if (inConnect) {
            this.log.warn(`milter ${this.name}: DISCARD action is not allowed for connect or helo`);
            return this.defReply;
          }
          this.state = 'accept_msg';
          return { action: 'discard' };
        case 'reject':
          return this.decide(inConnect, reply('550 5.7.1 Command rejected'));
        case 'tempfail':
          return this.decide(inConnect, reply('451 4.7.1 Service unavailable - try again later'));
        case 'shutdown':
          this.closeStream();
          this.state = 'reject_con';
          return (this.defReply = { action: 'shutdown' });
        case 'replycode': {
          const text = checkReplyCode(r.text, this.settings.softBounce === true);
          if (text === undefined) return this.confError(`milter ${this.name}: malformed reply: ${r.text}`);
          return this.decide(inConnect, reply(text));
        }
        case 'quarantine':
          this.defReply = { action: 'hold', reason: Buffer.from(r.reason, 'utf8').subarray(0, 100).toString('utf8') };
          continue;
        case 'skip':
          this.skipEvent = code;
          return this.defReply;
        default:
          if (code === SMFIC.BODYEOB && edits && r.kind !== 'optneg' && r.kind !== 'setsymlist' && r.kind !== 'conn_fail') {
            if (r.kind === 'replbody') {
              if (bodyLockout) return this.confError(`milter ${this.name}: body replacement requests can't currently be mixed with other requests`);
              replacingBody = true;
            }
            if ((r.kind === 'chgheader' || r.kind === 'insheader' || r.kind === 'addheader') && r.name === '') {
              return this.confError(`milter ${this.name}: null change header name`);
            }
            edits.push(r);
            continue;
          }
          return this.commError(`milter ${this.name}: unexpected filter response ${replyName(p.code)} after event ${commandName(code)}`);
      }
    }
  }

  /** REJECT/TEMPFAIL/REPLYCODE: final for the session at connect/helo, else for this command. */
  private decide(inConnect: boolean, r: MilterResult): R {
    if (!inConnect) return r;
    this.closeStream();
    this.state = 'reject_con';
    return (this.defReply = r);
  }

  private closeStream(): void {
    this.transport?.close();
    this.transport = undefined;
    this.state = 'closed';
  }

  private commError(why: string): R {
    this.log.warn(why);
    this.transport?.close();
    this.transport = undefined;
    const a = this.settings.defaultAction.toLowerCase();
    if (a === 'accept') this.defReply = undefined;
    else if (a === 'reject') this.defReply = reply('550 5.5.0 Service unavailable');
    else if (a === 'tempfail') this.defReply = reply('451 4.7.1 Service unavailable - try again later');
    else if (a === 'quarantine') this.defReply = { action: 'hold', reason: 'default_action' };
    else {
      this.log.warn(`milter ${this.name}: unrecognized default action: ${this.settings.defaultAction}`);
      this.defReply = reply('451 4.3.5 Server configuration problem - try again later');
    }
    this.state = 'error';
    return this.defReply;
  }

  private confError(why: string): R {
    this.log.warn(why);
    this.transport?.close();
    this.transport = undefined;
    const a = this.settings.defaultAction.toLowerCase();
    this.defReply = a === 'accept' ? undefined : a === 'quarantine' ? { action: 'hold', reason: 'default_action' } : reply('451 4.3.5 Server configuration problem - try again later');
    this.state = 'error';
    return this.defReply;
  }
}

function out(r: R): MilterResult {
  return r ?? CONTINUE;
}

/**
 * SMFIR_REPLYCODE text as Postfix accepts it: `4xx` or `5xx`, then space or `-`, an enhanced
 * status code (if any) of the same class; `%%` becomes `%` and a lone `%` is dropped (Sendmail
 * uses the text as a format string); soft_bounce turns 5 into 4. Undefined when malformed.
 */
export function checkReplyCode(text: string, softBounce: boolean): string | undefined {
  if (!/^[45][0-9][0-9][ -]/.test(text)) return undefined;
  if (/[0-9]/.test(text[4] ?? '') && text[4] !== text[0]) return undefined;
  let t = text.replace(/%([\s\S]?)/g, '$1');
  if (softBounce) t = t.split('\r\n').map((l) => (l[0] === '5' ? `4${l.slice(1, 4)}${l[4] === '5' ? '4' : (l[4] ?? '')}${l.slice(5)}` : l)).join('\r\n');
  return t;
}

