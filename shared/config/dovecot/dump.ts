/*
 * doveconf's human-readable dump: sorts exported keys and prints them as nested `name value {` sections. Pure
 * (returns text).
 *
 * Follows Dovecot 2.3.19's doveconf as observed and as its config_dump_human_output() behaves:
 * - keys sort bytewise as signed chars with `=` ending a key before anything else, list markers first, and an
 *   element's name key ahead of its siblings, so `service auth-worker` precedes `service auth` and `mailbox Sent`
 *   precedes `mailbox "Sent Messages"` (the escaped id `Sent\_Messages`);
 * - a section head is held back until a key inside it is printed, so empty sections vanish;
 * - values with `#` or leading/trailing blanks are quoted and backslash-escaped; names with a space are quoted;
 * - unless showing passwords, `*_password`, `*_key`, `ssl_key*`, `ssl_dh*` print `# hidden, use -P to show it`
 *   and `password=` inside `args` prints `password=#hidden_use-P_to_show#`.
 * - filter blocks print after the global settings, least specific first, each under its
 *   `local`/`local_name`/`remote`/`protocol` heads.
 */
import { formatNet, type FilterBlock, type FilterSpec } from './model.js';
import type { ExportedKey } from './export.js';
import { filterSpecificity } from './view.js';

const INDENT = '                              !!!!';
const ind = (n: number): string => INDENT.slice(0, Math.max(0, n * 2));

interface SortItem {
  readonly bytes: Buffer;
  readonly e: ExportedKey;
}

function sortBytes(e: ExportedKey): Buffer {
  if (e.kind === 'list') return Buffer.from(`\x01${e.key}=${e.value}`);
  if (e.kind === 'unique') {
    const slash = e.key.lastIndexOf('/');
    return Buffer.concat([Buffer.from(e.key.slice(0, slash + 1)), Buffer.from([0xff]), Buffer.from(`${e.key.slice(slash + 1)}=${e.value}`)]);
  }
  return Buffer.from(`${e.key}=${e.value}`);
}

const signed = (b: number): number => (b > 127 ? b - 256 : b);
const EQ = 0x3d;

/** doveconf's config_string_cmp(). */
function compareKeys(a: Buffer, b: Buffer): number {
  let i = 0;
  for (;;) {
    const x = i < a.length ? (a[i] ?? 0) : 0;
    const y = i < b.length ? (b[i] ?? 0) : 0;
    if (x !== y) {
      if (x === EQ) return -1;
      if (y === EQ) return 1;
      return signed(x) - signed(y);
    }
    if (x === 0 || x === EQ) return 0;
    i++;
  }
}

