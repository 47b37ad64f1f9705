/*
 * The body of postmap(1) and postalias(1): query (-q key | -q -), delete (-d key | -d -), list (-s),
 * build (default) and incremental add (-i), with Postfix's messages and exit codes:
 *   -q: exit 0 when found, 1 when not (with -q -: 0 when any key was found);
 *   -d: exit 0 when something was deleted, 1 otherwise;
 *   errors: `PROG: fatal: …` and exit 1.
 * Builds are atomic: the whole index is written to a temporary file and renamed into place, so a
 * reader never sees a half-built table (real postmap rewrites in place under a lock).
 * Reads main.cf through shared/config/postfix/config.ts for default_database_type and myhostname.
 * Distrusts: argv, stdin, the source files (warnings) and the index files (see lmdb-format.ts).
 */
import { readFileSync } from 'node:fs';
import { postfixDiag, type Diag } from '../../shared/cli/diag.js';
import { ConfigOpenError, ConfigSyntaxError, strerror } from '../../shared/errors/config-error.js';
import { loadPostfixConfig, DEFAULT_CONFIG_DIR, type PostfixConfig } from '../../shared/config/postfix/config.js';
import { TableLookupError, TableOpenError } from '../../shared/config/tables/errors.js';
import { canCreate, isSupportedType, openTable, parseTableSpec } from '../../shared/config/tables/registry.js';
import { IndexedTable, indexPath, writeIndex } from '../../shared/config/tables/indexed-table.js';
import { iterTableSource, type SourceEntry } from '../../shared/config/tables/source-file.js';
import { iterAliasSource } from '../../shared/config/tables/alias-source.js';
import { foldKey, type LookupTable } from '../../shared/config/tables/table.js';
import { parseTableToolArgs, type TableToolOptions } from './table-options.js';

export type Flavor = 'postmap' | 'postalias';

export interface ToolIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin: () => string;
  env: NodeJS.ProcessEnv;
}

export const processIo: ToolIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdin: () => readFileSync(0, 'utf8'),
  env: process.env,
};

const USAGE: Record<Flavor, { text: string; flags: string }> = {
  postmap: { text: 'postmap [-bfFhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] [map_type:]file...', flags: 'bfFhimnNoprsuUvw' },
  postalias: { text: 'postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key] [map_type:]file...', flags: 'NfinoprsuvwF' },
};

/** Loads main.cf for `-c DIR`, `MAIL_CONFIG` or the default directory; fatal on failure. */
export function loadToolConfig(dir: string | undefined, env: NodeJS.ProcessEnv, diag: Diag): PostfixConfig {
  const configDir = dir ?? env['MAIL_CONFIG'] ?? DEFAULT_CONFIG_DIR;
  try {
    return loadPostfixConfig({ configDir });
  } catch (err) {
    if (err instanceof ConfigOpenError || err instanceof ConfigSyntaxError) return diag.fatal(err.message);
    throw err;
  }
}

/** `file` → `default_database_type:file`; `type:file` stays (a `/` before the colon means a path). */
export function qualify(map: string, defaultType: string): string {
  const colon = map.indexOf(':');
  if (colon > 0 && !map.slice(0, colon).includes('/')) return map;
  return `${defaultType}:${map}`;
}

export function runTableTool(flavor: Flavor, argv: readonly string[], io: ToolIo = processIo): number {
  const diag = postfixDiag(flavor, io.stderr);
  const usage = USAGE[flavor];
  const o = parseTableToolArgs(argv, flavor, usage.text, usage.flags, diag, io.stderr);
  const config = loadToolConfig(o.configDir, io.env, diag);
  const maps = o.maps.map((m) => qualify(m, config.get('default_database_type') || 'hash'));
  try {
    if (o.query !== undefined) return query(flavor, o, maps, io, diag);
    if (o.deleteKey !== undefined) return remove(flavor, o, maps, io, diag);
    if (o.show) return show(flavor, o, maps, io, diag);
    for (const spec of maps) build(flavor, o, spec, config, io, diag);
    return 0;
  } catch (err) {
    if (err instanceof TableOpenError || err instanceof TableLookupError) return diag.fatal(err.message);
    throw err;
  }
}

function openForRead(spec: string, o: TableToolOptions, diag: Diag): LookupTable {
  return openTable(spec, { fold: o.fold, warn: diag.warn, ...(o.nul ? { nul: o.nul } : {}) });
}

function decodeOut(o: TableToolOptions, value: string): string {
  return o.base64 ? Buffer.from(value, 'base64').toString('latin1') : value;
}

