/*
 * The two PatternDialects: regexp: (POSIX via posix-regex.ts) and pcre: (via pcre-regex.ts), with
 * the flag letters and defaults of regexp_table(5) and pcre_table(5):
 *   regexp: i (case-insensitive, ON by default: `i` toggles), m (REG_NEWLINE, off), x (extended
 *           syntax, ON by default: `x` switches to basic regular expressions).
 *   pcre:   i (ON), m (off), s (DOTALL, ON), x (off), A (anchored), E (dollar end only),
 *           U (ungreedy), X (PCRE_EXTRA; accepted, nothing to do in JS).
 * An unknown letter drops the rule: `unknown regexp option "z": skipping this rule`.
 */
import { translatePosix } from './posix-regex.js';
import { translatePcre, type PcreOptions } from './pcre-regex.js';
import type { CompiledPattern, PatternDialect } from './pattern-table.js';

function compileJs(source: string, flags: string, groups: number, sticky: boolean): CompiledPattern {
  let re: RegExp;
  try {
    re = new RegExp(source, flags + (sticky ? 'y' : ''));
  } catch (err) {
    throw new Error((err as Error).message.replace(/^Invalid regular expression: /, ''));
  }
  return {
    groups,
    exec(key: string) {
      re.lastIndex = 0;
      return re.exec(key);
    },
  };
}

export const regexpDialect: PatternDialect = {
  label: 'regexp',
  compile(pattern, flags) {
    let icase = true;
    let newline = false;
    let extended = true;
    for (const f of flags) {
      if (f === 'i') icase = !icase;
      else if (f === 'm') newline = !newline;
      else if (f === 'x') extended = !extended;
      else throw new Error(`unknown regexp option "${f}": skipping this rule`);
    }
    const t = translatePosix(pattern, extended, newline);
    return compileJs(t.source, (icase ? 'i' : '') + (newline ? 'm' : ''), t.groups, false);
  },
};

export const pcreDialect: PatternDialect = {
  label: 'pcre',
  compile(pattern, flags) {
    const o: PcreOptions = {
      caseless: true,
      multiline: false,
      dotall: true,
      extended: false,
      anchored: false,
      dollarEndOnly: false,
      ungreedy: false,
    };
    for (const f of flags) {
      if (f === 'i') o.caseless = !o.caseless;
      else if (f === 'm') o.multiline = !o.multiline;
      else if (f === 's') o.dotall = !o.dotall;
      else if (f === 'x') o.extended = !o.extended;
      else if (f === 'A') o.anchored = !o.anchored;
      else if (f === 'E') o.dollarEndOnly = !o.dollarEndOnly;
      else if (f === 'U') o.ungreedy = !o.ungreedy;
      else if (f === 'X') continue;
      else throw new Error(`unknown regexp option "${f}": skipping this rule`);
    }
    const t = translatePcre(pattern, o);
    return compileJs(t.source, (t.options.caseless ? 'i' : '') + (t.options.multiline ? 'm' : ''), t.groups, t.options.anchored);
  },
};
