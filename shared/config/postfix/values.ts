/*
 * Typed views of Postfix parameter values (pure): lists, booleans, times and sizes.
 *
 * - Lists: separated by commas and/or whitespace (Postfix mystrtok with CHARS_COMMA_SP); with
 *   `{ }` grouping (mystrtokq / mystrtok_cw as used by restriction lists and master.cf) a braced
 *   item is one element, its outer braces and the whitespace just inside them removed.
 * - Booleans: "yes"/"no" (case-insensitive, as mail_conf_bool.c).
 * - Time: a number with an optional unit s, m, h, d, w; the parameter's default unit applies when
 *   none is given (conv_time.c). Sizes: a plain decimal number of bytes.
 * Distrusts: the value text; malformed values throw ValueSyntaxError with Postfix's wording.
 */

export class ValueSyntaxError extends Error {
  override readonly name = 'ValueSyntaxError';
}

const SEP = /[\s,]+/;

/** Splits a list value on commas and/or whitespace; empty items are dropped. */
export function splitList(value: string): string[] {
  return value.split(SEP).filter((s) => s !== '');
}

/**
 * Splits a list value like splitList, but keeps `{ ... }` groups together (Postfix's `{}` quoting
 * in restriction lists and master.cf arguments). The braces and surrounding whitespace inside them
 * are stripped. Throws on unbalanced braces.
 */
export function splitListBraced(value: string, seps = ' \t\r\n,'): string[] {
  const out: string[] = [];
  let i = 0;
  const isSep = (c: string | undefined): boolean => c !== undefined && seps.includes(c);
  while (i < value.length) {
    while (i < value.length && isSep(value[i])) i++;
    if (i >= value.length) break;
    if (value[i] === '{') {
      let level = 1;
      let j = i + 1;
      for (; j < value.length && level > 0; j++) {
        if (value[j] === '{') level++;
        else if (value[j] === '}') level--;
      }
      if (level > 0) throw new ValueSyntaxError(`missing '}' in "${value.slice(i)}"`);
      out.push(value.slice(i + 1, j - 1).trim());
      i = j;
      continue;
    }
    let j = i;
    while (j < value.length && !isSep(value[j])) {
      if (value[j] === '{') {
        let level = 1;
        j++;
        for (; j < value.length && level > 0; j++) {
          if (value[j] === '{') level++;
          else if (value[j] === '}') level--;
        }
        continue;
      }
      j++;
    }
    out.push(value.slice(i, j));
    i = j;
  }
  return out;
}

/** Postfix booleans: yes/no (case-insensitive). */
export function parseBool(value: string, name = 'parameter'): boolean {
  const v = value.toLowerCase();
  if (v === 'yes') return true;
  if (v === 'no') return false;
  throw new ValueSyntaxError(`bad boolean configuration: ${name} = ${value}`);
}

export type TimeUnit = 's' | 'm' | 'h' | 'd' | 'w';
const UNIT_SECONDS: Record<TimeUnit, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Converts a time value to seconds; `defUnit` applies to a bare number. */
export function parseTime(value: string, defUnit: TimeUnit = 's', name = 'parameter'): number {
  const m = /^(\d+)([smhdw]?)$/i.exec(value.trim());
  if (!m) throw new ValueSyntaxError(`invalid ${name} parameter value: "${value}"`);
  const unit = ((m[2] ?? '') === '' ? defUnit : (m[2] as string).toLowerCase()) as TimeUnit;
  return Number(m[1]) * UNIT_SECONDS[unit];
}

/** A size or count in bytes / items: a plain decimal number. */
export function parseSize(value: string, name = 'parameter'): number {
  const v = value.trim();
  if (!/^\d+$/.test(v)) throw new ValueSyntaxError(`bad numerical configuration: ${name} = ${value}`);
  return Number(v);
}

export function parseIntValue(value: string, name = 'parameter'): number {
  const v = value.trim();
  if (!/^-?\d+$/.test(v)) throw new ValueSyntaxError(`bad numerical configuration: ${name} = ${value}`);
  return Number(v);
}
