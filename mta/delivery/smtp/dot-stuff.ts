/*
 * Message content to the DATA stream, pure and incremental (RFC 5321 §4.5.2): every line ends in
 * CRLF (a bare LF becomes CRLF, as Postfix's smtp writes records as lines), a leading "." is doubled,
 * and the end is "CRLF.CRLF" with the missing final line end supplied. Works on chunk boundaries
 * anywhere, holding at most one byte (a pending CR) between chunks.
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export class DotStuffer {
  private atLineStart = true;
  private pendingCr = false;

  push(chunk: Buffer): Buffer {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.pendingCr) {
        this.pendingCr = false;
        out.push(CR, LF);
        this.atLineStart = true;
        if (b === LF) continue;
      }
      if (b === CR) {
        this.pendingCr = true;
        continue;
      }
      if (b === LF) {
        out.push(CR, LF);
        this.atLineStart = true;
        continue;
      }
      if (this.atLineStart && b === DOT) out.push(DOT);
      this.atLineStart = false;
      out.push(b);
    }
    return Buffer.from(out);
  }

  /** The tail: a final CRLF if the content did not end with one, then ".CRLF". */
  end(): Buffer {
    const parts: number[] = [];
    if (this.pendingCr) {
      parts.push(CR, LF);
      this.atLineStart = true;
      this.pendingCr = false;
    }
    if (!this.atLineStart) parts.push(CR, LF);
    parts.push(DOT, CR, LF);
    return Buffer.from(parts);
  }
}

/** Whether the bytes contain anything outside 7-bit ASCII. */
export function has8bit(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(s);
}

/** RFC 3461 xtext: `+` and `=`, controls, space and non-ASCII as `+HH` (bytes of UTF-8). */
export function xtext(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    out += byte < 33 || byte > 126 || byte === 0x2b || byte === 0x3d ? `+${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}
