/*
 * postconf(1): print and edit Postfix main.cf and master.cf, output byte-compatible with
 * Postfix 3.7.11 postconf (see docs in reference §5.1).
 *
 * Modes: parameters (no flag, -n, -d, -x, -h, -H, -f, names), main.cf edits (-e, implied -e for
 * `name=value`, -X, -#), master.cf entries (-M, -Mf, -M svc/type=line, -MX, -M#), fields (-F,
 * -F svc/type/field=value), service parameters (-P, -P svc/type/param=value, -PX), plus -o, -c,
 * MAIL_CONFIG, -a, -A, -l, -m. Options are parsed like Postfix's getopt on Linux ("+" mode: the
 * first non-option ends the options; combined flags such as -nf, -Mf, -PX work).
 * Distrusts: the command line and both files; edits go through writeFileAtomicSync.
 * Known difference: Postfix prints unused/undefined warnings and appends new -e names in
 * randomised hash order; we use file/argument order.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { hostname } from 'node:os';
import { postfixDiag, runCli, type Diag } from '../../shared/cli/diag.js';
import { ConfigSyntaxError, strerror } from '../../shared/errors/config-error.js';
import { writeFileAtomicSync } from '../../shared/fs/atomic.js';
import { parseMainCf } from '../../shared/config/postfix/main-cf.js';
import { parseMasterCf, MASTER_FIELD_NAMES, type MasterCf } from '../../shared/config/postfix/master-cf.js';
import { expandMacros, type MacroLookup } from '../../shared/config/postfix/expand.js';
import { buildRegistry, RAW_PARAMS, type Registry, type ServiceScope } from '../../shared/config/postfix/registry.js';
import { realHostInfo } from '../../shared/config/postfix/defaults.js';
import { printLine, formatMasterEntry, formatMasterField } from '../../shared/config/postfix/format.js';
import { parseMainEditArgs, editMainCf, EditRequestError, type MainEditMode } from '../../shared/config/postfix/edit-main.js';
import { editMasterCf, type MasterEditKind } from '../../shared/config/postfix/edit-master.js';
import { defaultMyNetworks, defaultMyDomain } from '../../shared/config/postfix/host-defaults.js';
import { getopt as posixGetopt, GetoptError } from '../../shared/cli/getopt.js';

const USAGE = 'usage: postconf [-a (server SASL types)] [-A (client SASL types)] [-b (bounce templates)] [-c config_dir] [-c param_class] [-d (parameter defaults)] [-e (edit configuration)] [-f (fold lines)] [-F (master.cf fields)] [-h (no names)] [-H (no values)] [-l (lock types)] [-m (map types)] [-M (master.cf)] [-n (non-default parameters)] [-o name=value (override parameter value)] [-p (main.cf, default)] [-P (master.cf parameters)] [-t (bounce templates)] [-T compile-version|run-version|public-key-algorithms] [-v (verbose)] [-x (expand parameter values)] [-X (exclude)] [-# (comment-out)] [name...]';
const OPTSTRING = 'aAbc:C:deEfF#hHlLmMno:pPStT:vxX';
const MAP_TYPES = ['btree', 'cidr', 'environ', 'fail', 'hash', 'inline', 'internal', 'lmdb', 'memcache', 'nis', 'pcre', 'pipemap', 'proxy', 'randmap', 'regexp', 'socketmap', 'static', 'tcp', 'texthash', 'unionmap', 'unix'];

interface Opts {
  flags: Set<string>;
  configDir?: string;
  overrides: Array<[string, string]>;
  args: string[];
}

/** getopt(3) with a leading "+" (shared/cli/getopt.ts), then the -c and -o values. */
function getopt(argv: readonly string[], diag: Diag, err: (s: string) => void): Opts {
  const o: Opts = { flags: new Set(), overrides: [], args: [] };
  let parsed;
  try {
    parsed = posixGetopt('postconf', argv, OPTSTRING);
  } catch (e) {
    if (!(e instanceof GetoptError)) throw e;
    err(`${e.message}\n`);
    diag.fatal(USAGE);
  }
  for (const { opt, arg } of parsed.opts) {
    if (arg === undefined) o.flags.add(opt);
    else if (opt === 'c') o.configDir = arg;
    else if (opt === 'o') {
      const eq = arg.indexOf('=');
      if (eq < 0) diag.fatal(`-o option requires name=value argument`);
      o.overrides.push([arg.slice(0, eq).trim(), arg.slice(eq + 1).trim()]);
    }
  }
  o.args = parsed.rest;
  return o;
}

interface Ctx {
  diag: Diag;
  out: string[];
  configDir: string;
  mainPath: string;
  masterPath: string;
}

