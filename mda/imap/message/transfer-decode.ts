/*
 * Content-Transfer-Encoding decoding for BINARY[section] (RFC 3516): base64 and quoted-printable
 * decoded as Dovecot's decoders do (base64 skips whitespace and stops at padding; QP drops soft
 * line breaks and trailing whitespace); 7bit/8bit/binary pass through. An unknown encoding or
 * content its decoder rejects (stray characters in base64, a broken `=` in QP) is reported so FETCH
 * can answer `NO [UNKNOWN-CTE]`, as Dovecot does.
 * Distrusts: everything in the body (never throws on malformed input).
 */
import type { ByteString } from '../proto/formatter.js';

export type DecodeResult = { ok: true; data: ByteString } | { ok: false };

function base64(s: string): ByteString | undefined {
  const clean = s.replace(/[ \t\r\n]/g, '');
  if (/[^A-Za-z0-9+/=]/.test(clean)) return undefined;
  const eq = clean.indexOf('=');
  const body = eq < 0 ? clean : clean.slice(0, eq);
  if (eq >= 0 && !/^={1,2}$/.test(clean.slice(eq))) return undefined;
  if (body.length % 4 === 1) return undefined;
  return Buffer.from(body, 'base64').toString('latin1');
}

function qp(s: string): ByteString | undefined {
  let out = '';
  let bad = false;
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
        bad = true;
      }
      out += c;
      j++;
    }
    if (!last && !soft) out += '\r\n';
  });
  return bad ? undefined : out;
}

export function decodeTransfer(encoding: string | undefined, body: ByteString): DecodeResult {
  const e = (encoding ?? '7bit').toLowerCase();
  if (e === 'base64' || e === 'quoted-printable') {
    const data = e === 'base64' ? base64(body) : qp(body);
    return data === undefined ? { ok: false } : { ok: true, data };
  }
  if (e === '7bit' || e === '8bit' || e === 'binary') return { ok: true, data: body };
  return { ok: false };
}
