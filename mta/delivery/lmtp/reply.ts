/*
 * SMTP/LMTP server replies as the client reads them (pure): one reply from its lines
 * (RFC 5321 §4.2: `ddd-text` continuations, `ddd text` last), the RFC 3463 enhanced status code
 * (RFC 2034), and the DSN status Postfix derives when the server gives none (2.0.0/4.0.0/5.0.0).
 * Distrusts the server: a line that is not `ddd[ -]` is a protocol error, replies are bounded.
 */

export interface ServerReply {
  code: number;
  /** RFC 3463 status if the first line carries one. */
  enhanced?: string;
  /** The lines as received, without CRLF. */
  lines: string[];
}

export class ReplySyntaxError extends Error {
  override readonly name = 'ReplySyntaxError';
}

const LINE = /^([2-5]\d\d)([ -])(.*)$/s;
const ENH = /^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)/;

/** Accumulates reply lines; returns a reply once the last line arrives. */
export class ReplyParser {
  private lines: string[] = [];
  /** Returns a complete reply, or undefined when more lines are needed. */
  push(line: string): ServerReply | undefined {
    const m = LINE.exec(line) ?? (/^[2-5]\d\d$/.test(line) ? [line, line, ' ', ''] as const : undefined);
    if (!m) throw new ReplySyntaxError(`malformed reply line: ${line.slice(0, 80)}`);
    this.lines.push(line);
    if (this.lines.length > 100) throw new ReplySyntaxError('reply has too many lines');
    if (m[2] === '-') return undefined;
    const lines = this.lines;
    this.lines = [];
    const code = Number(m[1]);
    const first = lines[0]!.slice(4);
    const e = ENH.exec(first);
    return e && e[1] === String(code)[0] ? { code, enhanced: `${e[1]}.${e[2]}.${e[3]}`, lines } : { code, lines };
  }
}

/** The DSN status of a reply: its enhanced code, else X.0.0 from the reply class. */
export function dsnOf(r: ServerReply): string {
  return r.enhanced ?? `${String(r.code)[0]}.0.0`;
}

/**
 * The reply as one line the way Postfix quotes it in logs and bounces: the first line's code and
 * text, continuation texts appended with a space (codes and repeated enhanced codes dropped).
 */
export function replyOneLine(r: ServerReply): string {
  const texts = r.lines.map((l, i) => {
    let t = l.slice(4);
    if (i > 0 && r.enhanced && t.startsWith(r.enhanced + ' ')) t = t.slice(r.enhanced.length + 1);
    return t;
  });
  const head = `${r.code} ${texts[0] ?? ''}`.trimEnd();
  return [head, ...texts.slice(1)].join(' ');
}
