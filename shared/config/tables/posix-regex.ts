/*
 * Pure translation of a POSIX regular expression, as Postfix regexp_table(5) hands it to glibc
 * regcomp(3), into a JavaScript RegExp source.
 *
 * Handled: ERE (REG_EXTENDED, the default) and BRE (flag `x` toggles extended syntax off);
 * bracket expressions with POSIX classes ([:alpha:] …), a leading `]` literal, and backslash literal
 * inside brackets (POSIX) — JS needs it escaped; GNU escapes \w \W \s \S \b \B \< \> \` \';
 * back-references \1-\9; other `\c` mean the literal character (glibc), so `\d` is the letter d, not
 * a digit; `.` matches newline unless REG_NEWLINE (flag `m`), which also keeps `[^…]` off newlines.
 *
 * Where JS still differs (documented, not emulated):
 *   - POSIX picks the leftmost-LONGEST match; JS the leftmost-first alternative. Whether a key
 *     matches is the same; which text a group captures (and so `$n` substitution) can differ for
 *     alternations like (a|ab).
 *   - Collating elements [. .] and equivalence classes [= =] are not supported (syntax error).
 *   - Stacked quantifiers such as `a**` are an error in JS; glibc accepts them.
 * Distrusts: the pattern text; errors come back as a message, never an exception.
 */

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: '0-9a-zA-Z',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  print: ' -~',
  graph: '!-~',
  cntrl: '\\x00-\\x1f\\x7f',
  xdigit: '0-9A-Fa-f',
  word: '0-9a-zA-Z_',
};

export interface RegexTranslation {
  readonly source: string;
  /** Number of capturing groups, for checking `$n` in results. */
  readonly groups: number;
}

/** Escapes one literal character for use inside a JS character class. */
function classChar(c: string): string {
  return /[\\\]\[^-]/.test(c) ? `\\${c}` : c;
}

/**
 * Translates a bracket expression starting at `pat[start] === '['`. Returns the JS class and the
 * index after the closing `]`. `posixBackslash` makes `\` literal (POSIX); PCRE passes false.
 */
export function translateBracket(
  pat: string,
  start: number,
  posixBackslash: boolean,
  noNewlineInNegated: boolean,
): { js: string; end: number } {
  let i = start + 1;
  let negated = false;
  if (pat[i] === '^') {
    negated = true;
    i++;
  }
  let body = '';
  let first = true;
  for (;;) {
    if (i >= pat.length) throw new Error('Unmatched [, [^, [:, [., or [=');
    const c = pat[i] as string;
    if (c === ']' && !first) {
      i++;
      break;
    }
    first = false;
    if (c === '[' && (pat[i + 1] === ':' || pat[i + 1] === '.' || pat[i + 1] === '=')) {
      const kind = pat[i + 1] as string;
      const close = pat.indexOf(`${kind}]`, i + 2);
      if (close < 0) throw new Error('Unmatched [, [^, [:, [., or [=');
      const name = pat.slice(i + 2, close);
      if (kind !== ':') throw new Error(`collating element [${kind}${name}${kind}] not supported`);
      const cls = POSIX_CLASSES[name];
      if (cls === undefined) throw new Error('Invalid character class name');
      body += cls;
      i = close + 2;
      continue;
    }
    if (c === '\\') {
      if (posixBackslash) {
        body += '\\\\';
        i++;
        continue;
      }
      body += pat.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '-' ) {
      // A range dash between two members stays a dash; at the edges it is literal.
      const atEdge = body === '' || pat[i + 1] === ']';
      body += atEdge ? '\\-' : '-';
      i++;
      continue;
    }
    body += classChar(c);
    i++;
  }
  if (negated && noNewlineInNegated) body += '\\n';
  if (body === '' && negated) return { js: '[\\s\\S]', end: i };
  return { js: `[${negated ? '^' : ''}${body}]`, end: i };
}

/** Translates a POSIX ERE (extended=true) or BRE pattern to a JS RegExp source. */
export function translatePosix(pat: string, extended: boolean, newlineSensitive: boolean): RegexTranslation {
  let out = '';
  let groups = 0;
  let depth = 0;
  let atStart = true; // where `*` is literal in BRE and a quantifier has nothing to repeat
  for (let i = 0; i < pat.length; ) {
    const c = pat[i] as string;
    if (c === '[') {
      const b = translateBracket(pat, i, true, newlineSensitive);
      out += b.js;
      i = b.end;
      atStart = false;
      continue;
    }
    if (c === '\\') {
      const n = pat[i + 1];
      i += 2;
      if (n === undefined) throw new Error('Trailing backslash');
      if (!extended && (n === '(' || n === ')' || n === '{' || n === '}' || n === '|' || n === '+' || n === '?')) {
        if (n === '(') {
          groups++;
          depth++;
          out += '(';
          atStart = true;
        } else if (n === ')') {
          if (depth-- <= 0) throw new Error('Unmatched ) or \\)');
          out += ')';
          atStart = false;
        } else {
          out += n;
          atStart = n === '|';
        }
        continue;
      }
      atStart = false;
      if (/[1-9]/.test(n)) out += `\\${n}`;
      else if ('wWsSbB'.includes(n)) out += `\\${n}`;
      else if (n === '<') out += '\\b(?=\\w)';
      else if (n === '>') out += '\\b(?<=\\w)';
      else if (n === '`') out += '(?<![\\s\\S])';
      else if (n === "'") out += '(?![\\s\\S])';
      else if (n === 'n') out += 'n';
      else out += /[A-Za-z0-9_]/.test(n) ? n : `\\${n}`;
      continue;
    }
    i++;
    if (extended) {
      if (c === '(') {
        groups++;
        depth++;
        out += '(';
        atStart = true;
        continue;
      }
      if (c === ')') {
        if (depth-- <= 0) throw new Error('Unmatched ) or \\)');
        out += ')';
        atStart = false;
        continue;
      }
      if (c === '|') {
        out += '|';
        atStart = true;
        continue;
      }
      if (c === '*' || c === '+' || c === '?' || c === '{') {
        if (atStart) {
          if (c === '{') {
            out += '\\{';
            atStart = false;
            continue;
          }
          throw new Error('Invalid preceding regular expression');
        }
        out += c;
        continue;
      }
    } else {
      if (c === '*' && atStart) {
        out += '\\*';
        atStart = false;
        continue;
      }
      if (c === '*') {
        out += '*';
        continue;
      }
      if ('()|+?{}'.includes(c)) {
        out += `\\${c}`;
        atStart = false;
        continue;
      }
    }
    if (c === '.') out += newlineSensitive ? '[^\\n]' : '[\\s\\S]';
    else if (c === '^') {
      out += '^';
      continue;
    } else if (c === '$') out += '$';
    else if (c === '/') out += '\\/';
    else out += c;
    atStart = false;
  }
  if (depth !== 0) throw new Error('Unmatched ( or \\(');
  return { source: out, groups };
}
