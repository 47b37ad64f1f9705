/*
 * Modified UTF-7 (RFC 3501 section 5.1.3): the encoding IMAP4rev1 and Dovecot's maildir folder names
 * use on the wire and on disk (`Entwürfe` <-> `Entw&APw-rfe`). Pure functions, no I/O.
 *
 * Distrusts: the encoded form (it comes from directory names written by anyone): decoding rejects
 * bad base64, non-canonical padding bits, encoded printable ASCII and broken surrogates by throwing
 * Mutf7Error, exactly the names Dovecot would refuse to show.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const B64_INDEX: ReadonlyMap<string, number> = new Map([...B64].map((c, i) => [c, i]));

/** Thrown for a string that is not valid modified UTF-7. */
export class Mutf7Error extends Error {
  override readonly name = 'Mutf7Error';
}

function isDirect(code: number): boolean {
  return code >= 0x20 && code <= 0x7e && code !== 0x26;
}

function encodeRun(units: number[]): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const u of units) {
    acc = (acc << 16) | u;
    bits += 16;
    while (bits >= 6) {
      bits -= 6;
      out += B64[(acc >> bits) & 0x3f];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B64[(acc << (6 - bits)) & 0x3f];
  return out;
}

/** UTF-8 (JS string) -> modified UTF-7. */
export function encodeMutf7(text: string): string {
  let out = '';
  let run: number[] = [];
  const flush = (): void => {
    if (run.length > 0) {
      out += `&${encodeRun(run)}-`;
      run = [];
    }
  };
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isDirect(code)) {
      flush();
      out += text[i];
    } else if (code === 0x26) {
      flush();
      out += '&-';
    } else {
      run.push(code);
    }
  }
  flush();
  return out;
}

/** Modified UTF-7 -> UTF-8 (JS string). Throws Mutf7Error on malformed input. */
export function decodeMutf7(encoded: string): string {
  let out = '';
  let i = 0;
  while (i < encoded.length) {
    const c = encoded[i]!;
    const code = c.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) throw new Mutf7Error(`non-ASCII or control character at ${i}`);
    if (c !== '&') {
      out += c;
      i++;
      continue;
    }
    const end = encoded.indexOf('-', i + 1);
    if (end < 0) throw new Mutf7Error(`unterminated shift at ${i}`);
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    let acc = 0;
    let bits = 0;
    const units: number[] = [];
    for (let j = i + 1; j < end; j++) {
      const v = B64_INDEX.get(encoded[j]!);
      if (v === undefined) throw new Mutf7Error(`bad base64 character at ${j}`);
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 16) {
        bits -= 16;
        units.push((acc >> bits) & 0xffff);
        acc &= (1 << bits) - 1;
      }
    }
    if (bits >= 6 || acc !== 0) throw new Mutf7Error(`non-canonical base64 padding at ${i}`);
    if (units.length === 0) throw new Mutf7Error(`empty shift at ${i}`);
    for (let k = 0; k < units.length; k++) {
      const u = units[k]!;
      if (u >= 0xd800 && u <= 0xdbff) {
        const lo = units[k + 1];
        if (lo === undefined || lo < 0xdc00 || lo > 0xdfff) throw new Mutf7Error('unpaired high surrogate');
        k++;
        out += String.fromCharCode(u, lo);
        continue;
      }
      if (u >= 0xdc00 && u <= 0xdfff) throw new Mutf7Error('unpaired low surrogate');
      if (isDirect(u)) throw new Mutf7Error('printable ASCII must not be base64-encoded');
      out += String.fromCharCode(u);
    }
    i = end + 1;
    // RFC 3501: two adjacent encoded runs must be one run.
    if (encoded[i] === '&' && encoded[i + 1] !== '-') throw new Mutf7Error('adjacent encoded runs');
  }
  return out;
}
