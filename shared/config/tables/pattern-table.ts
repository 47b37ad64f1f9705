/*
 * The rule-file engine shared by regexp: and pcre: (Postfix dict_regexp.c / dict_pcre.c behaviour):
 *
 *   /pattern/flags result        first matching rule wins; result may use $1 ${1} $(1), $$ is `$`
 *   !/pattern/flags result       matches when the pattern does NOT match; $n is refused
 *   if /pattern/flags … endif    (and `if !/…/`), nestable; an IF without ENDIF runs to end of file
 *   any non-alphanumeric delimiter; `\` protects the delimiter inside the pattern
 *
 * Problems with one rule are warnings in Postfix's words (`regexp map FILE, line N: …: skipping this
 * rule`) and the rule is dropped; the table still opens. Lines are logical lines (whitespace
 * continuation, # comments) as in every table file.
 * Distrusts: the file. Keys are matched as given (no case folding; the `i` flag decides).
 */
import { readFileSync } from 'node:fs';
import { strerror } from '../../errors/config-error.js';
import { TableOpenError } from './errors.js';
import { logicalLines } from './source-file.js';
import { takeStamp, stampChanged, type FileStamp } from './file-stamp.js';
import type { LookupTable, OpenTableOptions } from './table.js';

/** A compiled matcher: returns the capture array (index 0 = whole match) or null. */
export interface CompiledPattern {
  exec(key: string): (string | undefined)[] | null;
  readonly groups: number;
}

/** Type-specific part: flag letters and pattern compilation. Throws Error(message) on bad input. */
export interface PatternDialect {
  readonly label: string; // 'regexp' | 'pcre'
  compile(pattern: string, flags: string): CompiledPattern;
}

type Piece = { kind: 'lit'; text: string } | { kind: 'ref'; n: number };

export interface Rule {
  readonly kind: 'match' | 'if' | 'endif';
  readonly line: number;
  readonly negate: boolean;
  readonly pattern?: CompiledPattern;
  readonly result?: Piece[];
  /** For `if`: index of the rule after the matching endif. */
  skipTo?: number;
}

/** Parses `$1 ${1} $(1) $$` into pieces; returns an error text for a bad `$`. */
export function parseReplacement(text: string): Piece[] | string {
  const out: Piece[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '$') {
      lit += c;
      continue;
    }
    const n = text[i + 1];
    if (n === '$') {
      lit += '$';
      i++;
      continue;
    }
    let m: RegExpExecArray | null;
    const rest = text.slice(i + 1);
    if ((m = /^(\d+)/.exec(rest)) || (m = /^\{(\d+)\}/.exec(rest)) || (m = /^\((\d+)\)/.exec(rest))) {
      if (lit) out.push({ kind: 'lit', text: lit });
      lit = '';
      out.push({ kind: 'ref', n: Number(m[1]) });
      i += m[0].length;
      continue;
    }
    return `unknown "$" expression in "${text}"`;
  }
  if (lit) out.push({ kind: 'lit', text: lit });
  return out;
}

/** Splits `<d>pattern<d>flags` at the start of `text`; returns the rest after the flags. */
export function splitPattern(text: string): { pattern: string; flags: string; rest: string } | string {
  const delim = text[0];
  if (delim === undefined || /[A-Za-z0-9\s]/.test(delim)) return 'regexp pattern must start with a delimiter';
  let i = 1;
  for (; i < text.length && text[i] !== delim; i++) {
    if (text[i] === '\\' && i + 1 < text.length) i++;
  }
  if (i >= text.length) return `no closing regexp delimiter "${delim}"`;
  const pattern = text.slice(1, i);
  let j = i + 1;
  while (j < text.length && !/\s/.test(text[j] as string)) j++;
  return { pattern, flags: text.slice(i + 1, j), rest: text.slice(j).trim() };
}

