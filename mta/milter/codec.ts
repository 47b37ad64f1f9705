/*
 * The Sendmail milter protocol on the wire (pure): packet framing, the commands an MTA sends and the
 * replies a milter sends, protocol version 2..6 with Sendmail 8.14's option negotiation.
 *
 * A packet is a 4-byte big-endian length, then that many bytes: one command byte and its data.
 * Strings are NUL-terminated; numbers are 32-bit big-endian except the CONNECT port (16-bit).
 * Follows Postfix's src/milter/milter8.c (the MTA side) for the codes, flags and data layouts.
 *
 * Distrusts the milter: a packet longer than the configured limit, a zero length, a missing NUL, a
 * short number or data left over after the last field is a MilterProtocolError. Header values and
 * body chunks stay bytes (Buffer) so 8-bit content passes unchanged; names, addresses, macro values
 * and reply texts are decoded as UTF-8.
 */

/** Commands from the MTA to the milter (SMFIC_*). */
export const SMFIC = {
  ABORT: 0x41, // 'A'
  BODY: 0x42, // 'B'
  CONNECT: 0x43, // 'C'
  MACRO: 0x44, // 'D'
  BODYEOB: 0x45, // 'E'
  HELO: 0x48, // 'H'
  QUIT_NC: 0x4b, // 'K'
  HEADER: 0x4c, // 'L'
  MAIL: 0x4d, // 'M'
  EOH: 0x4e, // 'N'
  OPTNEG: 0x4f, // 'O'
  QUIT: 0x51, // 'Q'
  RCPT: 0x52, // 'R'
  DATA: 0x54, // 'T'
  UNKNOWN: 0x55, // 'U'
} as const;

/** Replies from the milter to the MTA (SMFIR_*). */
export const SMFIR = {
  ADDRCPT: 0x2b, // '+'
  DELRCPT: 0x2d, // '-'
  ADDRCPT_PAR: 0x32, // '2'
  SHUTDOWN: 0x34, // '4'
  ACCEPT: 0x61, // 'a'
  REPLBODY: 0x62, // 'b'
  CONTINUE: 0x63, // 'c'
  DISCARD: 0x64, // 'd'
  CHGFROM: 0x65, // 'e'
  CONN_FAIL: 0x66, // 'f'
  ADDHEADER: 0x68, // 'h'
  INSHEADER: 0x69, // 'i'
  SETSYMLIST: 0x6c, // 'l'
  CHGHEADER: 0x6d, // 'm'
  PROGRESS: 0x70, // 'p'
  QUARANTINE: 0x71, // 'q'
  REJECT: 0x72, // 'r'
  SKIP: 0x73, // 's'
  TEMPFAIL: 0x74, // 't'
  REPLYCODE: 0x79, // 'y'
} as const;

/** Actions the milter may request (SMFIF_*), negotiated in OPTNEG. */
export const SMFIF = {
  ADDHDRS: 1 << 0,
  CHGBODY: 1 << 1,
  ADDRCPT: 1 << 2,
  DELRCPT: 1 << 3,
  CHGHDRS: 1 << 4,
  QUARANTINE: 1 << 5,
  CHGFROM: 1 << 6,
  ADDRCPT_PAR: 1 << 7,
  SETSYMLIST: 1 << 8,
} as const;

/** Everything Postfix offers (milter8.c my_actions). */
export const SMFIF_ALL = 0x1ff;

/** Protocol flags (SMFIP_*): events the milter does not want, replies it will not send. */
export const SMFIP = {
  NOCONNECT: 1 << 0,
  NOHELO: 1 << 1,
  NOMAIL: 1 << 2,
  NORCPT: 1 << 3,
  NOBODY: 1 << 4,
  NOHDRS: 1 << 5,
  NOEOH: 1 << 6,
  NR_HDR: 1 << 7,
  NOUNKNOWN: 1 << 8,
  NODATA: 1 << 9,
  SKIP: 1 << 10,
  RCPT_REJ: 1 << 11,
  NR_CONN: 1 << 12,
  NR_HELO: 1 << 13,
  NR_MAIL: 1 << 14,
  NR_RCPT: 1 << 15,
  NR_DATA: 1 << 16,
  NR_UNKN: 1 << 17,
  NR_EOH: 1 << 18,
  NR_BODY: 1 << 19,
  HDR_LEADSPC: 1 << 20,
} as const;

