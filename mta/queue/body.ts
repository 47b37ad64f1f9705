/*
 * Message content as stored segments (pure).
 *
 * cleanup receives DATA as many small chunks; joining them into one 10 MB buffer before storing
 * would hold the message twice. Instead the chunks are regrouped lazily into segments of at most
 * SEGMENT_SIZE bytes: chunks larger than a segment are sliced without copying, runs of small
 * chunks are joined one segment at a time. Readers stream the segments back the same way.
 */

export const SEGMENT_SIZE = 256 * 1024;

export type BodyInput = Uint8Array | readonly Uint8Array[];

export function bodyChunks(body: BodyInput): readonly Uint8Array[] {
  return body instanceof Uint8Array ? [body] : body;
}

export function bodySize(body: BodyInput): number {
  let n = 0;
  for (const c of bodyChunks(body)) n += c.byteLength;
  return n;
}

/** Yields segments of at most `size` bytes (the last may be shorter); nothing for an empty body. */
export function* segments(body: BodyInput, size = SEGMENT_SIZE): Generator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = (): Uint8Array => {
    const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return out;
  };
  for (const chunk of bodyChunks(body)) {
    let off = 0;
    while (off < chunk.byteLength) {
      const take = Math.min(size - pendingBytes, chunk.byteLength - off);
      pending.push(chunk.subarray(off, off + take));
      pendingBytes += take;
      off += take;
      if (pendingBytes === size) yield flush();
    }
  }
  if (pendingBytes > 0) yield flush();
}
