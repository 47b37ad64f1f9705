/*
 * Dovecot 2.3's `%` variable expansion (var-expand.c), the one expander for mail_location, auth_username_format,
 * pop3_uidl_format, passdb/userdb args and every other `%` template. Pure.
 *
 * Syntax: `%` [`-`][`0`][offset`.`][width] [modifiers] (letter | `{name}`), `%%` is a literal `%`.
 * - width alone keeps that many leading characters (`%1n`); `offset.width` starts at offset (`%2.1n` = third
 *   character; a negative offset counts from the end: `%-2.2i`, as does a negative width alone: `%-3i`); with a
 *   leading `0` the width pads with zeros
 *   instead (`%08Xu`), as Dovecot's docs and pop3_uidl_format rely on;
 * - modifiers, applied left to right: L lower, U upper, E backslash-escape, X decimal → lowercase hex,
 *   R reverse, H PJW hash as hex (modulo width if given), N md5-based hash as hex (modulo width), M md5 hex,
 *   D `a.b.c` → `dc=a,dc=b,dc=c`, T trim trailing blanks;
 * - `%{name}` looks up long names (user, username, domain, home, service, lip/local_ip, rip/remote_ip, pid, uid,
 *   gid, session, hostname, auth_user …) and their one-letter twins; `%{env:NAME}` reads `env`;
 *   `%{md5:VAR}`, `%{sha1:VAR}`, `%{sha256:VAR}` hash a variable; `%{if;a;op;b;then;else}` compares.
 * Unknown variables are kept verbatim (expandVarsChecked reports them). Distrusts: the template.
 */
import { createHash } from 'node:crypto';

/** One-letter variables and their long names (first is the canonical long name). */
export const SHORT_VARS: Readonly<Record<string, readonly string[]>> = {
  u: ['user'], n: ['username'], d: ['domain'], s: ['service'], h: ['home'],
  l: ['lip', 'local_ip'], r: ['rip', 'remote_ip'], p: ['pid'], i: ['uid'],
  a: ['lport', 'local_port'], b: ['rport', 'remote_port'], c: ['secured'], k: ['cert'], m: ['mech', 'mechanism'],
  w: ['password'], o: ['orig_user'], e: ['session'],
};

const LONG_TO_SHORT = new Map<string, string>();
for (const [s, longs] of Object.entries(SHORT_VARS)) for (const l of longs) LONG_TO_SHORT.set(l, s);

export interface ExpandResult {
  readonly value: string;
  /** Variables the template used that are not known at all (`%z`, `%{nosuch}`). */
  readonly unknown: readonly string[];
}

type Vars = Readonly<Record<string, string | undefined>>;

function lookup(name: string, vars: Vars): string | undefined {
  if (name in vars) return vars[name] ?? '';
  const short = name.length === 1 ? name : LONG_TO_SHORT.get(name);
  if (short !== undefined) {
    if (short in vars) return vars[short] ?? '';
    for (const l of SHORT_VARS[short] ?? []) if (l in vars) return vars[l] ?? '';
    return name.length === 1 && SHORT_VARS[name] === undefined ? undefined : '';
  }
  return undefined;
}

/** Dovecot's str_hash(): the PJW/ELF hash over the bytes. */
function pjwHash(s: string): number {
  let h = 0;
  for (const byte of Buffer.from(s)) {
    h = ((h << 4) + byte) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) {
      h = (h ^ (g >>> 24)) >>> 0;
      h = (h ^ g) >>> 0;
    }
  }
  return h;
}

interface Ctx {
  width: number;
}

