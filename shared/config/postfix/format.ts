/*
 * postconf's output formatting (pure): pcf_print_line (whitespace normalised to single spaces,
 * optional folding before column 80 with a 4-space indent) and master.cf entry/field layout
 * (fixed columns 0 11 17 25 33 41 49 57; `-o name=value` on its own folded line; arguments with
 * blanks shown inside `{ }`).
 */

export const LINE_LIMIT = 80;
const INDENT = '    ';
const SEPS = /[ \t\r\n]+/;

/** One output line with normalised whitespace, folded when `fold`; ends with "\n". */
export function printLine(text: string, fold: boolean): string {
  let out = '';
  let len = 0;
  for (const word of text.split(SEPS)) {
    if (word === '') continue;
    if (len > 0) {
      if (!fold || len + word.length < LINE_LIMIT) { out += ' '; len += 1; } else { out += `\n${INDENT}`; len = INDENT.length; }
    }
    out += word;
    len += word.length;
  }
  return `${out}\n`;
}

const COLUMN_GOAL = [0, 11, 17, 25, 33, 41, 49, 57];
const hasBlank = (s: string): boolean => /[ \t\r\n]/.test(s);

/** Formats the command arguments after argv[7] (shared by -M and -F command). */
function formatArgs(argv: readonly string[], start: number, lineLen: number, fold: boolean, optExtra: number, expand?: (v: string) => string): [string, number] {
  let out = '';
  let len = lineLen;
  let inOpts = true;
  for (let f = start; f < argv.length; f++) {
    const arg = argv[f] as string;
    let argLen = arg.length;
    let aval: string | undefined;
    let parens = false;
    if (inOpts) {
      if (!arg.startsWith('-') || arg === '--') inOpts = false;
      else if (arg[1] === 'o' && f + 1 < argv.length) {
        aval = argv[f + 1] as string;
        len = LINE_LIMIT;
        if (arg === '-o' && expand) aval = expand(aval);
        argLen += aval.length + optExtra;
        parens = hasBlank(aval);
        if (parens) argLen += 2;
      }
    }
    if (!inOpts) parens = hasBlank(arg);
    if (len > INDENT.length) {
      if (!fold || len + 1 + argLen < LINE_LIMIT) { out += ' '; len += 1; } else { out += `\n${INDENT}`; len = INDENT.length; }
    }
    const shown = !inOpts && parens ? `{${arg}}` : arg;
    out += shown;
    len += shown.length;
    if (aval !== undefined) {
      const v = parens ? `{${aval}}` : aval;
      out += ` ${v}`;
      len += 1 + v.length;
      f++;
      len = LINE_LIMIT;
    }
  }
  return [out, len];
}

/** One master.cf entry as `postconf -M` prints it. */
export function formatMasterEntry(argv: readonly string[], fold: boolean, expand?: (v: string) => string): string {
  let out = '';
  let len = 0;
  for (let f = 0; f < 8; f++) {
    if (len > 0) {
      do { out += ' '; len++; } while (len < (COLUMN_GOAL[f] as number));
    }
    out += argv[f] as string;
    len += (argv[f] as string).length;
  }
  const [rest] = formatArgs(argv, 8, len, fold, 3, expand);
  return `${out}${rest}\n`;
}

/** One `-F` line: `name/type/field = value` (or the value only). */
export function formatMasterField(argv: readonly string[], field: number, fieldName: string, hideName: boolean, fold: boolean, expand?: (v: string) => string): string {
  let out = '';
  let len = 0;
  const val = argv[field] as string;
  if (!hideName) {
    out = `${argv[0]}/${argv[1]}/${fieldName} = `;
    len = out.length;
    if (len + val.length > LINE_LIMIT) { out += `\n${INDENT}`; len = INDENT.length; }
  }
  out += val;
  len += val.length;
  if (field === 7) {
    const [rest] = formatArgs(argv, 8, len, fold, 1, expand);
    out += rest;
  }
  return `${out}\n`;
}
