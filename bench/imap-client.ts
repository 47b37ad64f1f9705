/*
 * A small IMAP4rev1 client for the load generator and the idle-connection workload: tagged
 * commands, responses with literals ({n} at the end of a line, then n octets), LITERAL+ for APPEND,
 * IDLE with its continuation and DONE. Tracks EXISTS so the generator can pick valid sequence
 * numbers. Reports each command's latency (write to tagged response).
 */
import { LineSocket } from './reply-reader.js';

export interface ImapReply {
  readonly ok: boolean;
  readonly status: string;
  readonly untagged: readonly string[];
  readonly ms: number;
}

const LITERAL_AT_END = /\{(\d+)\+?\}$/;

export class ImapClient {
  exists = 0;
  private tagNo = 0;

  private constructor(private readonly c: LineSocket) {}

  static async open(port: number, host = '127.0.0.1'): Promise<ImapClient> {
    const c = await LineSocket.open({ port, host });
    const greeting = await c.line(30_000);
    if (!greeting.startsWith('* OK')) {
      c.close();
      throw new Error(`IMAP greeting: ${greeting}`);
    }
    return new ImapClient(c);
  }

  /** One logical response: a line plus any literals it announces, concatenated. */
  private async response(timeoutMs: number): Promise<string> {
    let text = await this.c.line(timeoutMs);
    for (;;) {
      const m = LITERAL_AT_END.exec(text);
      if (!m) return text;
      text += `\r\n${await this.c.bytes(Number(m[1]), timeoutMs)}`;
      text += await this.c.line(timeoutMs);
    }
  }

  private track(line: string): void {
    const m = /^\* (\d+) (EXISTS|EXPUNGE)/.exec(line);
    if (!m) return;
    if (m[2] === 'EXISTS') this.exists = Number(m[1]);
    else this.exists = Math.max(0, this.exists - 1);
  }

  /** Sends `command` (without tag and CRLF), plus an optional LITERAL+ literal appended to it. */
  async run(command: string, literal?: Buffer, timeoutMs = 120_000): Promise<ImapReply> {
    const tag = `b${++this.tagNo}`;
    const t0 = process.hrtime.bigint();
    if (literal !== undefined) {
      this.c.write(`${tag} ${command} {${literal.length}+}\r\n`);
      this.c.write(literal);
      this.c.write('\r\n');
    } else this.c.write(`${tag} ${command}\r\n`);
    const untagged: string[] = [];
    for (;;) {
      const r = await this.response(timeoutMs);
      if (r.startsWith(`${tag} `)) {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const status = r.slice(tag.length + 1);
        return { ok: status.startsWith('OK'), status, untagged, ms };
      }
      this.track(r);
      untagged.push(r);
    }
  }

  /** IDLE until the continuation; returns the ms it took. */
  async idle(timeoutMs = 120_000): Promise<number> {
    const tag = `b${++this.tagNo}`;
    this.idleTag = tag;
    const t0 = process.hrtime.bigint();
    this.c.write(`${tag} IDLE\r\n`);
    for (;;) {
      const r = await this.response(timeoutMs);
      if (r.startsWith('+')) return Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.startsWith(`${tag} `)) throw new Error(`IDLE refused: ${r}`);
      this.track(r);
    }
  }

  private idleTag = '';

  /** DONE after idle(); returns the ms until the tagged OK. */
  async done(timeoutMs = 120_000): Promise<number> {
    const t0 = process.hrtime.bigint();
    this.c.write('DONE\r\n');
    for (;;) {
      const r = await this.response(timeoutMs);
      if (r.startsWith(`${this.idleTag} `)) {
        if (!r.slice(this.idleTag.length + 1).startsWith('OK')) throw new Error(`IDLE ended: ${r}`);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      }
      this.track(r);
    }
  }

  async login(user: string, password: string): Promise<void> {
    const r = await this.run(`LOGIN "${user}" "${password}"`);
    if (!r.ok) throw new Error(`LOGIN ${user}: ${r.status}`);
  }

  close(): void {
    this.c.close();
  }
}