const MODIFIERS: Readonly<Record<string, (v: string, ctx: Ctx) => string>> = {
  L: (v) => v.toLowerCase(),
  U: (v) => v.toUpperCase(),
  E: (v) => v.replace(/[\\"']/g, '\\$&'),
  X: (v) => (/^\d+$/.test(v) ? BigInt(v) : 0n).toString(16),
  R: (v) => [...v].reverse().join(''),
  H: (v, ctx) => {
    let h = pjwHash(v);
    if (ctx.width !== 0) { h %= ctx.width; ctx.width = 0; }
    return h.toString(16);
  },
  N: (v, ctx) => {
    let h = createHash('md5').update(v).digest().readUInt32BE(0);
    if (ctx.width !== 0) { h %= ctx.width; ctx.width = 0; }
    return h.toString(16);
  },
  M: (v) => createHash('md5').update(v).digest('hex'),
  D: (v) => v.split('.').map((p) => `dc=${p}`).join(','),
  T: (v) => v.replace(/[ \t]+$/, ''),
};

function compare(a: string, op: string, b: string): boolean | undefined {
  const na = Number(a);
  const nb = Number(b);
  const wild = (s: string, p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's').test(s);
  switch (op) {
    case '==': return na === nb;
    case '!=': return na !== nb;
    case '<': return na < nb;
    case '<=': return na <= nb;
    case '>': return na > nb;
    case '>=': return na >= nb;
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    case 'gt': return a > b;
    case 'ge': return a >= b;
    case '*': return wild(a, b);
    case '!*': return !wild(a, b);
    case '~': return new RegExp(b).test(a);
    case '!~': return !new RegExp(b).test(a);
    default: return undefined;
  }
}

/** Splits `if;a;op;b;then;else` on `;` that are not inside nested `%{…}`. */
function splitIfArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '%' && s[i + 1] === '{') { depth++; cur += '%{'; i++; continue; }
    if (c === '}' && depth > 0) depth--;
    if (c === ';' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** Finds the `}` closing a `{` at `open`, allowing nested `%{…}`. */
function closingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function longVar(body: string, vars: Vars, env: Vars, unknown: string[]): string | undefined {
  if (body.startsWith('if;')) {
    const args = splitIfArgs(body.slice(3)).map((a) => expandVarsChecked(a, vars, env));
    for (const a of args) unknown.push(...a.unknown);
    const [a, op, b, yes, no] = args.map((x) => x.value);
    const r = compare(a ?? '', op ?? '', b ?? '');
    if (r === undefined) { unknown.push(`if;${op ?? ''}`); return ''; }
    return r ? (yes ?? '') : (no ?? '');
  }
  if (body.startsWith('env:')) return env[body.slice(4)] ?? '';
  const colon = body.indexOf(':');
  if (colon > 0) {
    const fn = body.slice(0, colon);
    if (fn === 'md5' || fn === 'sha1' || fn === 'sha256' || fn === 'sha512') {
      const v = lookup(body.slice(colon + 1), vars);
      if (v === undefined) return undefined;
      return createHash(fn).update(v).digest('hex');
    }
  }
  return lookup(body, vars);
}

/** Expands a template, reporting unknown variables. */
export function expandVarsChecked(template: string, vars: Vars, env: Vars = {}): ExpandResult {
  let out = '';
  const unknown: string[] = [];
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c !== '%') { out += c; i++; continue; }
    const start = i;
    i++;
    if (i >= template.length) { out += '%'; break; }
    if (template[i] === '%') { out += '%'; i++; continue; }

    let sign = 1;
    let zeroPad = false;
    let width = 0;
    let offset = 0;
    let haveWidth = false;
    if (template[i] === '-') { sign = -1; i++; }
    if (template[i] === '0') { zeroPad = true; i++; }
    while (i < template.length && /\d/.test(template[i] ?? '')) { width = width * 10 + Number(template[i]); i++; haveWidth = true; }
    if (template[i] === '.') {
      offset = sign * width;
      sign = 1;
      width = 0;
      haveWidth = false;
      i++;
      if (template[i] === '0') { zeroPad = true; i++; }
      while (i < template.length && /\d/.test(template[i] ?? '')) { width = width * 10 + Number(template[i]); i++; haveWidth = true; }
    }
    const mods: string[] = [];
    while (i + 1 < template.length && MODIFIERS[template[i] ?? ''] !== undefined) { mods.push(template[i] ?? ''); i++; }
    if (i >= template.length) { out += template.slice(start); break; }

    let value: string | undefined;
    let name: string;
    if (template[i] === '{' && closingBrace(template, i) > 0) {
      const end = closingBrace(template, i);
      name = template.slice(i + 1, end);
      value = longVar(name, vars, env, unknown);
      i = end + 1;
    } else {
      name = template[i] ?? '';
      value = lookup(name, vars);
      i++;
    }
    if (value === undefined) {
      unknown.push(name);
      out += template.slice(start, i);
      continue;
    }
    const ctx: Ctx = { width: haveWidth ? width : 0 };
    for (const m of mods) value = (MODIFIERS[m] ?? ((v: string) => v))(value, ctx);
    if (sign < 0 && ctx.width !== 0 && !zeroPad) {
      // `%-3i`: a negative width keeps that many characters from the end
      value = value.slice(Math.max(0, value.length - ctx.width));
    } else if (ctx.width !== 0 || offset !== 0) {
      if (zeroPad) {
        value = value.padStart(ctx.width, '0');
      } else {
        let from = offset;
        if (from < 0) from = Math.max(0, value.length + from);
        else if (from > value.length) from = value.length;
        value = ctx.width !== 0 ? value.slice(from, from + ctx.width) : value.slice(from);
      }
    }
    out += value;
  }
  return { value: out, unknown };
}

/** Expands `%` variables in `template` with Dovecot 2.3 rules; unknown variables stay as written. */
export function expandVars(template: string, vars: Record<string, string | undefined>): string {
  return expandVarsChecked(template, vars).value;
}

/** The user variables Dovecot derives from a login name: u, n (local part), d (domain, when there is one). */
export function userVars(user: string): Record<string, string | undefined> {
  const at = user.indexOf('@');
  return at < 0 ? { u: user, n: user, d: undefined } : { u: user, n: user.slice(0, at), d: user.slice(at + 1) };
}
