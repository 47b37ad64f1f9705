/*
 * Pure translation of a PCRE pattern (Postfix pcre_table(5)) into a JavaScript RegExp source.
 *
 * PCRE and JS share most syntax. Translated here: POSIX classes inside brackets; \Q…\E; \A \z \Z \h
 * \R; (?#comment); (?P<name>…) and (?P=name); a leading (?flags) applied as table flags; the `x`
 * flag (whitespace and # comments dropped, since JS has no x); `$` matching before a final newline
 * unless flag E (DOLLAR_ENDONLY) or m; `.` not matching only \n (JS `.` also refuses \r, U+2028/9);
 * flag U (UNGREEDY) swaps greedy and lazy quantifiers.
 *
 * Where JS still differs (documented, not emulated):
 *   - atomic groups (?>…) and possessive quantifiers (a*+) become ordinary groups/quantifiers:
 *     the match set can grow for patterns that rely on no-backtracking;
 *   - inline option changes in mid-pattern ((?i) after the start, (?i:…)), recursion (?R), \G,
 *     callouts and backtracking verbs are rejected as syntax errors;
 *   - matching is on UTF-16 code units without the `u` flag, so `.` sees half a non-BMP character.
 * Distrusts: the pattern text; errors are thrown as Error(message) for the rule parser to report.
 */
import { translateBracket } from './posix-regex.js';

export interface PcreOptions {
  caseless: boolean;
  multiline: boolean;
  dotall: boolean;
  extended: boolean;
  anchored: boolean;
  dollarEndOnly: boolean;
  ungreedy: boolean;
}

export interface PcreTranslation {
  readonly source: string;
  readonly groups: number;
  readonly options: PcreOptions;
}

function escapeLiteral(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

export function translatePcre(pattern: string, initial: PcreOptions): PcreTranslation {
  const o = { ...initial };
  let pat = pattern;
  // Leading option setting such as (?i) or (?s-i): applies to the whole pattern.
  const lead = /^\(\?([imsxU-]+)\)/.exec(pat);
  if (lead) {
    let on = true;
    for (const f of lead[1] as string) {
      if (f === '-') on = false;
      else if (f === 'i') o.caseless = on;
      else if (f === 'm') o.multiline = on;
      else if (f === 's') o.dotall = on;
      else if (f === 'x') o.extended = on;
      else if (f === 'U') o.ungreedy = on;
    }
    pat = pat.slice(lead[0].length);
  }
  let out = '';
  let groups = 0;
  const quantEnd = (): void => {
    // After a quantifier: handle lazy/possessive markers and the U flag.
    let lazy = false;
    if (pat[i] === '?') {
      lazy = true;
      i++;
    } else if (pat[i] === '+') {
      i++; // possessive: not in JS; treated as greedy
    }
    if (o.ungreedy) lazy = !lazy;
    if (lazy) out += '?';
  };
  let i = 0;
  while (i < pat.length) {
    const c = pat[i] as string;
    if (o.extended && /\s/.test(c)) {
      i++;
      continue;
    }
    if (o.extended && c === '#') {
      while (i < pat.length && pat[i] !== '\n') i++;
      continue;
    }
    if (c === '[') {
      const b = translateBracket(pat, i, false, false);
      out += b.js;
      i = b.end;
      continue;
    }
    if (c === '\\') {
      const n = pat[i + 1];
      if (n === undefined) throw new Error('\\ at end of pattern');
      i += 2;
      if (n === 'Q') {
        const end = pat.indexOf('\\E', i);
        const lit = end < 0 ? pat.slice(i) : pat.slice(i, end);
        out += escapeLiteral(lit);
        i = end < 0 ? pat.length : end + 2;
      } else if (n === 'E') {
        /* stray \E is ignored by PCRE */
      } else if (n === 'A') out += '(?<![\\s\\S])';
      else if (n === 'z') out += '(?![\\s\\S])';
      else if (n === 'Z') out += '(?=\\n?(?![\\s\\S]))';
      else if (n === 'h') out += '[ \\t]';
      else if (n === 'R') out += '(?:\\r\\n|\\n|\\r)';
      else if (n === 'G') throw new Error('\\G is not supported');
      else out += `\\${n}`;
      continue;
    }
    if (c === '(') {
      if (pat.startsWith('(?#', i)) {
        const end = pat.indexOf(')', i);
        if (end < 0) throw new Error('missing ) after comment');
        i = end + 1;
        continue;
      }
      if (pat.startsWith('(?P<', i)) {
        groups++;
        out += '(?<';
        i += 4;
        continue;
      }
      if (pat.startsWith('(?P=', i)) {
        const end = pat.indexOf(')', i);
        out += `\\k<${pat.slice(i + 4, end)}>`;
        i = end + 1;
        continue;
      }
      if (pat.startsWith('(?>', i)) {
        out += '(?:';
        i += 3;
        continue;
      }
      if (pat.startsWith("(?'", i)) {
        const end = pat.indexOf("'", i + 3);
        groups++;
        out += `(?<${pat.slice(i + 3, end)}>`;
        i = end + 1;
        continue;
      }
      if (pat.startsWith('(?<', i) && pat[i + 3] !== '=' && pat[i + 3] !== '!') groups++;
      else if (pat[i + 1] === '?') {
        if (!/^\(\?(:|=|!|<=|<!|<)/.test(pat.slice(i))) throw new Error(`unsupported group syntax at offset ${i}`);
      } else groups++;
      out += '(';
      i++;
      continue;
    }
    i++;
    if (c === '*' || c === '+' || c === '?') {
      out += c;
      quantEnd();
      continue;
    }
    if (c === '{') {
      const m = /^\{\d+(,\d*)?\}/.exec(pat.slice(i - 1));
      if (m) {
        out += m[0];
        i += m[0].length - 1;
        quantEnd();
      } else out += '\\{';
      continue;
    }
    if (c === '.') out += o.dotall ? '[\\s\\S]' : '[^\\n]';
    else if (c === '$') out += o.multiline ? '$' : o.dollarEndOnly ? '(?![\\s\\S])' : '(?=\\n?(?![\\s\\S]))';
    else if (c === '^') out += o.multiline ? '^' : '(?<![\\s\\S])';
    else if (c === '/') out += '\\/';
    else out += c;
  }
  return { source: out, groups, options: o };
}
