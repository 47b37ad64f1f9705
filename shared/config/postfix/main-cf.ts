/*
 * main.cf parser (pure: text in, typed result out).
 *
 * Follows postconf(5) and Postfix's readllines(3) + split_nameval(3) as observed on 3.7.11:
 * - a logical line starts at a line whose first character is not whitespace; lines that start with
 *   whitespace continue it (the newline is dropped, the continuation keeps its leading whitespace);
 * - empty, whitespace-only and `#` comment lines (first non-blank character `#`) are skipped and do
 *   not end a logical line; a `#` elsewhere is data;
 * - `name = value`: the name ends at whitespace or `=`, whitespace around both is trimmed;
 * - the last definition wins, with Postfix's "overriding earlier entry" warning;
 * - a logical line that starts with whitespace (continuation before any entry) is skipped with
 *   Postfix's "logical line must not start with whitespace" warning.
 * Distrusts: every byte of the file. Syntax errors throw ConfigSyntaxError with Postfix's wording.
 * Physical lines are kept verbatim so that postconf -e/-X/-# can rewrite one entry and leave every
 * other byte alone.
 */
import { ConfigSyntaxError } from '../../errors/config-error.js';

/** One `name = value` logical line. Lines are 1-based physical line numbers. */
export interface MainCfEntry {
  name: string;
  /** Raw value: continuation lines appended with their leading whitespace, trimmed at both ends. */
  value: string;
  /** First physical line of the logical line. */
  line: number;
  /** Last physical line that belongs to it (continuations; trailing comments/blank lines excluded). */
  endLine: number;
}

export interface MainCf {
  file: string;
  /** Physical lines without their line terminator; `lines[0]` is line 1. */
  lines: string[];
  /** True when the text ended with a newline (so edits can preserve that). */
  finalNewline: boolean;
  /** Every entry in file order, including overridden ones. */
  entries: MainCfEntry[];
  /** Effective values (last definition wins), in order of first definition. */
  params: Map<string, string>;
  /** Diagnostics Postfix prints as warnings while reading the file (without the `prog: warning: ` prefix). */
  warnings: string[];
}

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\v' || c === '\f';

/** Splits text into physical lines the way a C fgets loop would (LF terminates; CR is data). */
export function splitPhysicalLines(text: string): { lines: string[]; finalNewline: boolean } {
  if (text === '') return { lines: [], finalNewline: false };
  const finalNewline = text.endsWith('\n');
  const lines = text.split('\n');
  if (finalNewline) lines.pop();
  return { lines, finalNewline };
}

function isSkippable(line: string): boolean {
  const t = line.replace(/^[ \t\r\v\f]+/, '');
  return t === '' || t.startsWith('#');
}

/** A logical line: its text (joined) and the physical lines it spans. */
export interface LogicalLine {
  text: string;
  line: number;
  endLine: number;
}

/** Groups physical lines into logical lines (readllines(3)). */
export function logicalLines(lines: readonly string[]): LogicalLine[] {
  const out: LogicalLine[] = [];
  let cur: LogicalLine | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (isSkippable(l)) continue;
    if (cur !== undefined && isBlank(l[0])) {
      cur.text += l;
      cur.endLine = i + 1;
      continue;
    }
    cur = { text: l, line: i + 1, endLine: i + 1 };
    out.push(cur);
  }
  return out;
}

/** split_nameval(3): returns [name, value] or throws with Postfix's detail text. */
export function splitNameValue(text: string): [string, string] | string {
  let p = 0;
  while (p < text.length && isBlank(text[p])) p++;
  const start = p;
  while (p < text.length && !isBlank(text[p]) && text[p] !== '=') p++;
  const name = text.slice(start, p);
  while (p < text.length && isBlank(text[p])) p++;
  if (name === '') return 'missing attribute name';
  if (text[p] !== '=') return "missing '=' after attribute name";
  const value = text.slice(p + 1).replace(/^[ \t\r\n\v\f]+/, '').replace(/[ \t\r\n\v\f]+$/, '');
  return [name, value];
}

/** Parses main.cf text. `file` is the path used in messages (e.g. `/etc/postfix/main.cf`). */
export function parseMainCf(text: string, file: string): MainCf {
  const { lines, finalNewline } = splitPhysicalLines(text);
  const entries: MainCfEntry[] = [];
  const params = new Map<string, string>();
  const warnings: string[] = [];
  for (const ll of logicalLines(lines)) {
    if (isBlank(ll.text[0])) {
      warnings.push(`${file}: logical line must not start with whitespace: "${ll.text}"`);
      continue;
    }
    const nv = splitNameValue(ll.text);
    if (typeof nv === 'string') {
      throw new ConfigSyntaxError(file, ll.line, nv, `${file}, line ${ll.line}: ${nv}: "${ll.text.replace(/[ \t\r\n]+$/, '')}"`);
    }
    const [name, value] = nv;
    const old = params.get(name);
    if (old !== undefined) warnings.push(`${file}, line ${ll.line}: overriding earlier entry: ${name}=${old}`);
    params.set(name, value);
    entries.push({ name, value, line: ll.line, endLine: ll.endLine });
  }
  return { file, lines, finalNewline, entries, params, warnings };
}
