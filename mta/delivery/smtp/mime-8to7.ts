/*
 * 8-bit → 7-bit MIME downgrade for a server without 8BITMIME, as Postfix's smtp(8) does with
 * global/mime_state.c in MIME_OPT_DOWNGRADE mode (disable_mime_output_conversion = no):
 *  - headers are collected with their folding and written back unchanged (folding kept), except
 *    that the obsolete `Name :` becomes `Name:`;
 *  - a Content-Transfer-Encoding of 8bit or binary is dropped and, at the end of that header
 *    block, replaced by `quoted-printable` for a leaf part or `7bit` for message/* and multipart/*;
 *    the body of a converted leaf part is quoted-printable encoded (soft breaks after 73 output
 *    characters, `=`, controls other than TAB and 8-bit bytes as =XX, trailing blanks as =20/=09);
 *  - 7bit, quoted-printable and base64 parts, parts without a Content-Transfer-Encoding, and
 *    8-bit bytes in headers pass as they are (a non-MIME 8-bit message is sent as is);
 *  - multipart boundaries are tracked on a stack (every `boundary=` parameter counts, as in
 *    Postfix), message/rfc822 bodies start a nested header block, multipart/digest parts
 *    default to message/rfc822; a header block ended by a non-header line gets a blank line.
 * Input is read in Postfix's record form: lines split at LF (a CR before it dropped) and lines
 * longer than line_length_limit cut into continuation records, which is what bounds memory: one
 * record, one header of at most header_size_limit (+ one record), at most mime_nesting_limit
 * boundaries of mime_boundary_length_limit bytes. Deeper nesting is a hard error (Postfix bounces
 * the message with 5.6.0). Output lines end in CRLF; dot-stuffing is left to dot-stuff.ts.
 * Pure and incremental: push() chunks, then end().
 */
import { headerLabelLength, headerToken, RFC2045_TSPECIALS } from './mime-tokens.js';

export interface MimeLimits {
  /** line_length_limit: record size of the input. */
  lineLimit: number;
  /** header_size_limit: text beyond it is dropped from a header. */
  headerLimit: number;
  /** mime_boundary_length_limit: stored boundary prefix. */
  boundaryLimit: number;
  /** mime_nesting_limit: multipart depth. */
  nestingLimit: number;
}

export const POSTFIX_MIME_LIMITS: MimeLimits = { lineLimit: 2048, headerLimit: 102400, boundaryLimit: 2048, nestingLimit: 100 };

/** A hard MIME error: the message cannot be converted (Postfix: mesg_fail with this DSN). */
export class MimeDowngradeError extends Error {
  constructor(readonly dsn: string, message: string) {
    super(message);
  }
}

type State = 'primary' | 'multipart' | 'nested' | 'body';
type Ctype = 'other' | 'text' | 'message' | 'multipart';
type Stype = 'other' | 'plain' | 'rfc822' | 'partial' | 'external-body';
type Domain = '7bit' | '8bit' | 'binary';
/** N: a record ending a line; C: part of a longer line; X: end of input. */
type Rec = 'N' | 'C' | 'X';

interface Frame {
  defCtype: Ctype;
  defStype: Stype;
  boundary: string;
}

const ENCODINGS: Record<string, Domain> = { '7bit': '7bit', '8bit': '8bit', binary: 'binary', base64: '7bit', 'quoted-printable': '7bit' };
const HEX = '0123456789ABCDEF';

export class Mime8to7 {
  private state: State = 'primary';
  private ctype: Ctype = 'text';
  private stype: Stype = 'plain';
  private domain: Domain = '7bit';
  private header = '';
  private qp = '';
  private prev: Rec | '' = '';
  private stack: Frame[] = [];
  private line = '';
  private out: string[] = [];

  constructor(private readonly limits: MimeLimits = POSTFIX_MIME_LIMITS) {}

  push(chunk: Buffer): Buffer {
    const s = chunk.toString('latin1');
    let pos = 0;
    while (pos < s.length) {
      const nl = s.indexOf('\n', pos);
      const stop = nl < 0 ? s.length : nl;
      // Fill the record up to the limit; a full record without its LF is a continuation.
      while (pos < stop) {
        const take = Math.min(stop - pos, this.limits.lineLimit - this.line.length);
        this.line += s.slice(pos, pos + take);
        pos += take;
        if (this.line.length >= this.limits.lineLimit && pos < stop) this.flushRecord('C');
      }
      if (nl < 0) break;
      pos = nl + 1;
      if (this.line.length >= this.limits.lineLimit && !this.line.endsWith('\r')) {
        // vstring_get_bound: the limit was reached before the LF, which then ends an empty record
        // (a CR just before the LF still belongs to the line end).
        this.flushRecord('C');
      }
      if (this.line.endsWith('\r')) this.line = this.line.slice(0, -1);
      this.flushRecord('N');
    }
    return this.take();
  }

  end(): Buffer {
    if (this.line.length > 0) {
      if (this.line.endsWith('\r')) this.line = this.line.slice(0, -1);
      this.flushRecord('N');
    }
    this.update('X', '');
    return this.take();
  }

  private flushRecord(rec: Rec): void {
    const text = this.line;
    this.line = '';
    this.update(rec, text);
  }

  private take(): Buffer {
    const b = Buffer.from(this.out.join(''), 'latin1');
    this.out = [];
    return b;
  }

  private bodyOut(rec: Rec, text: string): void {
    this.out.push(rec === 'N' ? `${text}\r\n` : text);
  }

  private headOut(h: string): void {
    for (const l of h.split('\n')) this.out.push(`${l}\r\n`);
  }