export const SMFIP_NOSEND_MASK =
  SMFIP.NOCONNECT | SMFIP.NOHELO | SMFIP.NOMAIL | SMFIP.NORCPT | SMFIP.NOBODY | SMFIP.NOHDRS | SMFIP.NOEOH | SMFIP.NOUNKNOWN | SMFIP.NODATA;
export const SMFIP_NOREPLY_MASK =
  SMFIP.NR_CONN | SMFIP.NR_HELO | SMFIP.NR_MAIL | SMFIP.NR_RCPT | SMFIP.NR_DATA | SMFIP.NR_UNKN | SMFIP.NR_HDR | SMFIP.NR_EOH | SMFIP.NR_BODY;

/** Macro stages in a SETSYMLIST list (SMFIM_*). */
export const SMFIM = { CONNECT: 0, HELO: 1, ENVFROM: 2, ENVRCPT: 3, DATA: 4, EOM: 5, EOH: 6 } as const;
export type MacroStage = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'eom' | 'eoh';
export const MACRO_STAGES: readonly MacroStage[] = ['connect', 'helo', 'mail', 'rcpt', 'data', 'eom', 'eoh'];

/** Body chunk size Postfix uses (MILTER_CHUNK_SIZE); libmilter refuses larger BODY packets. */
export const MILTER_CHUNK_SIZE = 65535;

/** CONNECT address families (SMFIA_*). */
export type ConnectFamily = 'unknown' | 'unix' | 'inet' | 'inet6';
const FAMILY_BYTE: Record<ConnectFamily, number> = { unknown: 0x55, unix: 0x4c, inet: 0x34, inet6: 0x36 };

export class MilterProtocolError extends Error {
  override readonly name = 'MilterProtocolError';
}

/** A packet whose announced length exceeds the reader's limit (Postfix: "unreasonable packet length"). */
export class MilterPacketTooLargeError extends MilterProtocolError {
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`unreasonable packet length: ${length} > ${limit}`);
  }
}

export interface Packet {
  readonly code: number;
  readonly data: Buffer;
}

/** Commands the MTA sends. */
export type MilterCommand =
  | { kind: 'optneg'; version: number; actions: number; protocol: number }
  | { kind: 'macro'; forCode: number; macros: ReadonlyArray<readonly [string, string]> }
  | { kind: 'connect'; hostname: string; family: ConnectFamily; port?: number; address?: string }
  | { kind: 'helo'; name: string }
  | { kind: 'mail'; args: readonly string[] }
  | { kind: 'rcpt'; args: readonly string[] }
  | { kind: 'data' }
  | { kind: 'header'; name: string; value: Buffer }
  | { kind: 'eoh' }
  | { kind: 'body'; chunk: Buffer }
  | { kind: 'bodyeob' }
  | { kind: 'abort' }
  | { kind: 'quit' }
  | { kind: 'quit_nc' }
  | { kind: 'unknown'; line: string };

/** Header and envelope changes a milter may send at end of message. */
export type MilterModification =
  | { kind: 'addheader'; name: string; value: Buffer }
  | { kind: 'insheader'; index: number; name: string; value: Buffer }
  | { kind: 'chgheader'; index: number; name: string; value: Buffer }
  | { kind: 'addrcpt'; rcpt: string }
  | { kind: 'addrcpt_par'; rcpt: string; args: string }
  | { kind: 'delrcpt'; rcpt: string }
  | { kind: 'replbody'; chunk: Buffer }
  | { kind: 'chgfrom'; sender: string; args: string };

/** Replies a milter sends. */
export type MilterReply =
  | { kind: 'optneg'; version: number; actions: number; protocol: number; symlists: ReadonlyArray<{ stage: number; macros: string }> }
  | { kind: 'accept' }
  | { kind: 'continue' }
  | { kind: 'discard' }
  | { kind: 'reject' }
  | { kind: 'tempfail' }
  | { kind: 'shutdown' }
  | { kind: 'conn_fail' }
  | { kind: 'skip' }
  | { kind: 'progress' }
  | { kind: 'replycode'; text: string }
  | { kind: 'quarantine'; reason: string }
  | { kind: 'setsymlist'; stage: number; macros: string }
  | MilterModification;

// ---- framing ------------------------------------------------------------------------------------

export function encodePacket(code: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + data.length);
  out.writeUInt32BE(data.length + 1, 0);
  out[4] = code;
  data.copy(out, 5);
  return out;
}

/**
 * Splits a byte stream into packets. `push` bytes as they arrive, then `next()` until it returns
 * undefined. The length is checked as soon as its 4 bytes are in, before the data is buffered.
 */
