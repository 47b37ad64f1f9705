/*
 * Incremental parser of server replies for the SMTP client (RFC 5321 §4.2), pure and bounded.
 * A hostile server cannot make it hold more than a fixed amount of memory:
 *  - a line longer than `lineLimit` is cut there; the rest up to LF is discarded (Postfix's
 *    smtp_get with line_length_limit);
 *  - the kept text of a multiline reply stops growing at `textLimit` bytes (Postfix smtp_chat:
 *    further lines are read and dropped);
 *  - more than `maxLines` lines in one reply is reported as malformed (Postern: ends an endless
 *    multiline reply early instead of reading it until the stage timeout).
 * A line that does not start with three digits is malformed. The per-stage time limit is the
 * session's job (session.ts).
 */

export interface ServerReply {
  code: number;
  /** RFC 3463 code of the first line, when present. */
  enhanced?: string;
  /** Lines as received (with their `250-` prefixes), the kept ones only. */
  lines: string[];
}

export class ReplySyntaxError extends Error {
  override readonly name = 'ReplySyntaxError';
}

export interface ReplyLimits {
  lineLimit: number;
  textLimit: number;
  maxLines: number;
}

export const DEFAULT_REPLY_LIMITS: ReplyLimits = { lineLimit: 2048, textLimit: 2048, maxLines: 1000 };

const LINE = /^([2-5][0-9][0-9])(?:([ -])(.*))?$/s;
const ENHANCED = /^([245]\.[0-9]{1,3}\.[0-9]{1,3})(?: |$)/;

/** Reply in one line as Postfix shows it in reasons: lines joined with a space. */
export function replyString(r: ServerReply): string {
  return r.lines.join(' ');
}

/** The DSN status of a reply: its enhanced code, or X.0.0 from the reply code. */
export function replyDsn(r: ServerReply): string {
  return r.enhanced ?? `${Math.floor(r.code / 100)}.0.0`;
}

export class ReplyParser {
  private partial: Buffer[] = [];
  private partialLen = 0;
  private discarding = false;
  private current: { code: number; lines: string[]; textLen: number; count: number; enhanced?: string } | undefined;
  private readonly ready: ServerReply[] = [];

  constructor(private readonly limits: ReplyLimits = DEFAULT_REPLY_LIMITS) {}

  /** Feeds bytes; throws ReplySyntaxError on a malformed reply. */
  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(0x0a, start);
      const end = lf < 0 ? chunk.length : lf;
      if (!this.discarding) {
        const room = this.limits.lineLimit - this.partialLen;
        const piece = chunk.subarray(start, Math.min(end, start + Math.max(room, 0)));
        if (piece.length > 0) {
          this.partial.push(piece);
          this.partialLen += piece.length;
        }
        if (end - start > piece.length) this.discarding = true;
      }
      if (lf < 0) return;
      const line = Buffer.concat(this.partial).toString('utf8').replace(/\r$/, '');
      this.partial = [];
      this.partialLen = 0;
      this.discarding = false;
      this.line(line);
      start = lf + 1;
    }
  }

  /** Takes the next complete reply, if any. */
  shift(): ServerReply | undefined {
    return this.ready.shift();
  }

  /** Bytes held for a reply still incomplete (for STARTTLS: anything pipelined after 220 is suspect). */
  get pending(): boolean {
    return this.partialLen > 0 || this.current !== undefined || this.ready.length > 0;
  }

  private line(line: string): void {
    const m = LINE.exec(line);
    if (!m) throw new ReplySyntaxError(`malformed reply: ${line.slice(0, 100)}`);
    const code = Number(m[1]);
    const cur = this.current ?? { code, lines: [], textLen: 0, count: 0 };
    if (cur.count === 0) {
      const e = ENHANCED.exec(m[3] ?? '');
      if (e && e[1]![0] === m[1]![0]) cur.enhanced = e[1]!;
    }
    cur.count++;
    if (cur.count > this.limits.maxLines) throw new ReplySyntaxError(`reply has more than ${this.limits.maxLines} lines`);
    if (cur.textLen < this.limits.textLimit) {
      cur.lines.push(line);
      cur.textLen += line.length + 1;
    }
    if (m[2] === '-') {
      this.current = cur;
      return;
    }
    this.current = undefined;
    // The last line's code is the reply's code (RFC 5321 says they must agree).
    this.ready.push(cur.enhanced !== undefined ? { code, enhanced: cur.enhanced, lines: cur.lines } : { code, lines: cur.lines });
  }
}

/** EHLO keywords (upper-case) with their parameters, from a 250 reply; the first line is the greeting. */
export function parseEhlo(r: ServerReply): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of r.lines.slice(1)) {
    const text = line.slice(4).trim();
    const sp = text.search(/[\s=]/);
    const key = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
    if (key !== '') out.set(key, sp < 0 ? '' : text.slice(sp + 1).trim());
  }
  return out;
}
