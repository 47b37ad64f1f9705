/*
 * Text as SEARCH compares it (RFC 3501 §6.4.4, RFC 5255 i;unicode-casemap): header values with
 * RFC 2047 encoded-words decoded (B and Q, any charset TextDecoder knows; adjacent encoded-words
 * joined without the whitespace between them), bodies transfer-decoded and converted from their
 * charset, everything unfolded and case-mapped with Dovecot's i;unicode-casemap (titlecase, then
 * one level of decomposition: sort/casemap.ts), so `CAFÉ` = `café` and "cafe" is a substring of
 * "café" (E + U+0301), as Dovecot answers.
 * Distrusts: charsets (unknown ones fall back to raw bytes as Latin-1), malformed encoded-words
 * (left as they are).
 */

import { casemap } from '../sort/casemap.js';

/** Bytes (latin1 string) in `charset` to a JS string; unknown charsets give the bytes as Latin-1. */
export function decodeCharset(bytes: string, charset: string | undefined): string {
  const cs = (charset ?? 'us-ascii').trim().toLowerCase();
  const buf = Buffer.from(bytes, 'latin1');
  if (cs === 'us-ascii' || cs === 'ascii' || cs === 'utf-8' || cs === 'utf8') return buf.toString('utf8');
  try {
    return new TextDecoder(cs).decode(buf);
  } catch {
    return bytes;
  }
}

const WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/** RFC 2047 decoding of a header value (raw 8-bit bytes are taken as UTF-8, as Dovecot does). */
export function decodeHeaderValue(value: string): string {
  const unfolded = value.replace(/\r?\n[ \t]/g, ' ').replace(/\r?\n/g, '');
  let out = '';
  let last = 0;
  let prevWordEnd = -1;
  for (const m of unfolded.matchAll(WORD)) {
    const start = m.index ?? 0;
    const between = unfolded.slice(last, start);
    if (!(prevWordEnd === last && /^[ \t]*$/.test(between))) out += decodeCharset(between, 'utf-8');
    const charset = m[1]!.split('*')[0];
    const enc = m[2]!.toUpperCase();
    let bytes: string;
    if (enc === 'B') bytes = Buffer.from(m[3]!, 'base64').toString('latin1');
    else bytes = m[3]!.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_s, h: string) => String.fromCharCode(parseInt(h, 16)));
    out += decodeCharset(bytes, charset);
    last = start + m[0].length;
    prevWordEnd = last;
  }
  out += decodeCharset(unfolded.slice(last), 'utf-8');
  return out;
}

/** The comparison form: i;unicode-casemap (sort/casemap.ts), whitespace runs as one space. */
export function searchForm(s: string): string {
  return casemap(s).replace(/\s+/g, ' ');
}
