/*
 * IMAP response formatting with Dovecot 2.3's choices (imap-quote.c, imap-client.c):
 *  - nstring: quoted unless the value holds CR, LF, an 8-bit byte or more than 4 quoted-specials
 *    (`"` or `\`), then a literal `{n}\r\n…`; NULL is NIL;
 *  - astring: a bare atom when every byte is an ATOM-CHAR (or `]`) and it is not "NIL" nor empty;
 *  - "string for humans" (Subject, address display names): whitespace runs and line breaks folded
 *    to one space, leading/trailing space trimmed, NUL shown as 0x80, quoted if nothing had to be
 *    changed, literal otherwise;
 *  - tagged/untagged/continuation lines and `[CODE args]` response codes;
 *  - the post-login timing suffix: a final "." of the text moves after ` (x + y secs)`.
 *
 * Values are byte strings: JavaScript strings whose char codes are bytes (latin1), so 8-bit data and
 * literals stay byte-exact; `toBytes` turns one into a Buffer for the socket.
 */
import type { ImapArg } from './values.js';

/** A string whose char codes are all 0..255, one per byte. */
export type ByteString = string;

export const toBytes = (s: ByteString): Buffer => Buffer.from(s, 'latin1');
export const fromBytes = (b: Buffer): ByteString => b.toString('latin1');

const QUOTED_MAX_ESCAPE_CHARS = 4;

function literal(s: ByteString): ByteString {
  return `{${s.length}}\r\n${s}`;
}

/** Dovecot imap_append_quoted: drops CR, LF and 8-bit bytes, escapes `"` and `\`. */
export function formatQuoted(s: ByteString): ByteString {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 13 || c === 10 || c >= 0x80) continue;
    if (c === 0x22 || c === 0x5c) out += '\\';
    out += s[i];
  }
  return `${out}"`;
}

/** Dovecot imap_append_nstring. */
export function formatNstring(s: ByteString | null | undefined): ByteString {
  if (s === null || s === undefined) return 'NIL';
  let escapes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) {
      if (escapes++ < QUOTED_MAX_ESCAPE_CHARS) continue;
      return literal(s);
    }
    if (c === 13 || c === 10 || c >= 0x80) return literal(s);
  }
  return formatQuoted(s);
}

export const formatString = (s: ByteString): ByteString => formatNstring(s);

/** Dovecot imap_append_nstring_nolf: CR and LF removed first. */
export function formatNstringNoLf(s: ByteString | null | undefined): ByteString {
  if (s === null || s === undefined) return 'NIL';
  return formatNstring(s.replace(/[\r\n]/g, ''));
}

function isAstringChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x22 && c !== 0x5c && c !== 0x25 && c !== 0x2a;
}

/** Dovecot imap_append_astring. */
export function formatAstring(s: ByteString): ByteString {
  for (let i = 0; i < s.length; i++) if (!isAstringChar(s.charCodeAt(i))) return formatString(s);
  if (s.length === 0 || s.toUpperCase() === 'NIL') return formatString(s);
  return s;
}

/** Dovecot imap_append_string_for_humans. */
export function formatStringForHumans(src: ByteString): ByteString {
  let removeCount = 0;
  let whitespacePrefix = true;
  let lastLwsp = true;
  let modify = false;
  const size = src.length;
  for (let i = 0; i < size; i++) {
    const c = src.charCodeAt(i);
    switch (c) {
      case 0:
        lastLwsp = false;
        modify = true;
        break;
      case 9:
      case 32:
        if (c === 9) modify = true;
        if (lastLwsp) {
          modify = true;
          removeCount++;
        }
        lastLwsp = true;
        break;
      case 13:
      case 10:
        removeCount++;
        modify = true;
        break;
      case 0x22:
      case 0x5c:
        modify = true;
        lastLwsp = false;
        break;
      default:
        if (c & 0x80) modify = true;
        lastLwsp = false;
    }
    if (!lastLwsp) whitespacePrefix = false;
  }
  if (lastLwsp && size > 0 && !whitespacePrefix) {
    modify = true;
    removeCount++;
  }
  if (!modify) return `"${src}"`;
  if (size === removeCount) return '""';
  let out = '';
  lastLwsp = true;
  whitespacePrefix = true;
  for (let i = 0; i < size; i++) {
    const c = src.charCodeAt(i);
    switch (c) {
      case 0:
        out += '\x80';
        lastLwsp = false;
        break;
      case 9:
      case 32:
        if (!lastLwsp) out += ' ';
        lastLwsp = true;
        break;
      case 13:
      case 10:
        break;
      default:
        lastLwsp = false;
        out += src[i];
    }
    if (!lastLwsp) whitespacePrefix = false;
  }
  if (lastLwsp && size > 0 && !whitespacePrefix) out = out.slice(0, -1);
  return literal(out);
}

/** A parenthesised list of already formatted items. */
export function formatList(items: readonly ByteString[]): ByteString {
  return `(${items.join(' ')})`;
}

/** Re-serialises a parsed argument (atoms as is, strings by Dovecot's quoting rules). */
export function formatArg(arg: ImapArg): ByteString {
  switch (arg.type) {
    case 'atom':
      return arg.value;
    case 'nil':
      return 'NIL';
    case 'quoted':
    case 'literal':
      return formatString(fromBytes(arg.bytes));
    case 'list':
      return formatList(arg.items.map(formatArg));
  }
}

export type ImapStatus = 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH';

export interface ResponseCode {
  readonly name: string;
  readonly args?: ByteString;
}

function codeText(code: ResponseCode | undefined): string {
  if (!code) return '';
  return code.args === undefined || code.args === '' ? `[${code.name}] ` : `[${code.name} ${code.args}] `;
}

/** `<tag> OK [CODE] text\r\n`. */
export function taggedResponse(tag: string, status: 'OK' | 'NO' | 'BAD', text: string, code?: ResponseCode): ByteString {
  return `${tag} ${status} ${codeText(code)}${text}\r\n`;
}

/** `* OK [CODE] text\r\n` (status responses) or `* <data>\r\n` when status is undefined. */
export function untaggedResponse(status: ImapStatus | undefined, text: ByteString, code?: ResponseCode): ByteString {
  return status === undefined ? `* ${text}\r\n` : `* ${status} ${codeText(code)}${text}\r\n`;
}

/** `+ text\r\n` (`+ OK` for a synchronising literal, `+ idling` for IDLE, `+ ` for SASL). */
export function continuationResponse(text: string): ByteString {
  return `+ ${text}\r\n`;
}

/**
 * Dovecot's post-login timing suffix: "Fetch completed." → "Fetch completed (0.001 + 0.000 secs)."
 * `timing` is the inner text, e.g. "0.001 + 0.000 secs".
 */
export function withTiming(text: string, timing: string): string {
  const base = text.endsWith('.') ? text.slice(0, -1) : text;
  return `${base} (${timing}).`;
}
