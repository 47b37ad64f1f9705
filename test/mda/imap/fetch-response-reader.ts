/*
 * Test-side reader for `* n FETCH (...)` responses from the real Dovecot: splits each response into
 * items (name → the value's exact bytes as sent, literals included), so our formatter's output can
 * be compared byte for byte. Works on byte strings (latin1).
 */

export interface FetchResponse {
  seq: number;
  items: Map<string, string>;
}

export function readFetchResponses(out: string): FetchResponse[] {
  const res: FetchResponse[] = [];
  let pos = 0;
  const re = /\* ([0-9]+) FETCH \(/g;
  for (;;) {
    re.lastIndex = pos;
    const m = re.exec(out);
    if (!m) break;
    pos = m.index + m[0].length;
    const items = new Map<string, string>();
    while (out[pos] !== ')') {
      // name: up to space, but brackets may hold spaces
      let name = '';
      let depth = 0;
      while (pos < out.length) {
        const c = out[pos]!;
        if (c === '[') depth++;
        if (c === ']') depth--;
        if (c === ' ' && depth === 0) break;
        name += c;
        pos++;
      }
      pos++;
      const start = pos;
      pos = skipValue(out, pos);
      items.set(name, out.slice(start, pos));
      if (out[pos] === ' ') pos++;
    }
    res.push({ seq: Number(m[1]), items });
    pos++;
  }
  return res;
}

function skipValue(s: string, pos: number): number {
  const c = s[pos];
  if (c === '(') {
    pos++;
    while (s[pos] !== ')') {
      pos = skipValue(s, pos);
      if (s[pos] === ' ') pos++;
      if (pos >= s.length) throw new Error('unterminated list');
    }
    return pos + 1;
  }
  if (c === '"') {
    pos++;
    while (s[pos] !== '"') {
      if (s[pos] === '\\') pos++;
      pos++;
    }
    return pos + 1;
  }
  if (c === '{' || (c === '~' && s[pos + 1] === '{')) {
    const close = s.indexOf('}', pos);
    const n = Number(s.slice(s.indexOf('{', pos) + 1, close));
    return close + 3 + n;
  }
  while (pos < s.length && s[pos] !== ' ' && s[pos] !== ')' && s[pos] !== '\r') pos++;
  return pos;
}
