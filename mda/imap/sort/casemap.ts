/*
 * The i;unicode-casemap comparator (RFC 5051, RFC 5255 I18NLEVEL=1) as Dovecot 2.3 computes it
 * (lib/unichar.c uni_utf8_to_decomposed_titlecase over tables generated from UnicodeData.txt):
 * per character, first the simple titlecase mapping, then ONE level of decomposition of the result:
 *  - Hangul syllables become their jamo;
 *  - a canonical decomposition gives the base and the combining mark (É → E + U+0301), one
 *    level only: the base is not decomposed again (Ǖ → Ü + U+0304), so SEARCH "cafe" finds
 *    "Café" as a substring while "uber" does not find "ǖber";
 *  - a singleton decomposition is applied (Å U+212B → Å U+00C5);
 *  - other decompositions (compatibility ones included) are emitted whole, without titlecasing
 *    their output again (ﬁ → "fi", Ⅻ → "XII");
 *  - characters that have a titlecase form of their own (ǅ, ᾈ…) are never decomposed.
 * Invalid input was already replaced by U+FFFD when the bytes were decoded.
 * Known gaps (documented in docs/imap-capabilities.md): Node's Unicode version is newer than
 * Dovecot's tables, and letters whose full uppercase has several characters (ᾳ) keep their own
 * form instead of their simple titlecase.
 */

const DIGRAPH_TITLE: Readonly<Record<number, number>> = {
  0x01c4: 0x01c5, 0x01c5: 0x01c5, 0x01c6: 0x01c5,
  0x01c7: 0x01c8, 0x01c8: 0x01c8, 0x01c9: 0x01c8,
  0x01ca: 0x01cb, 0x01cb: 0x01cb, 0x01cc: 0x01cb,
  0x01f1: 0x01f2, 0x01f2: 0x01f2, 0x01f3: 0x01f2,
};

const TITLE_LETTER = /^\p{Lt}$/u;

/** The simple titlecase mapping of one code point. */
export function titlecase(cp: number): number {
  const d = DIGRAPH_TITLE[cp];
  if (d !== undefined) return d;
  // Georgian Mkhedruli: uppercase (Mtavruli) exists since Unicode 11, titlecase stays the letter.
  if ((cp >= 0x10d0 && cp <= 0x10fa) || (cp >= 0x10fd && cp <= 0x10ff)) return cp;
  const up = String.fromCodePoint(cp).toUpperCase();
  const first = up.codePointAt(0)!;
  return up.length === (first > 0xffff ? 2 : 1) ? first : cp;
}

/** One level of decomposition as Dovecot's tables hold it (see the header). */
export function decomposeOnce(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp < 0xc0) return ch;
  if (cp >= 0xac00 && cp <= 0xd7a3) return ch.normalize('NFD');
  if (TITLE_LETTER.test(ch)) return ch;
  const nfd = ch.normalize('NFD');
  const nfkd = ch.normalize('NFKD');
  if (nfkd !== nfd) return nfkd.normalize('NFC');
  if (nfd === ch) return ch;
  const nfc = ch.normalize('NFC');
  if (nfc !== ch) return nfc;
  // Canonical "base + mark": one level only, so a decomposable base stays composed (Ǖ → Ü + U+0304).
  const cps = [...nfd];
  return cps.slice(0, -1).join('').normalize('NFC') + cps[cps.length - 1]!;
}

/** The comparison form of a string (i;unicode-casemap). */
export function casemap(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out += cp >= 0x61 && cp <= 0x7a ? String.fromCharCode(cp - 0x20) : ch;
      continue;
    }
    out += decomposeOnce(String.fromCodePoint(titlecase(cp)));
  }
  return out;
}

/** Compares two casemapped strings as Dovecot does (strcmp over UTF-8 bytes = code point order). */
export function compareCasemapped(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true) return y.done === true ? 0 : -1;
    if (y.done === true) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}