  private set(state: State, ctype: Ctype, stype: Stype): void {
    this.state = state;
    this.ctype = ctype;
    this.stype = stype;
    this.domain = '7bit';
  }

  private update(rec: Rec, text: string): void {
    const isText = rec !== 'X';
    if (!isText && this.prev === 'C') this.update('N', '');
    if (this.state !== 'body') {
      if (this.header.length > 0) {
        if (isText) {
          if (this.prev === 'C' || text.startsWith(' ') || text.startsWith('\t')) {
            if (this.header.length < this.limits.headerLimit) this.header += this.prev === 'C' ? text : `\n${text}`;
            this.prev = rec;
            return;
          }
        }
        this.flushHeader();
      }
      if (isText) {
        const n = headerLabelLength(text);
        if (n > 0) {
          this.header = text.slice(0, n) + text.slice(n).replace(/^[ \t]+/, '');
          this.prev = rec;
          return;
        }
      }
      // The end of a header block: the place for the replacement Content-Transfer-Encoding.
      if (this.domain !== '7bit') {
        this.headOut(`Content-Transfer-Encoding: ${this.ctype === 'message' || this.ctype === 'multipart' ? '7bit' : 'quoted-printable'}`);
      }
      if (isText) {
        if (text === '') {
          if (this.ctype === 'message') {
            if (this.stype === 'rfc822') this.set('nested', 'text', 'plain');
            else this.state = 'body';
          } else if (this.ctype === 'multipart') {
            this.set('body', 'other', 'other');
          } else {
            this.state = 'body';
          }
        } else {
          this.state = 'body';
          this.bodyOut('N', '');
        }
      } else {
        this.state = 'body';
      }
    }
    // Body text (also the line that ended a header block, as in mime_state.c's fall-through).
    if (isText) {
      if (this.stack.length > 0 && this.prev !== 'C' && text.startsWith('--')) {
        for (let i = this.stack.length - 1; i >= 0; i--) {
          const f = this.stack[i]!;
          if (!text.startsWith(f.boundary, 2)) continue;
          this.stack.length = i + 1;
          if (text.startsWith('--', 2 + f.boundary.length)) {
            this.stack.pop();
            this.set('body', 'other', 'other');
          } else {
            this.set('multipart', f.defCtype, f.defStype);
          }
          break;
        }
      }
      if (this.domain !== '7bit') this.downgrade(rec, text);
      else this.bodyOut(rec, text);
    }
    this.prev = rec;
  }

  private flushHeader(): void {
    const h = this.header;
    this.header = '';
    this.prev = '';
    const name = h.slice(0, h.indexOf(':')).replace(/[ \t]+$/, '').toLowerCase();
    const value = h.slice(h.indexOf(':') + 1);
    if (name === 'content-type') this.contentType(value);
    if (name === 'content-transfer-encoding') {
      const t = headerToken(value, 0, 1);
      if (t.count > 0 && t.tokens[0]!.type === 'token') {
        const d = ENCODINGS[t.tokens[0]!.value.toLowerCase()];
        if (d !== undefined) this.domain = d;
      }
      if (this.domain !== '7bit') return;
    }
    this.headOut(h);
  }

  private contentType(value: string): void {
    let item = headerToken(value, 0, 3, RFC2045_TSPECIALS, ';');
    if (item.count <= 0) return;
    const tok = item.tokens;
    const is = (k: number, v: string): boolean => tok[k]?.type === 'token' && tok[k]!.value.toLowerCase() === v;
    const sub = (v: string): boolean => item.count >= 3 && tok[1]!.type === '/' && is(2, v);
    if (is(0, 'text')) {
      this.ctype = 'text';
      this.stype = sub('plain') ? 'plain' : 'other';
    } else if (is(0, 'message')) {
      this.ctype = 'message';
      this.stype = sub('rfc822') ? 'rfc822' : sub('partial') ? 'partial' : sub('external-body') ? 'external-body' : 'other';
    } else if (is(0, 'multipart')) {
      this.ctype = 'multipart';
      const digest = sub('digest');
      let pos = item.next;
      for (;;) {
        item = headerToken(value, pos, 3, RFC2045_TSPECIALS, ';');
        if (item.count < 0) break;
        pos = item.next;
        const t = item.tokens;
        if (item.count >= 3 && t[0]!.type === 'token' && t[0]!.value.toLowerCase() === 'boundary' && t[1]!.type === '=') {
          if (this.stack.length > this.limits.nestingLimit) throw new MimeDowngradeError('5.6.0', 'MIME nesting exceeds safety limit');
          this.stack.push({ defCtype: digest ? 'message' : 'text', defStype: digest ? 'rfc822' : 'plain', boundary: t[2]!.value.slice(0, this.limits.boundaryLimit) });
        }
      }
    } else {
      this.ctype = 'other';
    }
  }

  /** mime_state_downgrade(): quoted-printable with soft breaks, trailing blanks made visible. */
  private downgrade(rec: Rec, text: string): void {
    for (let i = 0; i < text.length; i++) {
      if (this.qp.length > 72) {
        this.bodyOut('N', `${this.qp}=`);
        this.qp = '';
      }
      const c = text.charCodeAt(i);
      this.qp += (c < 32 && c !== 9) || c === 61 || c > 126 ? `=${HEX[c >> 4]}${HEX[c & 15]}` : text[i];
    }
    if (rec === 'N') {
      const last = this.qp[this.qp.length - 1];
      if (last === ' ' || last === '\t') this.qp = `${this.qp.slice(0, -1)}=${last === ' ' ? '20' : '09'}`;
      this.bodyOut('N', this.qp);
      this.qp = '';
    }
  }
}
