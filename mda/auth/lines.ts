/*
 * A bounded LF line splitter for auth sockets: bytes in, complete lines out (without LF; a CR
 * before it is kept, as Dovecot's istream does not strip it here). A line longer than the limit
 * is an error: Dovecot logs "BUG: … sent too long line" and disconnects. Pure.
 */
export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
  constructor(readonly limit: number) {
    super(`line longer than ${limit} bytes`);
  }
}

export class LineBuffer {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly maxLine: number) {}

  /** Adds a chunk and returns the complete lines in it, UTF-8 decoded. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (this.size + piece.length > this.maxLine) throw new LineTooLongError(this.maxLine);
      const line = this.parts.length === 0 ? piece : Buffer.concat([...this.parts, piece]);
      this.parts = [];
      this.size = 0;
      out.push(line.toString('utf8'));
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      this.size += rest.length;
      if (this.size > this.maxLine) throw new LineTooLongError(this.maxLine);
      this.parts.push(Buffer.from(rest));
    }
    return out;
  }
}
