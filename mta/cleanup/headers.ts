/*
 * The message header block as cleanup sees it (pure): a bounded, 8-bit safe accumulator that turns
 * lines into logical header fields (RFC 5322 §2.2.3 folding: a line starting with SP/HTAB continues
 * the previous field), and the serializer back to wire lines.
 *
 * Follows Postfix's cleanup/mime_state: the header ends at the first empty line or at the first
 * line that is neither a field (`name:` with printable non-colon name characters) nor a
 * continuation; such a line is the first body line. A logical header longer than
 * header_size_limit keeps its first header_size_limit bytes (the excess is discarded, Postfix
 * MIME_ERR_TRUNC_HEADER). Distrusts the bytes: anything 8-bit is kept as bytes; only the name is
 * interpreted, and `text` (for header_checks) is a UTF-8 decoding with invalid sequences replaced.
 */

export interface HeaderField {
  /** Field name as written (case preserved). */
  readonly name: string;
  /** The whole field, folded lines joined with `\n`, without the final line end; bytes as received. */
  readonly raw: Buffer;
  /** True when the field was cut at header_size_limit. */
  readonly truncated: boolean;
}

/** Decoded text of a field for pattern matching (header_checks sees folded lines joined with `\n`). */
export function fieldText(f: HeaderField): string {
  return f.raw.toString('utf8');
}

/** The field body after `name:` with folding removed and surrounding white space trimmed. */
export function fieldValue(f: HeaderField): string {
  return fieldText(f).slice(f.name.length + 1).replace(/\r?\n(?=[ \t])/g, '').trim();
}

export function makeField(text: string | Buffer): HeaderField {
  const raw = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const name = fieldName(raw);
  if (name === undefined) throw new Error(`not a header field: ${raw.toString('latin1').slice(0, 40)}`);
  return { name, raw, truncated: false };
}

/** The name of a header field line, or undefined when the line does not start a field. */
export function fieldName(line: Uint8Array): string | undefined {
  let i = 0;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (c === 0x3a) break;
    // RFC 5322 ftext is %d33-57 / %d59-126; Postfix's is_header() also allows trailing blanks before ':'.
    if (c < 33 || c > 126) {
      let j = i;
      while (j < line.length && (line[j] === 0x20 || line[j] === 0x09)) j++;
      if (j < line.length && line[j] === 0x3a && i > 0) {
        i = j;
        break;
      }
      return undefined;
    }
  }
  if (i === 0 || i >= line.length) return undefined;
  return Buffer.from(line.subarray(0, i)).toString('latin1').trimEnd();
}

const isContinuation = (line: Uint8Array): boolean => line.length > 0 && (line[0] === 0x20 || line[0] === 0x09);

export type HeaderFeed =
  /** Consumed; maybe completed the previous field. */
  | { kind: 'more'; completed?: HeaderField }
  /** The header block ended; `completed` is the last field; `bodyLine` is the first body line when the block ended without an empty line. */
  | { kind: 'end'; completed?: HeaderField; bodyLine?: Buffer };

/**
 * Collects lines (without line ends) into fields. One pending field at a time is held, bounded by
 * `sizeLimit` bytes; nothing else is kept.
 */
export class HeaderAccumulator {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingName: string | undefined;
  private truncated = false;
  private ended = false;

  constructor(private readonly sizeLimit: number) {}

  get done(): boolean {
    return this.ended;
  }

  feed(line: Buffer): HeaderFeed {
    if (this.ended) throw new Error('header block already ended');
    if (line.length === 0) {
      this.ended = true;
      return { kind: 'end', completed: this.take() };
    }
    if (isContinuation(line) && this.pendingName !== undefined) {
      this.append(line, true);
      return { kind: 'more' };
    }
    const name = fieldName(line);
    if (name === undefined) {
      this.ended = true;
      return { kind: 'end', completed: this.take(), bodyLine: line };
    }
    const completed = this.take();
    this.pendingName = name;
    this.append(line, false);
    return { kind: 'more', completed };
  }

  /** End of input inside the header block (a message without body). */
  finish(): HeaderField | undefined {
    this.ended = true;
    return this.take();
  }

  private append(line: Buffer, continuation: boolean): void {
    const sep = continuation ? 1 : 0;
    const room = this.sizeLimit - this.pendingBytes - sep;
    if (room <= 0 || this.truncated) {
      this.truncated = true;
      return;
    }
    if (continuation) this.pending.push(NL);
    const part = line.length > room ? line.subarray(0, room) : line;
    if (part.length < line.length) this.truncated = true;
    // Copy: the caller's line buffer may be a view into a reused read buffer.
    this.pending.push(Buffer.from(part));
    this.pendingBytes += sep + part.length;
  }

  private take(): HeaderField | undefined {
    if (this.pendingName === undefined) return undefined;
    const f: HeaderField = { name: this.pendingName, raw: Buffer.concat(this.pending), truncated: this.truncated };
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingName = undefined;
    this.truncated = false;
    return f;
  }
}

const NL = Buffer.from('\n');
const CRLF = Buffer.from('\r\n');

/** Wire form of a field: each folded line ends in CRLF. */
export function serializeField(f: HeaderField): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= f.raw.length; i++) {
    if (i === f.raw.length || f.raw[i] === 0x0a) {
      let end = i;
      if (end > start && f.raw[end - 1] === 0x0d) end--;
      parts.push(f.raw.subarray(start, end), CRLF);
      start = i + 1;
    }
  }
  return Buffer.concat(parts);
}

/** Parses a whole header block given as text or bytes (tests and the bounce builder). */
export function parseHeaderBlock(data: Buffer | string, sizeLimit = 102400): { fields: HeaderField[]; bodyOffset: number } {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const acc = new HeaderAccumulator(sizeLimit);
  const fields: HeaderField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    let nl = buf.indexOf(0x0a, pos);
    const next = nl < 0 ? buf.length : nl + 1;
    if (nl < 0) nl = buf.length;
    const line = buf.subarray(pos, nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl);
    const r = acc.feed(line);
    if (r.completed) fields.push(r.completed);
    if (r.kind === 'end') return { fields, bodyOffset: r.bodyLine ? pos : next };
    pos = next;
  }
  const last = acc.finish();
  if (last) fields.push(last);
  return { fields, bodyOffset: buf.length };
}