export class PacketReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(readonly maxPacket: number) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.check();
  }

  /** Bytes waiting that do not yet form a whole packet. */
  get pending(): number {
    return this.buf.length;
  }

  next(): Packet | undefined {
    if (this.buf.length < 4) return undefined;
    const len = this.check();
    if (this.buf.length < 4 + len) return undefined;
    const code = this.buf[4]!;
    const data = Buffer.from(this.buf.subarray(5, 4 + len));
    this.buf = this.buf.subarray(4 + len);
    this.check();
    return { code, data };
  }

  private check(): number {
    if (this.buf.length < 4) return 0;
    const len = this.buf.readUInt32BE(0);
    if (len < 1) throw new MilterProtocolError(`bad packet length: ${len}`);
    if (len > this.maxPacket) throw new MilterPacketTooLargeError(len, this.maxPacket);
    return len;
  }
}

// ---- field helpers ------------------------------------------------------------------------------

const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
const cbuf = (b: Buffer): Buffer => Buffer.concat([b, Buffer.from([0])]);
const u32 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
};

/** Sequential reader of one packet's data. */
class Fields {
  private off = 0;
  constructor(
    private readonly data: Buffer,
    private readonly what: string,
  ) {}
  get left(): number {
    return this.data.length - this.off;
  }
  u32(): number {
    if (this.left < 4) throw new MilterProtocolError(`${this.what}: packet too short for network long`);
    const n = this.data.readUInt32BE(this.off);
    this.off += 4;
    return n;
  }
  u16(): number {
    if (this.left < 2) throw new MilterProtocolError(`${this.what}: packet too short for network short`);
    const n = this.data.readUInt16BE(this.off);
    this.off += 2;
    return n;
  }
  byte(): number {
    if (this.left < 1) throw new MilterProtocolError(`${this.what}: packet too short for octet`);
    return this.data[this.off++]!;
  }
  bytes(): Buffer {
    const nul = this.data.indexOf(0, this.off);
    if (nul < 0) throw new MilterProtocolError(`${this.what}: missing string null terminator`);
    const b = Buffer.from(this.data.subarray(this.off, nul));
    this.off = nul + 1;
    return b;
  }
  str(): string {
    return this.bytes().toString('utf8');
  }
  rest(): Buffer {
    const b = Buffer.from(this.data.subarray(this.off));
    this.off = this.data.length;
    return b;
  }
  end(): void {
    if (this.left !== 0) throw new MilterProtocolError(`${this.what}: left-over data ${this.left} bytes`);
  }
}

// ---- commands (MTA -> milter) -------------------------------------------------------------------

export function encodeCommand(c: MilterCommand): Buffer {
  switch (c.kind) {
    case 'optneg':
      return encodePacket(SMFIC.OPTNEG, Buffer.concat([u32(c.version), u32(c.actions), u32(c.protocol)]));
    case 'macro':
      return encodePacket(SMFIC.MACRO, Buffer.concat([Buffer.from([c.forCode]), ...c.macros.flatMap(([n, v]) => [cstr(n), cstr(v)])]));
    case 'connect': {
      const parts = [cstr(c.hostname), Buffer.from([FAMILY_BYTE[c.family]])];
      if (c.family !== 'unknown') {
        const port = Buffer.allocUnsafe(2);
        port.writeUInt16BE(c.port ?? 0, 0);
        parts.push(port, cstr(c.address ?? ''));
      }
      return encodePacket(SMFIC.CONNECT, Buffer.concat(parts));
    }
    case 'helo':
      return encodePacket(SMFIC.HELO, cstr(c.name));
    case 'mail':
      return encodePacket(SMFIC.MAIL, Buffer.concat(c.args.map(cstr)));
    case 'rcpt':
      return encodePacket(SMFIC.RCPT, Buffer.concat(c.args.map(cstr)));
    case 'data':
      return encodePacket(SMFIC.DATA);
    case 'header':
      return encodePacket(SMFIC.HEADER, Buffer.concat([cstr(c.name), cbuf(c.value)]));
    case 'eoh':
      return encodePacket(SMFIC.EOH);
    case 'body':
      if (c.chunk.length > MILTER_CHUNK_SIZE) throw new RangeError(`body chunk of ${c.chunk.length} bytes exceeds ${MILTER_CHUNK_SIZE}`);
      return encodePacket(SMFIC.BODY, c.chunk);
    case 'bodyeob':
      return encodePacket(SMFIC.BODYEOB);
    case 'abort':
      return encodePacket(SMFIC.ABORT);
    case 'quit':
      return encodePacket(SMFIC.QUIT);
    case 'quit_nc':
      return encodePacket(SMFIC.QUIT_NC);
    case 'unknown':
      return encodePacket(SMFIC.UNKNOWN, cstr(c.line));
  }
}

