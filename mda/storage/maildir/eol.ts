/*
 * Line-ending arithmetic for maildir files (pure). Dovecot saves with `mail_save_crlf = no`: each
 * CRLF of the input becomes LF (i_stream_create_lf), a bare CR stays. `W=` (RFC822.SIZE, POP3 LIST)
 * is the size with every LF not preceded by CR counted as CRLF.
 *
 * Distrusts: message bytes (NUL, bare CR, CR CR LF all occur): nothing here interprets them.
 */

/** CRLF -> LF; bare CR and lone LF are kept. */
export function crlfToLf(buf: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(buf.length);
  let o = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (b === 0x0d && buf[i + 1] === 0x0a) continue;
    out[o++] = b;
  }
  return out.subarray(0, o);
}

/** Size with every bare LF counted as CRLF. */
export function virtualSize(buf: Uint8Array): number {
  let extra = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) extra++;
  }
  return buf.length + extra;
}

/** Bare LF -> CRLF (what IMAP and POP3 send). `prevCr` carries state across chunks. */
export function lfToCrlf(buf: Uint8Array, prevCr = false): Buffer {
  let extra = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a && (i === 0 ? !prevCr : buf[i - 1] !== 0x0d)) extra++;
  }
  if (extra === 0) return Buffer.from(buf);
  const out = Buffer.allocUnsafe(buf.length + extra);
  let o = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (b === 0x0a && (i === 0 ? !prevCr : buf[i - 1] !== 0x0d)) out[o++] = 0x0d;
    out[o++] = b;
  }
  return out;
}
