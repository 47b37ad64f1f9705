/*
 * Message content to DATA wire form (pure, streaming): every line ends in CRLF (bare LF and bare CR
 * line ends become CRLF, as Postfix writes queue-file records back out), a line starting with "."
 * gets another "." (RFC 5321 §4.5.2), and the end is marked with CRLF "." CRLF. The state carries
 * across chunk boundaries so a chunk may end anywhere, even between CR and LF.
 */

export class DotStuffer {
  private atLineStart = true;
  private pendingCr = false;
  private sawAny = false;

  /** Converts one chunk; the output may be empty. */
  push(chunk: Buffer): Buffer {
    const out: number[] = [];
    for (const b of chunk) {
      this.sawAny = true;
      if (this.pendingCr) {
        this.pendingCr = false;
        out.push(13, 10);
        this.atLineStart = true;
        if (b === 10) continue;
      }
      if (b === 13) {
        this.pendingCr = true;
        continue;
      }
      if (b === 10) {
        out.push(13, 10);
        this.atLineStart = true;
        continue;
      }
      if (this.atLineStart && b === 46) out.push(46);
      this.atLineStart = false;
      out.push(b);
    }
    return Buffer.from(out);
  }

  /** The rest: a final line ending if the content lacked one, then the terminator. */
  end(): Buffer {
    const parts: string[] = [];
    if (this.pendingCr) {
      parts.push('\r\n');
      this.atLineStart = true;
    }
    if (this.sawAny && !this.atLineStart) parts.push('\r\n');
    parts.push('.\r\n');
    return Buffer.from(parts.join(''), 'latin1');
  }
}
