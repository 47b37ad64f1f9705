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

export async function* contentLines(source: AsyncIterable<Uint8Array>, maxLine: number | (() => number)): AsyncGenerator<LineFragment> {
  const limit = typeof maxLine === 'number' ? () => maxLine : maxLine;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const take = (): Buffer => {
    const b = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return b;
  };
  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(0x0a, pos);
      const end = nl < 0 ? buf.length : nl;
      let piece = buf.subarray(pos, end);
      let max = limit();
      while (pendingBytes + piece.length > max) {
        const room = max - pendingBytes;
        pending.push(Buffer.from(piece.subarray(0, room)));
        pendingBytes += room;
        piece = piece.subarray(room);
        yield { data: take(), eol: false };
        max = limit();
      }
      if (piece.length > 0) {
        pending.push(Buffer.from(piece));
        pendingBytes += piece.length;
      }
      if (nl < 0) break;
      let line = take();
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      yield { data: line, eol: true };
      pos = nl + 1;
    }
  }
  if (pendingBytes > 0) yield { data: take(), eol: true, noNewline: true };
}

/** Any accepted content form as an async iterable of byte chunks. */
export async function* asChunks(content: AsyncIterable<Uint8Array> | Uint8Array): AsyncGenerator<Uint8Array> {
  if (content instanceof Uint8Array) {
    yield content;
    return;
  }
  for await (const c of content) yield typeof c === 'string' ? Buffer.from(c) : c;
}