/** Dovecot's str_escape(): backslash before `\`, `"` and `'`. */
export function strEscape(s: string): string {
  return s.replace(/[\\"']/g, '\\$&');
}

function needQuote(v: string): boolean {
  if (v === '') return false;
  return v.includes('#') || /^[ \t]|[ \t]$/.test(v);
}

function isSecretKey(key: string): boolean {
  return key.endsWith('_password') || key.endsWith('_key') || key.startsWith('ssl_key') || key.startsWith('ssl_dh');
}

/** Formats `key = value` as doveconf prints a setting line's value part. */
export function formatValue(key: string, value: string, hidePasswords: boolean): string {
  const quote = needQuote(value);
  if (hidePasswords && value !== '') {
    if (isSecretKey(key)) return '# hidden, use -P to show it';
    if (key.endsWith('args')) value = value.replace(/(^|\s)password=\S*/g, '$1password=#hidden_use-P_to_show#');
  }
  return quote ? `"${strEscape(value)}"` : value;
}

export interface HumanDumpOptions {
  readonly hidePasswords: boolean;
  /** Print only keys equal to or below this path (`doveconf namespace`). */
  readonly nameFilter?: string;
  readonly indent?: number;
  /** Text to emit before the first printed key (a filter block's heads). */
  readonly lead?: string;
}

export interface HumanDump {
  readonly text: string;
  /** True when at least one key was printed (so `lead` went out). */
  readonly printed: boolean;
}

/** Sorts and nests exported keys the way doveconf's human output does. */
export function dumpHuman(keys: readonly ExportedKey[], opts: HumanDumpOptions): HumanDump {
  const items: SortItem[] = keys.map((e) => ({ bytes: sortBytes(e), e }));
  items.sort((a, b) => compareKeys(a.bytes, b.bytes));

  const prefixes: string[] = [];
  let i = 0;
  for (; i < items.length && items[i]?.e.kind === 'list'; i++) {
    const e = items[i]?.e;
    if (e === undefined) continue;
    if (e.value === '') prefixes.push(`${e.key}/`);
    else for (const id of e.value.split(' ')) prefixes.push(`${e.key}/${id}/`);
  }

  let out = '';
  let pending = opts.lead ?? '';
  let printed = false;
  let indent = opts.indent ?? 0;
  let cur = -1;
  const stack: { idx: number; pos: number }[] = [];
  const pop = (): { parent: number; pos: number } => {
    const top = stack.pop();
    const parent = stack.length === 0 ? -1 : (stack[stack.length - 1]?.idx ?? -1);
    return { parent, pos: top?.pos ?? -1 };
  };

  for (; i < items.length; i++) {
    const e = items[i]?.e;
    if (e === undefined || e.kind === 'list') continue;
    const key = e.key;
    const unique = e.kind === 'unique';
    if (opts.nameFilter !== undefined && opts.nameFilter !== '') {
      const f = opts.nameFilter;
      if (!(key.startsWith(f) && (key.length === f.length || key[f.length] === '/'))) continue;
    }
    let done = false;
    for (;;) {
      let j = 0;
      while (cur !== -1) {
        const p = prefixes[cur] ?? '';
        if (!key.startsWith(p)) {
          const sc = pop();
          indent--;
          if (sc.pos !== -1) pending = pending.slice(0, sc.pos);
          else out += `${ind(indent)}}\n`;
          cur = sc.parent;
        } else {
          j = cur + 1;
          break;
        }
      }
      let opened = false;
      for (; j < prefixes.length; j++) {
        const p = prefixes[j] ?? '';
        if (!key.startsWith(p)) continue;
        const key2 = key.slice(cur === -1 ? 0 : (prefixes[cur] ?? '').length);
        stack.push({ idx: j, pos: unique ? pending.length : -1 });
        cur = j;
        const slash = key2.indexOf('/');
        pending += ind(indent) + (slash >= 0 ? key2.slice(0, slash) : key2);
        if (unique && e.value !== '') pending += e.value.includes(' ') ? ` "${strEscape(e.value)}"` : ` ${e.value}`;
        pending += ' {\n';
        indent++;
        opened = true;
        break;
      }
      if (opened && unique) { done = true; break; }
      if (opened) continue;
      break;
    }
    if (done) continue;
    out += pending;
    pending = '';
    for (const s of stack) s.pos = -1;
    printed = true;
    const skip = cur === -1 ? 0 : (prefixes[cur] ?? '').length;
    const local = key.slice(skip);
    out += `${ind(indent)}${local} = ${formatValue(local, e.value, opts.hidePasswords)}\n`;
  }
  while (cur !== -1) {
    const sc = pop();
    if (sc.pos !== -1) break;
    cur = sc.parent;
    indent--;
    out += `${ind(indent)}}\n`;
  }
  return { text: out, printed };
}

/** The heads `local …`, `local_name …`, `remote …`, `protocol …` of a filter block, and how deep they nest. */
export function filterHead(f: FilterSpec): { text: string; depth: number } {
  let text = '';
  let depth = 0;
  if (f.local !== undefined) { text += `local ${formatNet(f.local)} {\n`; depth++; }
  if (f.localName !== undefined) { text += `${ind(depth)}local_name ${f.localName} {\n`; depth++; }
  if (f.remote !== undefined) { text += `${ind(depth)}remote ${formatNet(f.remote)} {\n`; depth++; }
  if (f.protocol !== undefined) { text += `${ind(depth)}protocol ${f.protocol} {\n`; depth++; }
  return { text, depth };
}

export function filterTail(depth: number): string {
  let s = '';
  for (let d = depth - 1; d >= 0; d--) s += `${ind(d)}}\n`;
  return s;
}

/** Filter blocks in the order doveconf prints them: least specific first, file order among equals. */
export function blocksInDumpOrder(blocks: readonly FilterBlock[]): FilterBlock[] {
  return blocks.map((b, n) => ({ b, n }))
    .sort((x, y) => -filterSpecificity(x.b.filter, y.b.filter) || x.n - y.n)
    .map((x) => x.b);
}
