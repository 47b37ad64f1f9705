/*
 * Modified UTF-7 mailbox names (RFC 3501 §5.1.3): what IMAP4rev1 clients send and see; storage
 * names are UTF-8. `&` starts a base64 run (`,` instead of `/`, no padding) of UTF-16BE, `&-` is
 * `&`; printable ASCII stands for itself. decode() rejects what Dovecot's imap-utf7.c rejects:
 * 8-bit bytes, non-canonical runs (encoded printable ASCII, an empty or unterminated run, two runs
 * back to back, bad padding bits).
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';

export function encodeMutf7(name: string): string {
  let out = '';
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const bytes: number[] = [];
    for (const u of run) bytes.push(u >> 8, u & 0xff);
    let bits = 0;
    let acc = 0;
    out += '&';
    for (const b of bytes) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        out += B64[(acc >> bits) & 0x3f];
      }
    }
    if (bits > 0) out += B64[(acc << (6 - bits)) & 0x3f];
    out += '-';
    run = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      flush();
      out += c === 0x26 ? '&-' : name[i];
    } else {
      run.push(c);
    }
  }
  flush();
  return out;
}

/** Decodes a client mailbox name; undefined when it is not valid modified UTF-7. */
export function decodeMutf7(s: string): string | undefined {
  let out = '';
  let i = 0;
  let prevRunEnd = -1;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return undefined;
    if (c !== 0x26) {
      out += s[i];
      i++;
      continue;
    }
    const end = s.indexOf('-', i + 1);
    if (end < 0) return undefined;
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    if (prevRunEnd === i) return undefined;
    let acc = 0;
    let bits = 0;
    const units: number[] = [];
    let byteHi = -1;
    for (let j = i + 1; j < end; j++) {
      const v = B64.indexOf(s[j]!);
      if (v < 0) return undefined;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        const b = (acc >> bits) & 0xff;
        if (byteHi < 0) byteHi = b;
        else {
          units.push((byteHi << 8) | b);
          byteHi = -1;
        }
      }
    }
    if (byteHi >= 0 || (acc & ((1 << bits) - 1)) !== 0 || bits >= 6) return undefined;
    if (units.some((u) => u >= 0x20 && u <= 0x7e)) return undefined;
    const str = String.fromCharCode(...units);
    if (!wellFormed(units)) return undefined;
    out += str;
    i = end + 1;
    prevRunEnd = i;
  }
  return out;
}

function wellFormed(units: readonly number[]): boolean {
  for (let i = 0; i < units.length; i++) {
    const u = units[i]!;
    if (u >= 0xd800 && u <= 0xdbff) {
      const n = units[i + 1];
      if (n === undefined || n < 0xdc00 || n > 0xdfff) return false;
      i++;
    } else if (u >= 0xdc00 && u <= 0xdfff) return false;
  }
  return true;
}
