/*
 * Postfix parameter expansion (mac_parse(3) + mac_expand(3) as in Postfix 3.7), pure.
 *
 * Forms: `$name`, `${name}`, `$(name)`, `$$` (a literal `$`), `${name?text}`, `${name:text}`,
 * `${name?{text}}`, `${name?{t1}:{t2}}`, `${name?{t1}:t2}` and relational expressions
 * `${{a} OP {b}}`, `${{a} OP {b} ? {x} : {y}}` with OP one of == != < <= >= > (numeric when both
 * operands are all digits, else byte-wise) or ==level !=level <level <=level >level >=level
 * (compatibility levels major[.minor[.patch]] compared numerically). Lookup results are expanded
 * again (recursion) until Postfix's nesting limit of 100; undefined names expand to "".
 * Distrusts: the pattern text. Syntax problems do not throw: like Postfix they produce warnings
 * (with Postfix's exact wording) and set `error`, so callers decide between warning and fatal.
 */

export type LookupMode = 'use' | 'test';
/** Returns the raw (unexpanded) value of a name, or undefined when the name is not defined. */
export type MacroLookup = (name: string, mode: LookupMode) => string | undefined;

export interface ExpandOptions {
  /** Expand names found in lookup results (Postfix MAC_EXP_FLAG_RECURSE). Default true. */
  recurse?: boolean;
  /**
   * Only scan for names (MAC_EXP_FLAG_SCAN): visit every branch of conditionals, call lookup for
   * every name, produce no output. postconf uses this to find user-defined parameters.
   */
  scan?: boolean;
}

export interface ExpandResult {
  value: string;
  /** A syntax error or runaway recursion was found (Postfix MAC_PARSE_ERROR). */
  error: boolean;
  /** A name was expanded whose value is undefined (MAC_PARSE_UNDEF). */
  undef: boolean;
  /** Warning texts in the order Postfix prints them, without the `prog: warning: ` prefix. */
  warnings: string[];
}

/** Thrown by expandOrThrow(); carries Postfix's warnings. */
export class MacroExpansionError extends Error {
  override readonly name = 'MacroExpansionError';
  constructor(readonly warnings: string[]) {
    super(warnings.length > 0 ? warnings.join('; ') : 'macro processing error');
  }
}

const NESTING_LIMIT = 100;
const WS = ' \t\r\n';

interface Ctx {
  out: string;
  recurse: boolean;
  scan: boolean;
  lookup: MacroLookup;
  level: number;
  error: boolean;
  undef: boolean;
  warnings: string[];
}

const isNameChar = (c: string): boolean => /^[A-Za-z0-9_]$/.test(c);
const skipWs = (s: string, i: number): number => {
  while (i < s.length && WS.includes(s[i] as string)) i++;
  return i;
};

function warn(ctx: Ctx, msg: string): void {
  ctx.warnings.push(msg);
  ctx.error = true;
}

type Piece = { kind: 'literal' | 'expr'; text: string };

/** mac_parse(3): splits into literal text and macro bodies, calling back as it goes. */
function macParse(ctx: Ctx, value: string, action: (p: Piece) => void): void {
  let buf = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i] as string;
    if (c !== '$') {
      buf += c;
      i++;
      continue;
    }
    if (value[i + 1] === '$') {
      buf += '$';
      i += 2;
      continue;
    }
    if (buf.length > 0) {
      action({ kind: 'literal', text: buf });
      buf = '';
    }
    i++;
    const open = value[i];
    if (open === '{' || open === '(') {
      const close = open === '{' ? '}' : ')';
      let level = 1;
      let j = i + 1;
      for (; level > 0; j++) {
        if (j >= value.length) {
          warn(ctx, `truncated macro reference: "${value}"`);
          return;
        }
        if (value[j] === open) level++;
        if (value[j] === close) level--;
      }
      buf = value.slice(i + 1, j - 1);
      i = j;
    } else {
      let j = i;
      while (j < value.length && isNameChar(value[j] as string)) j++;
      buf = value.slice(i, j);
      i = j;
    }
    if (buf.length === 0) {
      warn(ctx, `empty macro name: "${value}"`);
      return;
    }
    action({ kind: 'expr', text: buf });
    buf = '';
  }
  if (buf.length > 0 && !ctx.error) action({ kind: 'literal', text: buf });
}

