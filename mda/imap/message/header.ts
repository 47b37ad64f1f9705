/*
 * Header block splitting as Dovecot's message-header-parser.c sees it: header lines end in LF (CR
 * optional), lines starting with SP/TAB continue the previous field, the block ends at the first
 * empty line (that line belongs to the header size). A line without a colon is still a "field" whose
 * name is the whole line; whitespace between the name and the colon is not part of the name.
 *
 * Works on byte strings (latin1: one char per byte) so 8-bit and NUL bytes survive. The parsed value
 * joins folded lines with LF, keeping their leading whitespace (Dovecot's full_value keeps the line
 * break, which is why a folded Subject comes out as a literal).
 * Distrusts: missing final newline, missing blank line (then the whole input is header), bare CR.
 */

export interface HeaderField {
  /** Name as written (without trailing whitespace). */
  readonly name: string;
  /** Value: text after the colon, continuation lines appended after an LF (CRs removed). */
  readonly value: string;
  /** The field's raw bytes including its line ends. */
  readonly raw: string;
}

export interface HeaderBlock {
  readonly fields: readonly HeaderField[];
  /** Byte length of the header including the blank line that ends it (if present). */
  readonly size: number;
  /** True if a blank line ended the header (else the input ran out). */
  readonly hasEnd: boolean;
}

/** What field lookups need: the fields' names and values (a HeaderBlock, or a cached header). */
export interface FieldList {
  readonly fields: readonly Pick<HeaderField, 'name' | 'value'>[];
}

/** Parses the header block of `msg` starting at `start` and ending no later than `end`. */
export function parseHeader(msg: string, start: number, end: number): HeaderBlock {
  const fields: { name: string; value: string; rawStart: number; rawEnd: number }[] = [];
  let pos = start;
  while (pos < end) {
    let lf = msg.indexOf('\n', pos);
    if (lf < 0 || lf >= end) lf = end - 1;
    const lineEnd = lf + 1;
    let text = msg.slice(pos, lf + (msg[lf] === '\n' ? 0 : 1));
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text === '' && msg[lf] === '\n') {
      return { fields: finish(msg, fields), size: lineEnd - start, hasEnd: true };
    }
    const c = text.charCodeAt(0);
    if ((c === 0x20 || c === 0x09) && fields.length > 0) {
      const f = fields[fields.length - 1]!;
      f.value += `\n${text}`;
      f.rawEnd = lineEnd;
    } else {
      const colon = text.indexOf(':');
      if (colon < 0) fields.push({ name: text, value: '', rawStart: pos, rawEnd: lineEnd });
      else fields.push({ name: text.slice(0, colon).replace(/[ \t]+$/, ''), value: text.slice(colon + 1), rawStart: pos, rawEnd: lineEnd });
    }
    pos = lineEnd;
  }
  return { fields: finish(msg, fields), size: end - start, hasEnd: false };
}

function finish(msg: string, fields: { name: string; value: string; rawStart: number; rawEnd: number }[]): HeaderField[] {
  // Dovecot shows a NUL in a header value as U+FFFD (UTF-8 bytes EF BF BD).
  return fields.map((f) => ({ name: f.name, value: f.value.replace(/^[ \t]+/, '').replace(/\0/g, '\xef\xbf\xbd'), raw: msg.slice(f.rawStart, f.rawEnd) }));
}

/** Value of the last field with this name (case-insensitive), as Dovecot's envelope keeps it. */
export function lastField<F extends FieldList>(h: F, name: string): F['fields'][number] | undefined {
  const lower = name.toLowerCase();
  for (let i = h.fields.length - 1; i >= 0; i--) if (h.fields[i]!.name.toLowerCase() === lower) return h.fields[i];
  return undefined;
}

/** Value of the first field with this name. */
export function firstField<F extends FieldList>(h: F, name: string): F['fields'][number] | undefined {
  const lower = name.toLowerCase();
  return h.fields.find((f) => f.name.toLowerCase() === lower);
}
