/*
 * inline:{ key=value, { key = value with spaces } } (Postfix 3.0+ dict_inline).
 *
 * Elements are separated by commas and/or whitespace; an element in braces may contain whitespace
 * and is split at the first `=` with the name and value trimmed. Error texts are Postfix's:
 *   bad syntax: "inline:{…}"; need "inline:{name=value...}"
 *   missing '=' after attribute name: "inline:{…}"; need "inline:{name=value...}"
 * Distrusts: the whole string (it comes from main.cf); unbalanced braces are a TableOpenError.
 */
import { TableOpenError } from './errors.js';
import { MemoryTable } from './memory-table.js';
import type { OpenTableOptions } from './table.js';

/** Splits `{ … }` contents into top-level elements; returns undefined on unbalanced braces. */
export function splitBraceList(inner: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < inner.length) {
    const c = inner[i] as string;
    if (c === ',' || /\s/.test(c)) {
      i++;
      continue;
    }
    let depth = 0;
    let j = i;
    for (; j < inner.length; j++) {
      const d = inner[j] as string;
      if (d === '{') depth++;
      else if (d === '}') {
        depth--;
        if (depth < 0) return undefined;
      } else if (depth === 0 && (d === ',' || /\s/.test(d))) break;
    }
    if (depth !== 0) return undefined;
    out.push(inner.slice(i, j));
    i = j;
  }
  return out;
}

/** `{text}` → `text` trimmed, or undefined when the braces are not the whole string. */
export function stripBraces(s: string): string | undefined {
  if (!s.startsWith('{') || !s.endsWith('}')) return undefined;
  return s.slice(1, -1).trim();
}

export function openInline(name: string, opts: OpenTableOptions = {}): MemoryTable {
  const spec = `inline:${name}`;
  const bad = (): never => {
    throw new TableOpenError(`bad syntax: "${spec}"; need "inline:{name=value...}"`);
  };
  if (!name.startsWith('{') || !name.endsWith('}')) bad();
  const elems = splitBraceList(name.slice(1, -1));
  if (elems === undefined || elems.length === 0) return bad();
  const table = new MemoryTable('inline', name, opts.fold ?? true);
  for (const el of elems) {
    let text = el;
    let braced = false;
    if (el.startsWith('{')) {
      const inner = stripBraces(el);
      if (inner === undefined) return bad();
      text = inner;
      braced = true;
    }
    const eq = text.indexOf('=');
    if (eq < 0) throw new TableOpenError(`missing '=' after attribute name: "${spec}"; need "inline:{name=value...}"`);
    const key = braced ? text.slice(0, eq).trim() : text.slice(0, eq);
    const value = braced ? text.slice(eq + 1).trim() : text.slice(eq + 1);
    table.add(key, value, true);
  }
  return table;
}