export function parseRules(text: string, file: string, dialect: PatternDialect, warn: (m: string) => void): Rule[] {
  const where = (line: number): string => `${dialect.label} map ${file}, line ${line}`;
  const rules: Rule[] = [];
  const open: number[] = [];
  for (const ll of logicalLines(text, file, warn)) {
    let body = ll.text;
    const word = /^(\S+)/.exec(body)?.[1]?.toLowerCase();
    if (word === 'endif') {
      const at = open.pop();
      if (at === undefined) {
        warn(`${where(ll.line)}: ignoring ENDIF without matching IF`);
        continue;
      }
      rules.push({ kind: 'endif', line: ll.line, negate: false });
      (rules[at] as Rule).skipTo = rules.length;
      continue;
    }
    const isIf = word === 'if' && /^if\s/i.test(body);
    if (isIf) body = body.slice(2).trim();
    let negate = false;
    if (body.startsWith('!')) {
      negate = true;
      body = body.slice(1).trimStart();
    }
    const sp = splitPattern(body);
    if (typeof sp === 'string') {
      warn(`${where(ll.line)}: ${sp}`);
      continue;
    }
    let compiled: CompiledPattern;
    try {
      compiled = dialect.compile(sp.pattern, sp.flags);
    } catch (err) {
      warn(`${where(ll.line)}: ${(err as Error).message}`);
      continue;
    }
    if (isIf) {
      if (sp.rest !== '') warn(`${where(ll.line)}: ignoring extra text after IF statement: "${sp.rest}"`);
      open.push(rules.length);
      rules.push({ kind: 'if', line: ll.line, negate, pattern: compiled });
      continue;
    }
    let resultText = sp.rest;
    if (resultText === '') warn(`${where(ll.line)}: no replacement text: using empty string`);
    const pieces = parseReplacement(resultText);
    if (typeof pieces === 'string') {
      warn(`${where(ll.line)}: ${pieces}: skipping this rule`);
      continue;
    }
    const refs = pieces.filter((p): p is { kind: 'ref'; n: number } => p.kind === 'ref');
    if (negate && refs.length > 0) {
      warn(`${where(ll.line)}: $number found in negative match replacement text: skipping this rule`);
      continue;
    }
    const bad = refs.find((r) => r.n > compiled.groups);
    if (bad) {
      warn(`${where(ll.line)}: out of range replacement index "${bad.n}": skipping this rule`);
      continue;
    }
    resultText = '';
    rules.push({ kind: 'match', line: ll.line, negate, pattern: compiled, result: pieces });
  }
  for (const at of open.reverse()) {
    warn(`${where((rules[at] as Rule).line)}: IF has no matching ENDIF`);
    (rules[at] as Rule).skipTo = rules.length;
  }
  return rules;
}

export function evaluateRules(rules: readonly Rule[], key: string): string | undefined {
  for (let i = 0; i < rules.length; ) {
    const r = rules[i] as Rule;
    if (r.kind === 'endif') {
      i++;
      continue;
    }
    const m = (r.pattern as CompiledPattern).exec(key);
    const hit = r.negate ? m === null : m !== null;
    if (r.kind === 'if') {
      i = hit ? i + 1 : (r.skipTo ?? rules.length);
      continue;
    }
    if (hit) {
      return (r.result as Piece[]).map((p) => (p.kind === 'lit' ? p.text : (m?.[p.n] ?? ''))).join('');
    }
    i++;
  }
  return undefined;
}

export class PatternTable implements LookupTable {
  readonly spec: string;
  private readonly stamp: FileStamp;
  private constructor(
    readonly type: string,
    readonly name: string,
    private readonly rules: Rule[],
  ) {
    this.spec = `${type}:${name}`;
    this.stamp = takeStamp(name);
  }

  static open(dialect: PatternDialect, name: string, opts: OpenTableOptions = {}): PatternTable {
    let text: string;
    try {
      text = readFileSync(name, 'utf8');
    } catch (err) {
      throw new TableOpenError(`open ${name}: ${strerror(err)}`);
    }
    return new PatternTable(dialect.label, name, parseRules(text, name, dialect, opts.warn ?? (() => undefined)));
  }

  lookup(key: string): string | undefined {
    return evaluateRules(this.rules, key);
  }
  changed(): boolean {
    return stampChanged(this.stamp);
  }
  close(): void {}
}
