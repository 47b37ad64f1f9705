/*
 * Opens a table from its `type:name` string, as Postfix dict_open(3) does, and says which types can
 * be built by postmap/postalias.
 *
 *   openTable('lmdb:/etc/postfix/virtual')       openTable('proxy:lmdb:/etc/postfix/virtual')
 *   openTable('inline:{ a=b, { c = d e } }')       openTable('static:{ text }')
 *
 * Unsupported types fail with Postfix's text `unsupported dictionary type: TYPE`; a string without a
 * name fails with `open dictionary: expecting "type:name" form instead of "…"`.
 * `proxy:` only delegates (there is no proxymap daemon to talk to; the table is opened locally with
 * the same result proxymap would return).
 * Distrusts: the spec string (it comes from main.cf or the command line).
 */
import { TableOpenError } from './errors.js';
import { CidrTable } from './cidr.js';
import { IndexedTable, isIndexedType } from './indexed-table.js';
import { openInline } from './inline.js';
import { PatternTable } from './pattern-table.js';
import { pcreDialect, regexpDialect } from './regexp-dialects.js';
import { FailTable, openStatic, openUnix } from './simple-tables.js';
import { TexthashTable } from './texthash.js';
import type { LookupTable, OpenTableOptions, TableEntry } from './table.js';

/** Types Postern can open, in `postconf -m` spirit. */
export const SUPPORTED_TYPES = ['btree', 'cidr', 'fail', 'hash', 'inline', 'lmdb', 'pcre', 'proxy', 'regexp', 'static', 'texthash', 'unix'] as const;

export interface TableSpec {
  readonly type: string;
  readonly name: string;
}

/** Splits `type:name` at the first colon; undefined when there is no colon or no name. */
export function parseTableSpec(spec: string): TableSpec | undefined {
  const colon = spec.indexOf(':');
  if (colon <= 0 || colon === spec.length - 1) return undefined;
  return { type: spec.slice(0, colon), name: spec.slice(colon + 1) };
}

export function isSupportedType(type: string): boolean {
  return (SUPPORTED_TYPES as readonly string[]).includes(type);
}

/** Types that postmap can build an index for (Postfix: "bulk-mode creation"). */
export function canCreate(type: string): boolean {
  return isIndexedType(type);
}

class ProxyTable implements LookupTable {
  readonly type = 'proxy';
  readonly spec: string;
  constructor(private readonly inner: LookupTable) {
    this.spec = `proxy:${inner.spec}`;
  }
  get name(): string {
    return this.inner.spec;
  }
  lookup(key: string): string | undefined {
    return this.inner.lookup(key);
  }
  changed(): boolean {
    return this.inner.changed?.() ?? false;
  }
  close(): void {
    this.inner.close();
  }
}

/**
 * Postfix 3.7 warns when any table answers with an empty string (the answer is still used):
 *   table TYPE:NAME: key KEY: empty string result is not allowed
 *   table TYPE:NAME should return NO RESULT in case of NOT FOUND
 */
class EmptyResultWarning implements LookupTable {
  constructor(
    private readonly inner: LookupTable,
    private readonly warn: (m: string) => void,
  ) {
    const seq = inner.sequence?.bind(inner);
    if (seq) this.sequence = seq;
  }
  sequence?: () => Iterable<TableEntry>;
  get type(): string {
    return this.inner.type;
  }
  get name(): string {
    return this.inner.name;
  }
  get spec(): string {
    return this.inner.spec;
  }
  lookup(key: string): string | undefined {
    const v = this.inner.lookup(key);
    if (v !== '') return v;
    this.warn(`table ${this.spec}: key ${key}: empty string result is not allowed`);
    this.warn(`table ${this.spec} should return NO RESULT in case of NOT FOUND`);
    return v;
  }
  changed(): boolean {
    return this.inner.changed?.() ?? false;
  }
  close(): void {
    this.inner.close();
  }
}

export function openTable(spec: string, opts: OpenTableOptions = {}): LookupTable {
  return new EmptyResultWarning(openBare(spec, opts), opts.warn ?? (() => undefined));
}

function openBare(spec: string, opts: OpenTableOptions): LookupTable {
  const parsed = parseTableSpec(spec);
  if (parsed === undefined) throw new TableOpenError(`open dictionary: expecting "type:name" form instead of "${spec}"`);
  const { type, name } = parsed;
  switch (type) {
    case 'texthash':
      return TexthashTable.open(name, opts);
    case 'inline':
      return openInline(name, opts);
    case 'static':
      return openStatic(name);
    case 'regexp':
      return PatternTable.open(regexpDialect, name, opts);
    case 'pcre':
      return PatternTable.open(pcreDialect, name, opts);
    case 'cidr':
      return CidrTable.open(name, opts);
    case 'lmdb':
    case 'hash':
    case 'btree':
      return IndexedTable.open(type, name, opts);
    case 'proxy':
      return new ProxyTable(openBare(name, opts));
    case 'unix':
      return openUnix(name, opts);
    case 'fail':
      return new FailTable(name);
    default:
      throw new TableOpenError(`unsupported dictionary type: ${type}`);
  }
}
