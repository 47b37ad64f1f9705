/*
 * One physical line of dovecot.conf (2.3) → one classified logical line. Pure: no I/O.
 *
 * Follows Dovecot 2.3.19's config-parser line rules, checked against the real doveconf:
 * - leading blanks skipped; a line that is then empty or starts with `#` is skipped, and drops a pending `\`
 *   continuation (what was gathered is lost, as with the real doveconf);
 * - `#` outside quotes ends the line; glued to a non-blank it still does, with the "Ambiguous '#'" warning;
 * - trailing blanks trimmed; a trailing `\` joins the line with the next one, with one space;
 * - `key = value`: `<path` (blanks after `<` skipped) reads a file, an unquoted value holding `$` refers to
 *   earlier values, a value wrapped in matching quotes is unescaped (a backslash keeps the next character);
 * - `section [name] {` with `{` ending the line (only `"…"` quotes a name; `'` is an ordinary character there), `}` alone, `!include` and `!include_try`.
 * Distrusts: everything; malformed lines become `error` results carrying Dovecot's wording.
 */

export type LineResult =
  | { readonly type: 'skip' }
  | { readonly type: 'continue' }
  | { readonly type: 'keyvalue'; readonly key: string; readonly value: string }
  | { readonly type: 'keyfile'; readonly key: string; readonly value: string }
  | { readonly type: 'keyvariable'; readonly key: string; readonly value: string }
  | { readonly type: 'section-begin'; readonly key: string; readonly value: string }
  | { readonly type: 'section-end' }
  | { readonly type: 'include'; readonly value: string; readonly ignoreMissing: boolean }
  | { readonly type: 'error'; readonly message: string };

export interface LineState {
  /** Text gathered from earlier lines ending in `\`. */
  pending: string;
}

const isWhite = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** Removes backslash escapes the way Dovecot's str_unescape() does: `\x` becomes `x`. */
export function unescapeDovecot(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) i++;
    out += s[i];
  }
  return out;
}

function trimEndWhite(s: string): string {
  let n = s.length;
  while (n > 0 && isWhite(s[n - 1])) n--;
  return s.slice(0, n);
}

function skipWhite(s: string, i: number): number {
  while (i < s.length && isWhite(s[i])) i++;
  return i;
}

/**
 * Classifies one physical line (without its newline). `warn` receives the ambiguous-`#` warning text
 * (without Dovecot's "Configuration file X line N: " prefix, which the caller adds).
 */
export function classifyLine(raw: string, state: LineState, warn: (msg: string) => void): LineResult {
  let line = raw.slice(skipWhite(raw, 0));
  if (line === '' || line[0] === '#') {
    state.pending = '';
    return { type: 'skip' };
  }

  // strip the comment, skipping over quoted strings
  for (let p = 0; p < line.length; p++) {
    const c = line[p];
    if (c === '"' || c === "'") {
      p++;
      while (p < line.length && line[p] !== c) {
        if (line[p] === '\\' && p + 1 < line.length) p++;
        p++;
      }
      if (p >= line.length) break;
    } else if (c === '#') {
      if (!isWhite(line[p - 1])) {
        warn("Ambiguous '#' character in line, treating it as comment. Add a space before it to remove this warning.");
      }
      line = line.slice(0, p);
      break;
    }
  }
  line = trimEndWhite(line);

  if (line.endsWith('\\')) {
    const part = trimEndWhite(line.slice(0, -1));
    if (part !== '') state.pending += `${part} `;
    return { type: 'continue' };
  }
  if (state.pending !== '') {
    line = state.pending + line;
    state.pending = '';
  }

  let i = 0;
  while (i < line.length && !isWhite(line[i]) && line[i] !== '=') i++;
  const key = line.slice(0, i);
  i = skipWhite(line, i);
  const rest = line.slice(i);

  if (key === '!include_try') return { type: 'include', value: rest, ignoreMissing: true };
  if (key === '!include') return { type: 'include', value: rest, ignoreMissing: false };

  if (rest[0] === '=') {
    if (key === '') return { type: 'error', message: "Missing key name ('=' at the beginning of line)" };
    let value = rest.slice(skipWhite(rest, 1));
    if (value[0] === '<') return { type: 'keyfile', key, value: value.slice(skipWhite(value, 1)) };
    if (value[0] !== '"' && value[0] !== "'" && value.includes('$')) return { type: 'keyvariable', key, value };
    const q = value[0];
    if (value.length > 0 && (q === '"' || q === "'") && value[value.length - 1] === q) {
      value = unescapeDovecot(value.slice(1, Math.max(1, value.length - 1)));
    }
    return { type: 'keyvalue', key, value };
  }

  if (key === '}' && rest === '') return { type: 'section-end' };
  if (key === '}') return { type: 'error', message: "Expecting '{'" };

  // section_type [name] {
  let name = '';
  let after = rest;
  if (after[0] !== '{') {
    if (after[0] === '"') {
      // only double quotes, and the scan stops at the next quote even after a backslash (as Dovecot 2.3 does)
      const j = after.indexOf('"', 1);
      if (j < 0) return { type: 'error', message: "Expecting '{'" };
      name = unescapeDovecot(after.slice(1, j));
      after = after.slice(skipWhite(after, j + 1));
    } else {
      let j = 0;
      while (j < after.length && !isWhite(after[j])) j++;
      name = after.slice(0, j);
      after = after.slice(skipWhite(after, j));
    }
    if (after[0] !== '{') return { type: 'error', message: "Expecting '{'" };
  }
  if (after.length > 1) return { type: 'error', message: "Garbage after '{'" };
  return { type: 'section-begin', key, value: name };
}