function query(flavor: Flavor, o: TableToolOptions, maps: string[], io: ToolIo, diag: Diag): number {
  const tables: LookupTable[] = [];
  const tableAt = (i: number): LookupTable => (tables[i] ??= openForRead(maps[i] as string, o, diag));
  const find = (key: string): string | undefined => {
    for (let i = 0; i < maps.length; i++) {
      const v = tableAt(i).lookup(key);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  if (o.query !== '-') {
    const v = find(o.query as string);
    if (v === undefined) return 1;
    io.stdout(`${decodeOut(o, v)}\n`);
    return 0;
  }
  let found = false;
  const sep = flavor === 'postalias' ? ':\t' : '\t';
  for (const key of stdinKeys(o, io.stdin())) {
    const v = find(key);
    if (v === undefined) continue;
    found = true;
    io.stdout(`${key}${sep}${decodeOut(o, v)}\n`);
  }
  return found ? 0 : 1;
}

/** Keys from stdin: one per line, or with -h/-b the header (unfolded) or body lines of a message. */
function stdinKeys(o: TableToolOptions, text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (!o.header && !o.body) return lines;
  const blank = lines.findIndex((l) => l === '' || l === '\r');
  const head = blank < 0 ? lines : lines.slice(0, blank);
  const body = blank < 0 ? [] : lines.slice(blank + 1);
  const out: string[] = [];
  if (o.header) {
    for (const l of head) {
      if (/^[ \t]/.test(l) && out.length > 0) out[out.length - 1] += `\n${l}`;
      else out.push(l);
    }
  }
  if (o.body) out.push(...body);
  return out;
}

function remove(flavor: Flavor, o: TableToolOptions, maps: string[], io: ToolIo, diag: Diag): number {
  const keys = o.deleteKey === '-' ? stdinKeys(o, io.stdin()) : [o.deleteKey as string];
  let deleted = false;
  for (const spec of maps) {
    const { type, name } = parseTableSpec(spec) ?? { type: '', name: spec };
    if (!canCreate(type)) {
      if (!isSupportedType(type)) diag.fatal(`unsupported dictionary type: ${type}`);
      diag.fatal(`${spec} map requires O_RDONLY access mode`);
    }
    const existing = readIndex(type, name, o, diag);
    for (const k of keys) {
      const key = o.fold ? foldKey(k) : k;
      if (existing.delete(key)) deleted = true;
    }
    writeIndex(type, name, existing, o.nul ?? 'with');
  }
  void flavor;
  return deleted ? 0 : 1;
}

function readIndex(type: string, name: string, o: TableToolOptions, diag: Diag): Map<string, string> {
  const t = IndexedTable.open(type, name, { fold: o.fold, warn: diag.warn });
  try {
    const m = new Map<string, string>();
    for (const e of t.sequence()) m.set(e.key, e.value);
    return m;
  } finally {
    t.close();
  }
}

function show(flavor: Flavor, o: TableToolOptions, maps: string[], io: ToolIo, diag: Diag): number {
  const sep = flavor === 'postalias' ? ':\t' : '\t';
  for (const spec of maps) {
    const t = openForRead(spec, o, diag);
    if (!t.sequence) return diag.fatal(`table ${spec}: sequence operation is not supported`);
    for (const e of t.sequence()) io.stdout(`${e.key}${sep}${decodeOut(o, e.value)}\n`);
    t.close();
  }
  return 0;
}

/** The name Postfix uses for a table in duplicate-entry warnings. */
function dupLabel(type: string, name: string): string {
  return type === 'hash' || type === 'btree' ? indexPath(type, name) : `${type}:${name}`;
}

function build(flavor: Flavor, o: TableToolOptions, spec: string, config: PostfixConfig, io: ToolIo, diag: Diag): void {
  const parsed = parseTableSpec(spec);
  if (parsed === undefined) return diag.fatal(`open dictionary: expecting "type:name" form instead of "${spec}"`);
  const { type, name } = parsed;
  if (!canCreate(type)) {
    // Types we can open but not index (texthash, regexp…) and types we do not know at all.
    try {
      openTable(spec, { warn: () => undefined }).close();
    } catch (err) {
      if (err instanceof TableOpenError && err.message.startsWith('unsupported dictionary type')) throw err;
    }
    return diag.fatal(`unsupported dictionary type: ${type} does not support bulk-mode creation.`);
  }
  let entries: Iterable<SourceEntry>;
  const source = o.incremental ? 'stdin' : name;
  let text: string;
  try {
    text = o.incremental ? io.stdin() : readFileSync(name, 'utf8');
  } catch (err) {
    return diag.fatal(`open ${name}: ${strerror(err)}`);
  }
  if (flavor === 'postalias') entries = iterAliasSource(text, source, diag.warn);
  else entries = iterTableSource(text, source, diag.warn, false);

  const table = o.incremental ? incrementalBase(type, name, o, diag) : new Map<string, string>();
  const label = dupLabel(type, name);
  for (const e of entries) {
    const key = o.fold ? foldKey(e.key) : e.key;
    const value = o.base64 && flavor === 'postmap' ? encodeFiles(e.value, diag) : e.value;
    if (table.has(key) && !o.replace) {
      if (o.warnDuplicates) diag.warn(`${label}: duplicate entry: "${key}"`);
      continue;
    }
    table.set(key, value);
  }
  if (flavor === 'postalias' && !o.incremental) {
    table.set('@', '@');
    table.set('YP_LAST_MODIFIED', String(Math.floor(Date.now() / 1000)));
    table.set('YP_MASTER_NAME', config.get('myhostname'));
  }
  writeIndex(type, name, table, o.nul ?? 'with');
}

function incrementalBase(type: string, name: string, o: TableToolOptions, diag: Diag): Map<string, string> {
  try {
    return readIndex(type, name, o, diag);
  } catch (err) {
    if (err instanceof TableOpenError && /No such file/.test(err.message)) return new Map();
    throw err;
  }
}

/** postmap -F: the value lists files; store the base64 of their concatenated contents. */
function encodeFiles(value: string, diag: Diag): string {
  const parts: Buffer[] = [];
  for (const f of value.split(/[\s,]+/).filter(Boolean)) {
    try {
      parts.push(readFileSync(f));
    } catch (err) {
      diag.fatal(`open ${f}: ${strerror(err)}`);
    }
  }
  return Buffer.concat(parts).toString('base64');
}
