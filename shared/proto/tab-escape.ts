/*
 * Dovecot's TAB escaping (str_tabescape / str_tabunescape in strescape.c), used by every
 * TAB-separated Dovecot protocol (auth-client, auth-master, dict, doveadm): 0x01 → "\x011",
 * TAB → "\x01t", CR → "\x01r", LF → "\x01n". Unescaping an unknown "\x01X" yields X, as Dovecot
 * does; a lone trailing 0x01 is dropped. Pure.
 */

const ESC = '\x01';

export function tabEscape(s: string): string {
  if (!/[\x01\t\r\n]/.test(s)) return s;
  let out = '';
  for (const ch of s) {
    switch (ch) {
      case '\x01': out += `${ESC}1`; break;
      case '\t': out += `${ESC}t`; break;
      case '\r': out += `${ESC}r`; break;
      case '\n': out += `${ESC}n`; break;
      default: out += ch;
    }
  }
  return out;
}

export function tabUnescape(s: string): string {
  if (!s.includes(ESC)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== ESC) {
      out += ch;
      continue;
    }
    const next = s[++i];
    if (next === undefined) break;
    switch (next) {
      case '1': out += '\x01'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      default: out += next;
    }
  }
  return out;
}

/** Splits a line on TAB and unescapes each field (t_strsplit_tabescaped). */
export function splitTabEscaped(line: string): string[] {
  return line.split('\t').map(tabUnescape);
}

/** Escapes each field and joins with TAB (no line terminator). */
export function joinTabEscaped(fields: readonly string[]): string {
  return fields.map(tabEscape).join('\t');
}

/** A "key=value" or bare "flag" field list as Dovecot protocols carry them, order kept. */
export type KeyValueFields = [string, string | undefined][];

export function parseKeyValues(fields: readonly string[]): KeyValueFields {
  return fields.map((f) => {
    const eq = f.indexOf('=');
    return eq < 0 ? [f, undefined] : [f.slice(0, eq), f.slice(eq + 1)];
  });
}

export function formatKeyValues(fields: KeyValueFields): string[] {
  return fields.map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
}

/** First value of a key (undefined when absent, '' for a bare flag). */
export function fieldValue(fields: KeyValueFields, key: string): string | undefined {
  for (const [k, v] of fields) if (k === key) return v ?? '';
  return undefined;
}
