/*
 * The bytes of a RETR or TOP reply body, produced as Dovecot 2.3's pop3 fetch_callback() produces them from the
 * stored message (pure). RFC 1939 §3 byte-stuffing plus Dovecot's repairs:
 *   - a LF without a CR before it gets one (CRLF whatever the file holds); a bare CR passes through;
 *   - a '.' at the start of a line is doubled, except at the very first byte of the message (Dovecot only
 *     looks at the previous byte, and there is none);
 *   - a message that does not end in LF gets a CRLF, so the terminating `.` is on its own line;
 *   - TOP n: the header, the line that ends it, then n body lines. The body starts at the first line that
 *     begins with CR or LF; a message without one is sent whole.
 * NUL bytes pass through (pop3_client_workarounds = outlook-no-nuls is not supported).
 * Distrusts: the stored bytes (any content, any line ends).
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/** `bodyLines` undefined: the whole message (RETR); a number: TOP's line count. */
export function encodeMessageForPop3(data: Uint8Array, bodyLines?: bigint): Buffer {
  const out = Buffer.allocUnsafe(data.length * 2 + 2);
  let o = 0;
  let prev = -1; // the last byte written; -1 = nothing yet (Dovecot's '\0' start marker)
  let inBody = false;
  // Dovecot counts the header/body separator line as one of the body lines.
  let remaining = bodyLines === undefined ? -1n : bodyLines + 1n;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if ((c === CR || c === LF) && !inBody && (prev === -1 || prev === LF)) inBody = true;
    if (c === LF) {
      if (prev !== CR) out[o++] = CR;
      out[o++] = LF;
      prev = LF;
      if (inBody && remaining > 0n && --remaining === 0n) break;
    } else if (c === DOT && prev === LF) {
      out[o++] = DOT;
      out[o++] = DOT;
      prev = DOT;
    } else {
      out[o++] = c;
      prev = c;
    }
  }
  if (prev !== LF) {
    out[o++] = CR;
    out[o++] = LF;
  }
  return out.subarray(0, o);
}