/** Extracts a `{...}` payload starting at s[i] === '{'; returns [payload, index after trailing ws]. */
function curlyPayload(ctx: Ctx, s: string, i: number): [string, number] | undefined {
  let level = 1;
  let j = i + 1;
  for (; ; j++) {
    if (j >= s.length) {
      warn(ctx, `unbalanced {} in attribute expression: "${s.slice(i)}"`);
      return undefined;
    }
    if (s[j] === '{') level++;
    else if (s[j] === '}' && --level <= 0) break;
  }
  return [s.slice(i + 1, j), skipWs(s, j + 1)];
}

const OPS = ['==', '!=', '<', '<=', '>=', '>'];
const OP_EXPECTED = '"==" or "!="" or "<"" or "<="" or ">="" or ">"';

/** A compatibility level as [major, minor, patch], or undefined when malformed. */
export function parseCompatLevel(s: string): [number, number, number] | undefined {
  const m = /^(\d+)(?:\.(\d+)(?:\.(\d+))?)?$/.exec(s);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function cmpNumStrings(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function cmpBytes(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

function applyOp(op: string, r: number): boolean {
  switch (op) {
    case '==': return r === 0;
    case '!=': return r !== 0;
    case '<': return r < 0;
    case '<=': return r <= 0;
    case '>=': return r >= 0;
    default: return r > 0;
  }
}

/** Parses `{a} OP {b}` at s[i]; returns the boolean value ("true" / "") and the next index. */
function parseLogical(ctx: Ctx, s: string, i: number): [string, number] | undefined {
  const left = curlyPayload(ctx, s, i);
  if (!left) return undefined;
  const [lhs, afterLeft] = left;
  let j = afterLeft;
  while (j < s.length && '<>!=?+-*/~&|%'.includes(s[j] as string)) j++;
  let op = s.slice(afterLeft, j);
  let isLevel = false;
  if (OPS.includes(op) && s.startsWith('level', j)) {
    isLevel = true;
    j += 'level'.length;
  }
  if (!OPS.includes(op)) {
    warn(ctx, `${OP_EXPECTED} expected at: "...${lhs}}>>>${s.slice(afterLeft, afterLeft + 20)}"`);
    return undefined;
  }
  const opText = s.slice(afterLeft, j);
  const k = skipWs(s, j);
  if (s[k] !== '{') {
    warn(ctx, `"{expression}" expected at: "...{${lhs}} ${opText}>>>${s.slice(j, j + 20)}"`);
    return undefined;
  }
  const right = curlyPayload(ctx, s, k);
  if (!right) return undefined;
  const [rhs, next] = right;
  const a = expandInner(ctx, lhs);
  const b = expandInner(ctx, rhs);
  if (ctx.error) return undefined;
  if (ctx.scan) return ['', next];
  let r: number;
  if (isLevel) {
    const la = parseCompatLevel(a);
    if (!la) { warn(ctx, `malformed compatibility level syntax: "${a}"`); return undefined; }
    const lb = parseCompatLevel(b);
    if (!lb) { warn(ctx, `malformed compatibility level syntax: "${b}"`); return undefined; }
    r = la[0] - lb[0] || la[1] - lb[1] || la[2] - lb[2];
  } else if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    r = cmpNumStrings(a, b);
  } else {
    r = cmpBytes(a, b);
  }
  op = opText.replace('level', '');
  return [applyOp(op, r) ? 'true' : '', next];
}

/** Expands an operand of a relational expression in a fresh nesting context, as Postfix does. */
function expandInner(ctx: Ctx, text: string): string {
  const sub: Ctx = { ...ctx, out: '', level: 0, warnings: [], error: false, undef: false };
  macParse(sub, text, (p) => callback(sub, p));
  ctx.warnings.push(...sub.warnings);
  ctx.error ||= sub.error;
  ctx.undef ||= sub.undef;
  return sub.out;
}

function callback(ctx: Ctx, piece: Piece): void {
  if (ctx.level++ > NESTING_LIMIT) warn(ctx, `unreasonable macro call nesting: "${piece.text}"`);
  if (ctx.error) return;
  if (piece.kind === 'literal') {
    if (!ctx.scan) ctx.out += piece.text;
    ctx.level--;
    return;
  }
  const s = piece.text;
  let lookup: string | undefined;
  let ch = '';
  let cp: number;
  const start = skipWs(s, 0);
  if (s[start] === '{') {
    const lg = parseLogical(ctx, s, start);
    if (!lg) return;
    [lookup, cp] = lg;
    if (cp < s.length) {
      ch = s[cp] as string;
      if (ch !== '?' && ch !== ':') {
        warn(ctx, `"?" or ":" expected at: "...}>>>${s.slice(cp, cp + 20)}"`);
        return;
      }
      cp++;
    }
  } else {
    let p = start;
    while (p < s.length && isNameChar(s[p] as string)) p++;
    const name = s.slice(start, p);
    const q = skipWs(s, p);
    if (q < s.length && s[q] !== '?' && s[q] !== ':') {
      warn(ctx, `attribute name syntax error at: "...${s.slice(0, p)}>>>${s.slice(p, p + 20)}"`);
      return;
    }
    if (q < s.length) ch = s[q] as string;
    cp = q < s.length ? q + 1 : q;
    lookup = ctx.lookup(name, ch === '' ? 'use' : 'test');
  }
  const truthy = lookup !== undefined && lookup !== '';
  if (ch === '?') {
    let iftrue: string;
    const k = skipWs(s, cp);
    if (s[k] === '{') {
      const pl = curlyPayload(ctx, s, k);
      if (!pl) return;
      [iftrue, cp] = pl;
    } else {
      iftrue = s.slice(cp);
      cp = s.length;
    }
    if (truthy || ctx.scan) macParse(ctx, iftrue, (p) => callback(ctx, p));
    if (cp >= s.length) { ctx.level--; return; }
    if (s[cp] !== ':') {
      warn(ctx, `":" expected at: "...${iftrue}}>>>${s.slice(cp, cp + 20)}"`);
      return;
    }
    cp++;
    ch = ':';
    // fall through to the ':' branch, as Postfix does
  }
  if (ch === ':') {
    let iffalse: string;
    const k = skipWs(s, cp);
    if (s[k] === '{') {
      const pl = curlyPayload(ctx, s, k);
      if (!pl) return;
      [iffalse, cp] = pl;
    } else {
      iffalse = s.slice(cp);
      cp = s.length;
    }
    if (!truthy || ctx.scan) macParse(ctx, iffalse, (p) => callback(ctx, p));
    if (cp < s.length) {
      warn(ctx, `unexpected input at: "...${iffalse}}>>>${s.slice(cp, cp + 20)}"`);
      return;
    }
  } else if (ch === '') {
    if (lookup === undefined) ctx.undef = true;
    else if (lookup === '' || ctx.scan) { /* nothing */ }
    else if (ctx.recurse) macParse(ctx, lookup, (p) => callback(ctx, p));
    else ctx.out += lookup;
  }
  ctx.level--;
}

/** Expands `pattern`. Never throws; see ExpandResult.error and warnings. */
export function expandMacros(pattern: string, lookup: MacroLookup, opts: ExpandOptions = {}): ExpandResult {
  const ctx: Ctx = {
    out: '',
    recurse: opts.recurse ?? true,
    scan: opts.scan ?? false,
    lookup,
    level: 0,
    error: false,
    undef: false,
    warnings: [],
  };
  macParse(ctx, pattern, (p) => callback(ctx, p));
  return { value: ctx.out, error: ctx.error, undef: ctx.undef, warnings: ctx.warnings };
}

/** Expands `pattern`, throwing MacroExpansionError on a syntax error or runaway recursion. */
export function expandOrThrow(pattern: string, lookup: MacroLookup, opts: ExpandOptions = {}): string {
  const r = expandMacros(pattern, lookup, opts);
  if (r.error) throw new MacroExpansionError(r.warnings);
  return r.value;
}

/** Every name referenced anywhere in `pattern` (all branches), with the scan-mode warnings. */
export function scanMacroNames(pattern: string): { names: string[]; warnings: string[]; error: boolean } {
  const names: string[] = [];
  const r = expandMacros(pattern, (name) => { names.push(name); return undefined; }, { scan: true, recurse: false });
  return { names, warnings: r.warnings, error: r.error };
}
