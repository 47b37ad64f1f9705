/*
 * The small pieces of RFC 822/2045 header syntax that the 8-bit → 7-bit converter needs, as
 * Postfix's global/is_header.c and global/header_token.c define them (so that odd input is read
 * the way real Postfix reads it): whether a line starts a header (`Name:` or the obsolete
 * `Name :`), and a tokenizer for header values that skips white space and (nested) comments,
 * unquotes quoted strings, returns specials and controls as one-character tokens, and keeps only
 * the first `max` tokens of an item. Pure; strings are latin1 (one char per byte).
 */

export type HeaderTokenType = 'token' | 'qstring' | string;

export interface HeaderToken {
  /** 'token', 'qstring', or the special/control character itself. */
  type: HeaderTokenType;
  value: string;
}

export interface TokenItem {
  /** Tokens stored (at most max); -1 when the input ended before any token. */
  count: number;
  tokens: HeaderToken[];
  /** Position after the item (after the terminator when one ended it). */
  next: number;
}

export const RFC822_SPECIALS = '()<>@,;:\\".[]';
export const RFC2045_TSPECIALS = '()<>@,;:\\"/[]?=';

const isLwsp = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isCntrl = (c: string): boolean => {
  const n = c.charCodeAt(0);
  return n < 32 || n === 127;
};

/**
 * is_header(): the length of the header label when `line` starts a header (a run of printable
 * ASCII other than space and colon, optional blanks, then a colon), else 0.
 */
export function headerLabelLength(line: string): number {
  let len = 0;
  let state: 'init' | 'char' | 'space' = 'init';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    const n = c.charCodeAt(0);
    if (c === ':') return state === 'init' ? 0 : len;
    if (c === ' ' || c === '\t') {
      if (state === 'init') return 0;
      state = 'space';
      continue;
    }
    if (n === 0 || n > 127 || isCntrl(c) || state === 'space') return 0;
    state = 'char';
    len++;
  }
  return 0;
}

/** header_token(): one item of a header value starting at `pos` (a NUL ends the input). */
export function headerToken(text: string, pos: number, max: number, specials: string = RFC822_SPECIALS, terminator = ''): TokenItem {
  const tokens: HeaderToken[] = [];
  let count = 0;
  let i = pos;
  const end = text.indexOf('\0', pos) >= 0 ? text.indexOf('\0', pos) : text.length;
  let stoppedAtEnd = true;
  while (i < end && (terminator !== '' || count < max)) {
    const ch = text[i++]!;
    if (isLwsp(ch)) continue;
    if (terminator !== '' && ch === terminator) {
      stoppedAtEnd = false;
      break;
    }
    if (ch === '(') {
      let level = 1;
      while (i < end) {
        const c = text[i++]!;
        if (c === '(') level++;
        else if (c === ')') {
          if (--level === 0) break;
        } else if (c === '\\') {
          if (i >= end) break;
          i++;
        }
      }
      continue;
    }
    if (ch === '"') {
      let v = '';
      while (i < end) {
        let c = text[i++]!;
        if (c === '"') break;
        if (c === '\n') {
          v = v.replace(/[ \t\n\r]+$/, '');
          continue;
        }
        if (c === '\\') {
          if (i >= end) break;
          c = text[i++]!;
        }
        v += c;
      }
      if (count < max) {
        tokens.push({ type: 'qstring', value: v });
        count++;
      }
      continue;
    }
    if (specials.includes(ch) || isCntrl(ch)) {
      if (count < max) {
        tokens.push({ type: ch, value: ch });
        count++;
      }
      continue;
    }
    let v = ch;
    while (i < end) {
      const c = text[i]!;
      if (isLwsp(c) || isCntrl(c) || specials.includes(c)) break;
      v += c;
      i++;
    }
    if (count < max) {
      tokens.push({ type: 'token', value: v });
      count++;
    }
  }
  if (i < end) stoppedAtEnd = false;
  if (count === 0 && stoppedAtEnd) return { count: -1, tokens, next: i };
  return { count, tokens, next: i };
}
