/*
 * Content-Transfer-Encoding decoding for BINARY[section] (RFC 3516): base64 and quoted-printable
 * decoded as Dovecot's decoders do (base64 skips whitespace and stops at padding; QP drops soft
 * line breaks and trailing whitespace, keeps a broken `=` sequence as is); 7bit/8bit/binary pass
 * through. An unknown encoding is reported so FETCH can answer `NO [UNKNOWN-CTE]`.
 * Distrusts: everything in the body (never throws on malformed input).
 */
import type { ByteString } from '../proto/formatter.js';

export type DecodeResult = { ok: true; data: ByteString } | { ok: false };

function base64(s: string): ByteString {
  const clean = s.replace(/[^A-Za-z0-9+/=]/g, '');
  const eq = clean.indexOf('=');
  const body = eq < 0 ? clean : clean.slice(0, eq);
  return Buffer.from(body, 'base64').toString('latin1');
}

function qp(s: string): ByteString {
  let out = '';
  const lines = s.split('\n');
  lines.forEach((line, i) => {
    const last = i === lines.length - 1;
    let l = line.endsWith('\r') ? line.slice(0, -1) : line;
    l = l.replace(/[ \t]+$/, '');
    let soft = false;
    let j = 0;
    while (j < l.length) {
      const c = l[j]!;
      if (c === '=') {
        if (j === l.length - 1) {
          soft = true;
          j++;
          continue;
        }
        const hex = l.slice(j + 1, j + 3);
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
          out += String.fromCharCode(parseInt(hex, 16));
          j += 3;
          continue;
        }
      }
      out += c;
      j++;
    }
    if (!last && !soft) out += '\r\n';
  });
  return out;
}

export function decodeTransfer(encoding: string | undefined, body: ByteString): DecodeResult {
  const e = (encoding ?? '7bit').toLowerCase();
  if (e === 'base64') return { ok: true, data: base64(body) };
  if (e === 'quoted-printable') return { ok: true, data: qp(body) };
  if (e === '7bit' || e === '8bit' || e === 'binary') return { ok: true, data: body };
  return { ok: false };
}