function readText(path: string): string | NodeJS.ErrnoException {
  try {
    return readFileSync(path, 'latin1');
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

function exclusive(diag: Diag, flags: Set<string>, group: string[]): void {
  const set = group.filter((f) => flags.has(f));
  if (set.length > 1) {
    const two = set.slice(0, 2).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    diag.fatal(`specify one of ${two.map((f) => `-${f}`).join(' ')}`);
  }
}

function readMaster(ctx: Ctx, failOnOpen: boolean): MasterCf | undefined {
  const text = readText(ctx.masterPath);
  if (typeof text !== 'string') {
    if (failOnOpen) ctx.diag.fatal(`open ${ctx.masterPath}: ${strerror(text)}`);
    ctx.diag.warn(`open ${ctx.masterPath}: ${strerror(text)}`);
    return undefined;
  }
  try {
    const m = parseMasterCf(text, ctx.masterPath);
    for (const w of m.warnings) ctx.diag.warn(w);
    return m;
  } catch (e) {
    if (e instanceof ConfigSyntaxError) ctx.diag.fatal(e.message);
    throw e;
  }
}

function readMain(ctx: Ctx, overrides: Array<[string, string]>): Map<string, string> {
  const text = readText(ctx.mainPath);
  if (typeof text !== 'string') ctx.diag.fatal(`open ${ctx.mainPath}: ${strerror(text)}`);
  const values = new Map<string, string>([['config_directory', ctx.configDir]]);
  try {
    const m = parseMainCf(text, ctx.mainPath);
    for (const w of m.warnings) ctx.diag.warn(w);
    if (m.params.has('config_directory')) {
      const first = m.entries.find((e) => e.name === 'config_directory');
      if (first) ctx.diag.warn(`${ctx.mainPath}, line ${first.line}: overriding earlier entry: config_directory=${ctx.configDir}`);
    }
    for (const [k, v] of m.params) values.set(k, v);
  } catch (e) {
    if (e instanceof ConfigSyntaxError) ctx.diag.fatal(e.message);
    throw e;
  }
  for (const [k, v] of overrides) values.set(k, v);
  return values;
}

/** The parameter-value view used for printing and -x expansion. */
function makeLookup(reg: Registry, values: Map<string, string>, defaultsOnly: boolean): (name: string) => string | undefined {
  const cache = new Map<string, string | undefined>();
  const lookup = (name: string): string | undefined => {
    const info = reg.params.get(name);
    if (!info) return undefined;
    if (!defaultsOnly && values.has(name)) return values.get(name);
    if (cache.has(name)) return cache.get(name);
    let d = info.defaultText;
    if (name === 'mynetworks' && info.kind === 'builtin') {
      const style = expandOrDie(lookup('mynetworks_style') ?? '', lookup);
      d = defaultMyNetworks(style.value);
    } else if (name === 'mydomain' && info.kind === 'builtin') {
      d = defaultMyDomain(expandOrDie(lookup('myhostname') ?? '', lookup).value);
    } else if (name === 'myhostname' && info.kind === 'builtin') {
      // A host name without a dot is completed with an explicitly set mydomain, else "localdomain".
      const host = hostname();
      const dom = !defaultsOnly && values.has('mydomain') ? expandOrDie(values.get('mydomain') as string, lookup).value : 'localdomain';
      d = host.includes('.') ? host : `${host}.${dom}`;
    } else if (name === 'process_id' && info.kind === 'builtin') {
      d = String(realHostInfo().pid);
    }
    cache.set(name, d);
    return d;
  };
  return lookup;
}

function expandOrDie(text: string, lookup: MacroLookup): { value: string; warnings: string[]; error: boolean } {
  return expandMacros(text, (n) => lookup(n, 'use'));
}

function expandValue(ctx: Ctx, text: string, lookup: (n: string) => string | undefined): string {
  const r = expandMacros(text, (n) => lookup(n));
  for (const w of r.warnings) ctx.diag.warn(w);
  if (r.error) ctx.diag.fatal('macro processing error');
  return r.value;
}

function showParameters(ctx: Ctx, flags: Set<string>, names: string[], reg: Registry, values: Map<string, string>): void {
  const defs = flags.has('d');
  const nondef = flags.has('n') && names.length === 0;
  const evalx = flags.has('x');
  const fold = flags.has('f');
  const lookup = makeLookup(reg, values, defs);
  const show = (name: string): void => {
    let value: string | undefined;
    if (nondef) value = values.get(name);
    else value = lookup(name);
    if (value === undefined) return;
    if (evalx && !RAW_PARAMS.has(name)) value = expandValue(ctx, value, lookup);
    if (flags.has('H')) ctx.out.push(printLine(name, fold));
    else if (flags.has('h')) ctx.out.push(printLine(value, fold));
    else ctx.out.push(printLine(`${name} = ${value}`, fold));
  };
  if (names.length === 0) {
    const all = [...reg.params.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const n of all) {
      if (defs && reg.params.get(n)?.kind === 'user') continue;
      show(n);
    }
    return;
  }
  for (const n of names) {
    if (!reg.params.has(n)) ctx.diag.warn(`${n}: unknown parameter`);
    else show(n);
  }
}

/** pcf_parse_service_pattern: "name[/type[/x]]" with min/max component counts. */
function servicePattern(text: string, min: number, max: number): string[] | undefined {
  const parts = text.split('/');
  if (parts.length < min || parts.length > max || parts.some((p) => p === '')) return undefined;
  return parts;
}

const matchPart = (pat: string | undefined, v: string): boolean => pat === undefined || pat === '*' || pat === v;

function masterScopeLookup(reg: Registry, values: Map<string, string>, scope: ServiceScope | undefined): (n: string) => string | undefined {
  const base = makeLookup(reg, values, false);
  return (n) => {
    if (scope && scope.params.has(n)) return scope.params.get(n);
    if (scope && n === 'service_name') return scope.argv[0];
    if (scope && n === 'process_name') return (scope.argv[7] as string).replace(/^.*\//, '');
    if (!reg.params.has(n) && values.has(n)) return values.get(n);
    return base(n);
  };
}

function showMaster(ctx: Ctx, kind: 'M' | 'F' | 'P', flags: Set<string>, args: string[], master: MasterCf | undefined, reg: Registry, values: Map<string, string>): void {
  const fold = flags.has('f');
  const hide = flags.has('h');
  const entries = master?.entries ?? [];
  const reqs = args.map((raw) => {
    const pat = servicePattern(raw, 1, kind === 'M' ? 2 : 3);
    if (!pat) {
      ctx.diag.fatal(kind === 'M' ? '-M option requires service_name[/type]'
        : kind === 'F' ? '-F option requires service_name[/type[/field]]'
          : '-P option requires service_name[/type[/parameter]]');
    }
    let field: number | undefined;
    if (kind === 'F' && pat[2] !== undefined && pat[2] !== '*') {
      field = (MASTER_FIELD_NAMES as readonly string[]).indexOf(pat[2]);
      if (field < 0) ctx.diag.fatal(`invalid service attribute name: "${pat[2]}"`);
    }
    return { raw, pat, field, count: 0 };
  });
  const scopeOf = (i: number): ServiceScope | undefined => reg.services[i];
  entries.forEach((e, i) => {
    const argv = e.argv;
    const scope = scopeOf(i);
    const expand = flags.has('x') ? (v: string): string => expandValue(ctx, v, masterScopeLookup(reg, values, scope)) : undefined;
    const emitEntry = (field: number | undefined): void => {
      if (kind === 'M') ctx.out.push(formatMasterEntry(argv, fold, expand));
      else if (kind === 'F') {
        const fields = field === undefined ? [0, 1, 2, 3, 4, 5, 6, 7] : [field];
        for (const f of fields) ctx.out.push(formatMasterField(argv, f, MASTER_FIELD_NAMES[f] as string, hide, fold, expand));
      }
    };
    const emitParam = (name: string, value: string): void => {
      const v = expand ? expand(value) : value;
      ctx.out.push(printLine(hide ? v : `${argv[0]}/${argv[1]}/${name} = ${v}`, fold));
    };
    const emitAllParams = (): void => {
      if (!scope) return;
      for (const n of [...scope.params.keys()].sort()) emitParam(n, scope.params.get(n) as string);
    };
    if (reqs.length === 0) {
      if (kind === 'P') emitAllParams();
      else emitEntry(undefined);
      return;
    }
    for (const r of reqs) {
      if (!matchPart(r.pat[0], argv[0] as string) || !matchPart(r.pat[1], argv[1] as string)) continue;
      if (kind === 'P') {
        if (!scope || scope.params.size === 0) continue;
        const p = r.pat[2];
        if (p === undefined || p === '*') { emitAllParams(); r.count++; } else if (scope.params.has(p)) { emitParam(p, scope.params.get(p) as string); r.count++; }
      } else {
        r.count++;
        emitEntry(r.field);
      }
    }
  });
  for (const r of reqs) if (r.count === 0) ctx.diag.warn(`unmatched request: "${r.raw}"`);
}

function main(argv: string[], write: (s: string) => void, err: (s: string) => void): number {
  const diag: Diag = postfixDiag('postconf', err);
  const o = getopt(argv, diag, err);
  const f = o.flags;
  const configDir = o.configDir ?? process.env['MAIL_CONFIG'] ?? '/etc/postfix';
  const ctx: Ctx = { diag, out: [], configDir, mainPath: `${configDir}/main.cf`, masterPath: `${configDir}/master.cf` };
  const flush = (): void => { if (ctx.out.length > 0) write(ctx.out.join('')); ctx.out = []; };
  try {
    if (f.has('a')) { ctx.out.push('cyrus\ndovecot\n'); return 0; }
    if (f.has('A')) { ctx.out.push('cyrus\n'); return 0; }
    if (f.has('l')) { ctx.out.push('flock\nfcntl\ndotlock\n'); return 0; }
    exclusive(diag, f, ['F', 'M', 'P']);
    const masterKind = (['M', 'F', 'P'] as const).find((k) => f.has(k));
    if (!masterKind && o.args.length > 0 && (o.args[0] as string).includes('=') && !f.has('e')) f.add('e');
    if (masterKind && o.args.some((a) => a.includes('=')) && !f.has('X') && !f.has('#')) f.add('e');
    exclusive(diag, f, ['e', 'X', '#']);
    exclusive(diag, f, ['d', 'n']);
    if (f.has('e') || f.has('X') || f.has('#')) exclusive(diag, f, ['e', 'n']);
    if (f.has('m')) {
      readMain(ctx, o.overrides);
      ctx.out.push(MAP_TYPES.map((t) => `${t}\n`).join(''));
      return 0;
    }
    const edit: MainEditMode | undefined = f.has('e') ? 'edit' : f.has('X') ? 'exclude' : f.has('#') ? 'comment' : undefined;
    if (edit && !masterKind) {
      if (o.args.length === 0) {
        if (edit === 'edit') diag.fatal('-e requires name=value argument');
        diag.fatal('missing service argument');
      }
      const text = readText(ctx.mainPath);
      if (typeof text !== 'string') diag.fatal(`open ${ctx.mainPath} for reading: ${strerror(text)}`);
      const warnings: string[] = [];
      const reqs = parseMainEditArgs(edit, o.args, warnings);
      for (const w of warnings) diag.warn(w);
      const w2: string[] = [];
      const next = editMainCf(text, edit, reqs, ctx.mainPath, w2);
      for (const w of w2) diag.warn(w);
      writeFileAtomicSync(ctx.mainPath, Buffer.from(next, 'latin1'));
      return 0;
    }
    if (edit && masterKind) {
      if (o.args.length === 0) diag.fatal('missing service argument');
      const text = readText(ctx.masterPath);
      if (typeof text !== 'string') diag.fatal(`open ${ctx.masterPath} for reading: ${strerror(text)}`);
      const warnings: string[] = [];
      const next = editMasterCf(text, masterKind as MasterEditKind, edit, o.args, ctx.masterPath, warnings);
      for (const w of warnings) diag.warn(w);
      writeFileAtomicSync(ctx.masterPath, Buffer.from(next, 'latin1'));
      return 0;
    }
    const values = readMain(ctx, o.overrides);
    const master = readMaster(ctx, masterKind !== undefined);
    const reg = buildRegistry({ configDir, mainValues: values, masterArgvs: master?.entries.map((e) => e.argv) ?? [] });
    const warnUnused = !f.has('d');
    if (warnUnused) {
      // Postfix evaluates legitimate parameters after the scan; a syntax error there is fatal.
      for (const w of reg.scanWarnings) diag.warn(w);
      const lk = makeLookup(reg, values, false);
      for (const [name, value] of values) {
        const kind = reg.params.get(name)?.kind;
        if (kind === undefined || kind === 'user' || RAW_PARAMS.has(name)) continue;
        const r = expandMacros(value, (n) => lk(n));
        if (!r.error) continue;
        for (const w of r.warnings) diag.warn(w);
        diag.fatal('macro processing error');
      }
    }
    if (masterKind) {
      showMaster(ctx, masterKind, f, o.args, master, reg, values);
      flush();
      for (const w of reg.unusedMaster()) diag.warn(w);
      return 0;
    }
    showParameters(ctx, f, o.args, reg, values);
    flush();
    if (warnUnused) {
      for (const w of reg.unusedMain()) diag.warn(w);
      for (const w of reg.unusedMaster()) diag.warn(w);
    }
    return 0;
  } catch (e) {
    if (e instanceof EditRequestError) {
      flush();
      diag.fatal(e.message);
    }
    throw e;
  } finally {
    flush();
  }
}

export function postconfMain(argv: string[], write: (s: string) => void, err: (s: string) => void): number {
  return main(argv, write, err);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCli(() => postconfMain(process.argv.slice(2), (s) => process.stdout.write(Buffer.from(s, 'latin1')), (s) => process.stderr.write(Buffer.from(s, 'latin1'))));
}