const FAMILY_OF: Record<number, ConnectFamily> = { 0x55: 'unknown', 0x4c: 'unix', 0x34: 'inet', 0x36: 'inet6' };

function strings(f: Fields): string[] {
  const out: string[] = [];
  while (f.left > 0) out.push(f.str());
  return out;
}

/** Decodes a command packet (what a milter, or a recording fake milter, receives). */
export function decodeCommand(p: Packet): MilterCommand {
  const name = commandName(p.code);
  const f = new Fields(p.data, name);
  let c: MilterCommand;
  switch (p.code) {
    case SMFIC.OPTNEG:
      c = { kind: 'optneg', version: f.u32(), actions: f.u32(), protocol: f.u32() };
      break;
    case SMFIC.MACRO: {
      const forCode = f.byte();
      const list = strings(f);
      if (list.length % 2 !== 0) throw new MilterProtocolError(`${name}: odd number of macro strings`);
      const macros: Array<readonly [string, string]> = [];
      for (let i = 0; i < list.length; i += 2) macros.push([list[i]!, list[i + 1]!]);
      c = { kind: 'macro', forCode, macros };
      break;
    }
    case SMFIC.CONNECT: {
      const hostname = f.str();
      const family = FAMILY_OF[f.byte()];
      if (family === undefined) throw new MilterProtocolError(`${name}: unknown address family`);
      if (family === 'unknown') c = { kind: 'connect', hostname, family };
      else c = { kind: 'connect', hostname, family, port: f.u16(), address: f.str() };
      break;
    }
    case SMFIC.HELO:
      c = { kind: 'helo', name: f.str() };
      break;
    case SMFIC.MAIL:
      c = { kind: 'mail', args: strings(f) };
      break;
    case SMFIC.RCPT:
      c = { kind: 'rcpt', args: strings(f) };
      break;
    case SMFIC.DATA:
      c = { kind: 'data' };
      break;
    case SMFIC.HEADER:
      c = { kind: 'header', name: f.str(), value: f.bytes() };
      break;
    case SMFIC.EOH:
      c = { kind: 'eoh' };
      break;
    case SMFIC.BODY:
      c = { kind: 'body', chunk: f.rest() };
      break;
    case SMFIC.BODYEOB:
      c = { kind: 'bodyeob' };
      break;
    case SMFIC.ABORT:
      c = { kind: 'abort' };
      break;
    case SMFIC.QUIT:
      c = { kind: 'quit' };
      break;
    case SMFIC.QUIT_NC:
      c = { kind: 'quit_nc' };
      break;
    case SMFIC.UNKNOWN:
      c = { kind: 'unknown', line: f.str() };
      break;
    default:
      throw new MilterProtocolError(`unknown MTA command 0x${p.code.toString(16)}`);
  }
  f.end();
  return c;
}

// ---- replies (milter -> MTA) --------------------------------------------------------------------

const NO_DATA_REPLIES: Record<string, number> = {
  accept: SMFIR.ACCEPT,
  continue: SMFIR.CONTINUE,
  discard: SMFIR.DISCARD,
  reject: SMFIR.REJECT,
  tempfail: SMFIR.TEMPFAIL,
  shutdown: SMFIR.SHUTDOWN,
  conn_fail: SMFIR.CONN_FAIL,
  skip: SMFIR.SKIP,
  progress: SMFIR.PROGRESS,
};

