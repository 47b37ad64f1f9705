/*
 * Splits message content into lines without holding more than one bounded line: a line longer
 * than `max` bytes comes out as several fragments (Postfix's REC_TYPE_CONT records for lines over
 * line_length_limit), the last with `eol: true`. Line ends (LF or CRLF) are removed; a bare CR
 * inside a line is kept as data. A final line without a line end is still delivered (eol: true,
 * `noNewline`).
 */

export interface LineFragment {
  data: Buffer;
  /** The fragment ends its line. */
  eol: boolean;
  /** The input ended without a line end after this fragment. */
  noNewline?: boolean;
}

/**
 * The splitter, fed chunk by chunk: push() yields the fragments a chunk completes, end() the last
 * line without a line end. Synchronous, so a caller iterating a chunk's lines pays no promise per
 * line (an async generator per line was 3.6 % of the MTA's CPU under smtp-source load). `maxLine`
 * is asked again for each fragment, after the caller has handled the previous one (cleanup's
 * bound changes at the end of the header).
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly limit: () => number;

  constructor(maxLine: number | (() => number)) {
    this.limit = typeof maxLine === 'number' ? () => maxLine : maxLine;
  }

  private take(): Buffer {
    const b = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return b;
  }

  *push(chunk: Uint8Array): Generator<LineFragment> {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(0x0a, pos);
      const end = nl < 0 ? buf.length : nl;
      let piece = buf.subarray(pos, end);
      let max = this.limit();
      while (this.pendingBytes + piece.length > max) {
        const room = max - this.pendingBytes;
        this.pending.push(Buffer.from(piece.subarray(0, room)));
        this.pendingBytes += room;
        piece = piece.subarray(room);
        yield { data: this.take(), eol: false };
        max = this.limit();
      }
      if (piece.length > 0) {
        this.pending.push(Buffer.from(piece));
        this.pendingBytes += piece.length;
      }
      if (nl < 0) break;
      let line = this.take();
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      yield { data: line, eol: true };
      pos = nl + 1;
    }
  }

  *end(): Generator<LineFragment> {
    if (this.pendingBytes > 0) yield { data: this.take(), eol: true, noNewline: true };
  }
}

/** Any accepted content form as an async iterable of byte chunks. */
export async function* asChunks(content: AsyncIterable<Uint8Array> | Uint8Array): AsyncGenerator<Uint8Array> {
  if (content instanceof Uint8Array) {
    yield content;
    return;
  }
  for await (const c of content) yield typeof c === 'string' ? Buffer.from(c) : c;
}
