/*
 * master.cf parser (pure), following master(5) and postconf's reading of it (Postfix 3.7):
 * same comment/continuation rules as main.cf; each logical line is split on blanks with `{ }`
 * protecting blanks (argv_splitq); 8 fixed columns `service type private unpriv chroot wakeup
 * maxproc command`, `-` meaning the built-in default; daemon options are normalised the way
 * postconf shows them: `-ozz` -> `-o zz`, `-o { name = value }` -> `-o name=value`, `{ a b }`
 * arguments -> `a b`. Services named `[host]:port` / `host:port` are kept verbatim.
 * Distrusts: the file. Field errors throw ConfigSyntaxError with postconf's wording.
 */
import { ConfigSyntaxError } from '../../errors/config-error.js';
import { splitPhysicalLines, logicalLines, splitNameValue } from './main-cf.js';

export const MASTER_FIELD_NAMES = ['service', 'type', 'private', 'unprivileged', 'chroot', 'wakeup', 'process_limit', 'command'] as const;
export const MASTER_TYPES = ['unix', 'unix-dgram', 'fifo', 'inet', 'pass'];
const BLANKS = ' \t\r\n';

export interface MasterEntry {
  /** argv: 7 fixed fields, then the command and its normalised arguments. */
  argv: string[];
  /** First and last physical line of the entry. */
  line: number;
  endLine: number;
  /** The logical line as read (continuations joined). */
  raw: string;
}

export interface MasterCf {
  file: string;
  lines: string[];
  finalNewline: boolean;
  entries: MasterEntry[];
  warnings: string[];
}

/** argv_splitq(3): split on blanks; `{...}` groups (balanced) stay inside one token. */
export function splitQuoted(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && BLANKS.includes(text[i] as string)) i++;
    if (i >= text.length) break;
    let j = i;
    let level = 0;
    while (j < text.length && (level > 0 || !BLANKS.includes(text[j] as string))) {
      if (text[j] === '{') level++;
      else if (text[j] === '}' && level > 0) level--;
      j++;
    }
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

/** extpar(3) with strip: `{ text }` -> `text`; returns [value, warning?]. */
function extractBraced(arg: string): [string, string | undefined] {
  if (!arg.startsWith('{')) return [arg, undefined];
  let level = 0;
  let end = -1;
  for (let i = 0; i < arg.length; i++) {
    if (arg[i] === '{') level++;
    else if (arg[i] === '}' && --level === 0) { end = i; break; }
  }
  if (end < 0) return [arg.slice(1).trim(), `missing '}' in "${arg}"`];
  if (end !== arg.length - 1) return [arg.slice(1, end).trim(), `syntax error after '}' in "${arg}"`];
  return [arg.slice(1, end).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ''), undefined];
}

/** Brings daemon options into postconf's canonical form (pcf_normalize_daemon_args). */
export function normalizeDaemonArgs(argv: string[], warnings: string[] = []): string[] {
  const a = [...argv];
  let f = 8;
  for (; f < a.length; f++) {
    let arg = a[f] as string;
    if (!arg.startsWith('-') || arg === '--') break;
    // Postfix splits "-stuffozz" into "-stuff" "-ozz" and goes on with "-stuff" (quirks included).
    const oAt = arg.indexOf('o', 2);
    if (oAt > 1) {
      a.splice(f + 1, 0, `-${arg.slice(oAt)}`);
      arg = arg.slice(0, oAt);
      a[f] = arg;
    }
    if (arg[1] !== 'o') continue;
    let extract = false;
    if (arg.length > 2) {
      a.splice(f + 1, 0, arg.slice(2));
      a[f] = '-o';
      f++;
      extract = (a[f] as string).startsWith('{');
    } else if (f + 1 < a.length) {
      f++;
      extract = (a[f] as string).startsWith('{');
    }
    if (extract) {
      const [v, w] = extractBraced(a[f] as string);
      if (w) warnings.push(`master.cf: ${w}`);
      const nv = splitNameValue(v);
      if (typeof nv === 'string') {
        warnings.push(`master.cf: ${nv}: "${v}"`);
        a[f] = v;
      } else {
        a[f] = `${nv[0]}=${nv[1]}`;
      }
    }
  }
  for (; f < a.length; f++) {
    if ((a[f] as string).startsWith('{')) {
      const [v, w] = extractBraced(a[f] as string);
      if (w) warnings.push(`master.cf: ${w}`);
      a[f] = v;
    }
  }
  return a;
}

/** Checks the fixed fields; returns postconf's error text or undefined. */
export function checkMasterFields(argv: readonly string[], raw: string): string | undefined {
  const q = raw.replace(/\n/g, ' ');
  if (!MASTER_TYPES.includes(argv[1] as string)) return `invalid type field "${argv[1]}" in "${q}"`;
  for (let f = 2; f <= 4; f++) {
    const v = argv[f] as string;
    if (v.length !== 1 || !'yn-'.includes(v)) return `invalid ${MASTER_FIELD_NAMES[f]} field "${v}" in "${q}"`;
  }
  const w = argv[5] as string;
  const wl = w.endsWith('?') ? w.slice(0, -1) : w;
  if (!(w === '-' || /^\d*$/.test(wl))) return `invalid wakeup field "${w}" in "${q}"`;
  const m = argv[6] as string;
  if (m !== '-' && !/^\d*$/.test(m)) return `invalid process_limit field "${m}" in "${q}"`;
  return undefined;
}

/** Parses one logical master.cf line into an entry argv (throws a plain Error with postconf's text). */
export function parseMasterLine(text: string, warnings: string[] = []): string[] {
  const argv = splitQuoted(text);
  if (argv.length < 8) throw new Error('bad field count');
  const err = checkMasterFields(argv, text);
  if (err) throw new Error(err);
  return normalizeDaemonArgs(argv, warnings);
}

export function parseMasterCf(text: string, file: string): MasterCf {
  const { lines, finalNewline } = splitPhysicalLines(text);
  const entries: MasterEntry[] = [];
  const warnings: string[] = [];
  for (const ll of logicalLines(lines)) {
    let argv: string[];
    try {
      argv = parseMasterLine(ll.text, warnings);
    } catch (e) {
      const msg = (e as Error).message;
      if (msg === 'bad field count') throw new ConfigSyntaxError(file, ll.line, msg, `file ${file}: line ${ll.endLine}: ${msg}`);
      throw new ConfigSyntaxError(file, ll.line, msg, msg);
    }
    entries.push({ argv, line: ll.line, endLine: ll.endLine, raw: ll.text });
  }
  return { file, lines, finalNewline, entries, warnings };
}

/** The `-o name=value` settings of an entry, in order (later duplicates win in the map). */
export function entryParams(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let f = 8; f < argv.length; f++) {
    const arg = argv[f] as string;
    if (!arg.startsWith('-') || arg === '--') break;
    if (arg === '-o' && f + 1 < argv.length) {
      const nv = splitNameValue(argv[f + 1] as string);
      if (typeof nv !== 'string') out.set(nv[0], nv[1]);
      f++;
    }
  }
  return out;
}

/** Effective services: for each service/type the last entry wins (master(8)). */
export function effectiveServices(m: MasterCf): MasterEntry[] {
  const byKey = new Map<string, MasterEntry>();
  for (const e of m.entries) {
    const k = `${e.argv[0]}/${e.argv[1]}`;
    byKey.delete(k);
    byKey.set(k, e);
  }
  return [...byKey.values()];
}