export function encodeReply(r: MilterReply): Buffer {
  switch (r.kind) {
    case 'optneg':
      return encodePacket(
        SMFIC.OPTNEG,
        Buffer.concat([u32(r.version), u32(r.actions), u32(r.protocol), ...r.symlists.flatMap((s) => [u32(s.stage), cstr(s.macros)])]),
      );
    case 'replycode':
      return encodePacket(SMFIR.REPLYCODE, cstr(r.text));
    case 'quarantine':
      return encodePacket(SMFIR.QUARANTINE, cstr(r.reason));
    case 'setsymlist':
      return encodePacket(SMFIR.SETSYMLIST, Buffer.concat([u32(r.stage), cstr(r.macros)]));
    case 'addheader':
      return encodePacket(SMFIR.ADDHEADER, Buffer.concat([cstr(r.name), cbuf(r.value)]));
    case 'insheader':
      return encodePacket(SMFIR.INSHEADER, Buffer.concat([u32(r.index), cstr(r.name), cbuf(r.value)]));
    case 'chgheader':
      return encodePacket(SMFIR.CHGHEADER, Buffer.concat([u32(r.index), cstr(r.name), cbuf(r.value)]));
    case 'addrcpt':
      return encodePacket(SMFIR.ADDRCPT, cstr(r.rcpt));
    case 'addrcpt_par':
      return encodePacket(SMFIR.ADDRCPT_PAR, Buffer.concat([cstr(r.rcpt), ...(r.args === '' ? [] : [cstr(r.args)])]));
    case 'delrcpt':
      return encodePacket(SMFIR.DELRCPT, cstr(r.rcpt));
    case 'replbody':
      return encodePacket(SMFIR.REPLBODY, r.chunk);
    case 'chgfrom':
      return encodePacket(SMFIR.CHGFROM, Buffer.concat([cstr(r.sender), ...(r.args === '' ? [] : [cstr(r.args)])]));
    default:
      return encodePacket(NO_DATA_REPLIES[r.kind]!);
  }
}

/** Decodes a reply packet as milter8.c reads it (OPTNEG's reply uses the command code 'O'). */
export function decodeReply(p: Packet): MilterReply {
  const name = replyName(p.code);
  const f = new Fields(p.data, name);
  let r: MilterReply;
  switch (p.code) {
    case SMFIC.OPTNEG: {
      const version = f.u32();
      const actions = f.u32();
      const protocol = f.u32();
      const symlists: Array<{ stage: number; macros: string }> = [];
      while (f.left > 0) symlists.push({ stage: f.u32(), macros: f.str() });
      r = { kind: 'optneg', version, actions, protocol, symlists };
      break;
    }
    case SMFIR.REPLYCODE:
      // Read as a raw buffer (milter8.c MILTER8_DATA_BUFFER); the text ends at its NUL.
      r = { kind: 'replycode', text: cutNul(f.rest()).toString('utf8') };
      break;
    case SMFIR.QUARANTINE:
      r = { kind: 'quarantine', reason: cutNul(f.rest()).toString('utf8') };
      break;
    case SMFIR.SETSYMLIST:
      r = { kind: 'setsymlist', stage: f.u32(), macros: f.str() };
      break;
    case SMFIR.ADDHEADER:
      r = { kind: 'addheader', name: f.str(), value: f.bytes() };
      break;
    case SMFIR.INSHEADER:
      r = { kind: 'insheader', index: f.u32(), name: f.str(), value: f.bytes() };
      break;
    case SMFIR.CHGHEADER:
      r = { kind: 'chgheader', index: f.u32(), name: f.str(), value: f.bytes() };
      break;
    case SMFIR.ADDRCPT:
      r = { kind: 'addrcpt', rcpt: f.str() };
      break;
    case SMFIR.ADDRCPT_PAR:
      r = { kind: 'addrcpt_par', rcpt: f.str(), args: f.left > 0 ? f.str() : '' };
      break;
    case SMFIR.DELRCPT:
      r = { kind: 'delrcpt', rcpt: f.str() };
      break;
    case SMFIR.REPLBODY:
      r = { kind: 'replbody', chunk: f.rest() };
      break;
    case SMFIR.CHGFROM:
      r = { kind: 'chgfrom', sender: f.str(), args: f.left > 0 ? f.str() : '' };
      break;
    default: {
      const kind = Object.entries(NO_DATA_REPLIES).find(([, code]) => code === p.code)?.[0];
      if (kind === undefined) throw new MilterProtocolError(`unknown filter reply 0x${p.code.toString(16)}`);
      if (f.left > 0) throw new MilterProtocolError(`reply ${name} was followed by ${f.left} data bytes`);
      r = { kind } as MilterReply;
    }
  }
  f.end();
  return r;
}

function cutNul(b: Buffer): Buffer {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

// ---- names for logs -----------------------------------------------------------------------------

export function commandName(code: number): string {
  const e = Object.entries(SMFIC).find(([, c]) => c === code);
  return e ? `SMFIC_${e[0]}` : '(unknown MTA event)';
}

export function replyName(code: number): string {
  if (code === SMFIC.OPTNEG) return 'SMFIC_OPTNEG';
  const e = Object.entries(SMFIR).find(([, c]) => c === code);
  return e ? `SMFIR_${e[0]}` : '(unknown filter reply)';
}
