/*
 * Content-Type, Content-Transfer-Encoding, Content-Disposition and Content-Language parsing with
 * RFC 2231 parameters, shaped after Dovecot 2.3's message-part-data.c / rfc2231-parser.c:
 *  - type/subtype are MIME tokens, kept as written (no case folding);
 *  - parameter values are tokens or quoted strings; RFC 2231 continuations `name*0`, `name*1*` are
 *    joined in numeric order, and if any piece was extended (`*`) the result is keyed `name*` and
 *    left percent-encoded (Dovecot does not decode); a lone `name*=` stays as is;
 *  - a broken parameter stops parameter parsing (what was read so far is kept).
 * Distrusts: duplicate/missing continuation indexes, unterminated quotes and comments.
 */
import { Rfc822Lexer } from './rfc822-tokens.js';

export interface MimeParam {
  readonly name: string;
  readonly value: string;
}

export interface ContentType {
  readonly type: string;
  readonly subtype: string | undefined;
  /** False if the header was too broken to read parameters. */
  readonly paramsOk: boolean;
  readonly params: readonly MimeParam[];
}

export function parseContentType(value: string): ContentType {
  const lx = new Rfc822Lexer(value);
  lx.skipLwsp();
  const type = lx.readMimeToken();
  lx.skipLwsp();
  // Broken values still give a type, as Dovecot: no slash → "" "", `text/` → "text" "".
  if (lx.peek() !== '/') return { type: '', subtype: '', paramsOk: false, params: [] };
  lx.pos++;
  lx.skipLwsp();
  const subtype = lx.readMimeToken();
  if (subtype === '') return { type, subtype: '', paramsOk: false, params: [] };
  return { type, subtype, paramsOk: true, params: parseParams(lx) };
}

/** A disposition or encoding token followed by parameters; token undefined if absent. */
export function parseTokenWithParams(value: string): { token: string | undefined; params: MimeParam[] } {
  const lx = new Rfc822Lexer(value);
  lx.skipLwsp();
  const token = lx.readMimeToken();
  return { token, params: parseParams(lx) };
}

/** Content-Transfer-Encoding: one token and nothing else after it. */
export function parseTransferEncoding(value: string): string | undefined {
  const lx = new Rfc822Lexer(value);
  lx.skipLwsp();
  const token = lx.readMimeToken();
  if (!lx.skipLwsp() || !lx.done || token === '') return undefined;
  return token;
}

/** Content-Language: comma-separated atoms. */
export function parseContentLanguage(value: string): string[] {
  const lx = new Rfc822Lexer(value);
  const out: string[] = [];
  lx.skipLwsp();
  for (;;) {
    const a = lx.readAtom();
    if (a === '') break;
    out.push(a);
    lx.skipLwsp();
    if (lx.peek() !== ',') break;
    lx.pos++;
    lx.skipLwsp();
  }
  return out;
}

function parseParams(lx: Rfc822Lexer): MimeParam[] {
  const raw: MimeParam[] = [];
  for (;;) {
    if (!lx.skipLwsp()) break;
    if (lx.peek() !== ';') break;
    lx.pos++;
    if (!lx.skipLwsp()) break;
    const name = lx.readMimeToken();
    if (name === '') break;
    lx.skipLwsp();
    if (lx.peek() !== '=') break;
    lx.pos++;
    lx.skipLwsp();
    let val: string | undefined;
    if (lx.peek() === '"') val = lx.readQuoted();
    else val = lx.readMimeToken();
    if (val === undefined) break;
    raw.push({ name, value: val });
  }
  return joinContinuations(raw);
}

function joinContinuations(raw: MimeParam[]): MimeParam[] {
  // Dovecot's rfc2231_parse: plain parameters first, in order; then each `name*N` group sorted by
  // name and index. A group whose indexes run 0,1,2… is joined (key `name*` if any piece was
  // extended, values joined as written); otherwise its pieces are listed unchanged.
  const out: MimeParam[] = [];
  const pieces: { key: string; name: string; idx: number; ext: boolean; value: string }[] = [];
  for (const p of raw) {
    const m = /^(.*?)\*([0-9]+)(\*?)$/.exec(p.name);
    if (!m) out.push(p);
    else pieces.push({ key: m[1]!.toLowerCase(), name: m[1]!, idx: Number(m[2]), ext: m[3] === '*', value: p.value });
  }
  pieces.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.idx - b.idx));
  for (let i = 0; i < pieces.length; ) {
    let j = i;
    while (j < pieces.length && pieces[j]!.key === pieces[i]!.key) j++;
    const g = pieces.slice(i, j);
    if (g.every((x, k) => x.idx === k)) {
      const ext = g.some((x) => x.ext);
      out.push({ name: ext ? `${g[0]!.name}*` : g[0]!.name, value: g.map((x) => x.value).join('') });
    } else {
      for (const x of g) out.push({ name: `${x.name}*${x.idx}${x.ext ? '*' : ''}`, value: x.value });
    }
    i = j;
  }
  return out;
}
