/*
 * The small RFC 5322/2045 lexer that Content-* and address parsing are built on, following Dovecot's
 * rfc822-parser.c: LWSP and (nested, escaped) comments are skipped between tokens; an atom stops at
 * specials; a MIME token (RFC 2045) also allows `.` but not tspecials; quoted strings lose their
 * quotes and backslashes and their CR/LF.
 * Distrusts: unterminated comments/quotes (end of input ends them), 8-bit bytes (kept as bytes).
 */

export class Rfc822Lexer {
  pos = 0;
  /** Text of the last comment skipped by skipLwsp (address display-name fallback). */
  lastComment: string | undefined;
  constructor(readonly s: string) {}

  get done(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): string {
    return this.s[this.pos] ?? '';
  }

  /** Skips whitespace, line breaks and comments. Returns false if a comment is unterminated. */
  skipLwsp(): boolean {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
        this.pos++;
      } else if (c === '(') {
        const t = this.readComment();
        if (t === undefined) return false;
        this.lastComment = t;
      } else break;
    }
    return true;
  }

  /** Skips one comment starting at `(`; returns its text (for address display-name fallback). */
  skipComment(): boolean {
    return this.readComment() !== undefined;
  }

  readComment(): string | undefined {
    const s = this.s;
    let depth = 0;
    const start = this.pos + 1;
    for (; this.pos < s.length; this.pos++) {
      const c = s[this.pos];
      if (c === '(') depth++;
      else if (c === ')') {
        depth--;
        if (depth === 0) {
          this.pos++;
          return s.slice(start, this.pos - 1);
        }
      } else if (c === '\\') this.pos++;
    }
    return undefined;
  }

  /** RFC 5322 atext run. */
  readAtom(): string {
    const start = this.pos;
    while (this.pos < this.s.length && isAtext(this.s.charCodeAt(this.pos))) this.pos++;
    return this.s.slice(start, this.pos);
  }

  /** RFC 2045 token: any CHAR except SPACE, CTLs and tspecials; 8-bit allowed as Dovecot does. */
  readMimeToken(): string {
    const start = this.pos;
    while (this.pos < this.s.length && isMimeTokenChar(this.s.charCodeAt(this.pos))) this.pos++;
    return this.s.slice(start, this.pos);
  }

  /** Quoted string at `"`; undefined if unterminated (the rest is consumed). */
  readQuoted(): string | undefined {
    const s = this.s;
    let out = '';
    this.pos++;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\' && this.pos + 1 < s.length) {
        this.pos++;
        out += s[this.pos];
      } else if (c !== '\r' && c !== '\n') out += c;
      this.pos++;
    }
    return undefined;
  }
}

export function isAtext(c: number): boolean {
  if (c >= 0x80) return true;
  if (c <= 0x20 || c === 0x7f) return false;
  return !'()<>[]:;@\\,."'.includes(String.fromCharCode(c));
}

export function isMimeTokenChar(c: number): boolean {
  if (c >= 0x80) return true;
  if (c <= 0x20 || c === 0x7f) return false;
  return !'()<>@,;:\\"/[]?='.includes(String.fromCharCode(c));
}

/**
 * The position after the whitespace, line breaks and (nested, escaped) comments at `pos`, the way
 * Dovecot's message-date.c and message-id.c skip CFWS: an unterminated comment runs to the end.
 */
export function skipCfws(s: string, pos: number): number {
  for (;;) {
    const c = s[pos];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') pos++;
    else if (c === '(') {
      let depth = 0;
      while (pos < s.length) {
        const d = s[pos++];
        if (d === '\\') pos++;
        else if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
      }
    } else return pos;
  }
}

/** The end of the RFC 5322 atext run starting at `pos`. */
export function atextEnd(s: string, pos: number): number {
  while (pos < s.length && isAtext(s.charCodeAt(pos))) pos++;
  return pos;
}
