/*
 * dovecot.conf (2.3) parser: walks the root file and its `!include`s and fills one block of set values per filter.
 * Pure apart from the injected ConfigSource (the loader in fs-source.ts gives it the file system).
 *
 * Follows Dovecot 2.3.19's config-parser as observed with the real doveconf:
 * - includes are relative to the including file's directory, globbed, sorted; `!include` without matches fails with
 *   "No matches", `!include_try` skips silently;
 * - `$name` in an unquoted value is replaced only when it names the key being set (`mail_plugins = $mail_plugins x`),
 *   unless expandValues (doveconf -x) asks for all of them; `$ENV:NAME` is read only then too;
 * - `<file` stays `<file` unless expandValues, which reads the file verbatim (relative to the including file);
 * - filters nest (`local … { protocol … { } }`), but never protocol in protocol; services inside filters are
 *   accepted and ignored;
 * - errors read `Error in configuration file FILE line N: REASON`; a 2.4 config (`dovecot_config_version`) is refused.
 * Distrusts: every byte of every file; include depth is bounded.
 */
import { ConfigSyntaxError } from '../../errors/config-error.js';
import { classifyLine, type LineState } from './line.js';
import {
  newBlock, parseNet, sameFilter, type FilterBlock, type FilterSpec, type ParsedDovecotConfig,
} from './model.js';
import {
  AUTH_MODULE_SETTINGS, BUILTIN_LISTS, CHILD_LISTS, LIST_KINDS, STRLIST_KINDS, defaultOf, escapeSectionName, idKey, isGlobalSetting,
  isSectionSetting, isUniqueList, typeOf,
} from './schema.js';
import { normaliseValue } from './values.js';

/** An error Dovecot reports only after printing what it could ("Missing '}'" at the end of the file). */
export class DelayedConfigError extends ConfigSyntaxError {}

/** The parser's only door to the outside world. */
export interface ConfigSource {
  /** Whole file as text; throws an fs-style error (with `code`) when it can't be read. */
  readFile(path: string): string;
  /** Existing paths matching a glob pattern (a plain path matches itself if it exists), sorted as glob(3) does. */
  glob(pattern: string): string[];
  /** Directory part of a path. */
  dirname(path: string): string;
}

export interface ParseOptions {
  /** doveconf -x: expand every `$var` and read `<file` values. */
  readonly expandValues?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Receives warnings as `Configuration file F line N: …` (doveconf prefixes `doveconf: Warning: `). */
  readonly warn?: (msg: string) => void;
  /**
   * Without this an unclosed section throws. With it the parser returns what it read and reports the error here,
   * so doveconf can print that and fail afterwards as Dovecot does.
   */
  readonly onDelayedError?: (err: DelayedConfigError, partial: ParsedDovecotConfig) => void;
}

const MAX_INCLUDE_DEPTH = 20;
const FILTER_TYPES = new Set(['protocol', 'local', 'remote', 'local_name']);

type FrameKind = 'root' | 'filter' | 'list' | 'strlist' | 'ignored';

interface Frame {
  readonly kind: FrameKind;
  readonly block: FilterBlock;
  /** Path prefix of the keys set in this frame (`''`, `service/auth/`, `plugin/`). */
  readonly prefix: string;
  /** Kind of list element (for `list` frames). */
  readonly elemKind: string;
  /** Section types from the top, for "Unknown setting: service { foo" messages. */
  readonly chain: readonly string[];
  readonly file: string;
  readonly line: number;
}

class Parser {
  private readonly blocks: FilterBlock[];
  private readonly stack: Frame[];
  private file = '';
  private lineNo = 0;

  constructor(private readonly root: string, private readonly src: ConfigSource, private readonly opts: ParseOptions) {
    const global = newBlock({}, root, 0);
    this.blocks = [global];
    this.stack = [{ kind: 'root', block: global, prefix: '', elemKind: '', chain: [], file: root, line: 0 }];
  }

  run(): ParsedDovecotConfig {
    this.parseFile(this.root, 0);
    const top = this.stack[this.stack.length - 1];
    const result: ParsedDovecotConfig = { path: this.root, blocks: this.blocks };
    if (this.stack.length > 1 && top !== undefined) {
      const err = new DelayedConfigError(this.root, 0, `Missing '}' (section started at ${top.file}:${top.line})`,
        `Error in configuration file ${this.root}: Missing '}' (section started at ${top.file}:${top.line})`);
      if (this.opts.onDelayedError === undefined) throw err;
      this.opts.onDelayedError(err, result);
    }
    return result;
  }

  private fail(detail: string): never {
    throw new ConfigSyntaxError(this.file, this.lineNo, detail,
      `Error in configuration file ${this.file} line ${this.lineNo}: ${detail}`);
  }

  private parseFile(path: string, depth: number): void {
    let text: string;
    try {
      text = this.src.readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' && depth > 0) return; // an include that names a directory reads as empty (observed)
      const why = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : (err as Error).message;
      if (depth === 0) {
        throw new ConfigSyntaxError(path, 0, `open(${path}) failed: ${why}`, `open(${path}) failed: ${why}`);
      }
      this.fail(`Couldn't open include file ${path}: ${why}`);
    }
    const savedFile = this.file;
    const savedLine = this.lineNo;
    this.file = path;
    this.lineNo = 0;
    const state: LineState = { pending: '' };
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const raw of lines) {
      this.lineNo++;
      const r = classifyLine(raw, state, (msg) => this.opts.warn?.(`Configuration file ${this.file} line ${this.lineNo}: ${msg}`));
      switch (r.type) {
        case 'skip':
        case 'continue':
          break;
        case 'error':
          this.fail(r.message);
        case 'include':
          this.include(r.value, r.ignoreMissing, depth);
          break;
        case 'section-end':
          if (this.stack.length <= 1) this.fail("Unexpected '}'");
          this.stack.pop();
          break;
        case 'section-begin':
          this.beginSection(r.key, r.value);
          break;
        case 'keyvalue':
          this.setValue(r.key, r.value);
          break;
        case 'keyfile':
          this.setValue(r.key, this.fileValue(r.key, r.value));
          break;
        case 'keyvariable':
          this.setValue(r.key, this.expandVariables(r.key, r.value));
          break;
      }
    }
    this.file = savedFile;
    this.lineNo = savedLine;
  }

  private include(pattern: string, ignoreMissing: boolean, depth: number): void {
    if (depth >= MAX_INCLUDE_DEPTH) this.fail(`Recursive include file: ${pattern}`);
    const matches = this.src.glob(this.relative(pattern));
    if (matches.length === 0) {
      if (ignoreMissing) return;
      this.fail('No matches');
    }
    for (const m of matches) {
      if (ignoreMissing) {
        try {
          this.src.readFile(m);
        } catch {
          continue;
        }
      }
      this.parseFile(m, depth + 1);
    }
  }

  /** Dovecot joins a relative path to the directory of the current file, if that file's path has one. */
  private relative(path: string): string {
    if (path.startsWith('/')) return path;
    const slash = this.file.lastIndexOf('/');
    return slash < 0 ? path : `${this.file.slice(0, slash)}/${path}`;
  }

  private fileValue(key: string, path: string): string {
    if (this.opts.expandValues !== true) return `<${path}`;
    try {
      return this.src.readFile(this.relative(path));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : (err as Error).message;
      this.fail(`${key}: Can't open file ${path}: ${why}`);
    }
  }

  private expandVariables(key: string, value: string): string {
    const expandAll = this.opts.expandValues === true;
    return value.replace(/\$(ENV:[A-Za-z0-9_]*|[A-Za-z0-9_]+)/g, (whole, name: string) => {
      if (name.startsWith('ENV:')) {
        return expandAll ? (this.opts.env?.[name.slice(4)] ?? '') : whole;
      }
      if (!expandAll && name !== key) return whole;
      // doveconf -x leaves a reference to a known but never-set setting as written (observed)
      if (name !== key && !this.isSetHere(name) && this.currentValue(name) !== undefined) return whole;
      const v = this.currentValue(name);
      if (v === undefined) {
        if (expandAll) this.fail(`Unknown variable: $${name}`);
        return whole;
      }
      return v;
    });
  }

  /** The value `name` has at this point, seen from the current section and filter. */
  private currentValue(name: string): string | undefined {
    const frame = this.top();
    const path = frame.prefix + name;
    const own = frame.block.set.get(path);
    if (own !== undefined) return own.value;
    const global = this.blocks[0]?.set.get(path);
    if (global !== undefined) return global.value;
    if (frame.kind === 'strlist') return undefined;
    if (frame.prefix === '' ? isGlobalSetting(name) : isSectionSetting(frame.elemKind, name)) return defaultOf(path);
    return undefined;
  }

  private isSetHere(name: string): boolean {
    const frame = this.top();
    const path = frame.prefix + name;
    return frame.block.set.has(path) || (this.blocks[0]?.set.has(path) ?? false);
  }

  private top(): Frame {
    const f = this.stack[this.stack.length - 1];
    if (f === undefined) throw new Error('parser stack empty');
    return f;
  }

  private setValue(key: string, value: string): void {
    const frame = this.top();
    if (frame.kind === 'ignored') return;
    if (frame.kind === 'strlist') {
      frame.block.set.set(frame.prefix + key, { value, file: this.file, line: this.lineNo });
      return;
    }
    if (frame.kind === 'list') {
      if (!isSectionSetting(frame.elemKind, key) || LIST_KINDS.has(key)) {
        this.fail(`Unknown setting: ${[...frame.chain, key].join(' { ')}`);
      }
    } else if (!isGlobalSetting(key)) {
      if (key === 'dovecot_config_version') {
        this.fail('Unknown setting: dovecot_config_version (this is a Dovecot 2.4 configuration; Postern reads Dovecot 2.3 syntax)');
      }
      this.fail(`Unknown setting: ${key}`);
    }
    if (frame.kind === 'filter') this.checkAuthInNetFilter(frame, key);
    const path = frame.prefix + key;
    const n = normaliseValue(typeOf(path), value);
    if (!n.ok) this.fail(n.error);
    if (frame.kind === 'root') {
      for (const b of this.blocks.slice(1)) {
        const e = b.set.get(path);
        if (e === undefined) continue;
        this.opts.warn?.(`${this.file} line ${this.lineNo}: Global setting ${key} won't change the setting inside an earlier filter at ` +
          `${e.file} line ${e.line} (if this is intentional, avoid this warning by moving the global setting before ${e.file} line ${e.line})`);
        break;
      }
    }
    frame.block.set.set(path, { value: n.value, file: this.file, line: this.lineNo });
  }

  private beginSection(type: string, name: string): void {
    const frame = this.top();
    const push = (f: Omit<Frame, 'file' | 'line'>): void => {
      this.stack.push({ ...f, file: this.file, line: this.lineNo });
    };
    if (frame.kind === 'ignored') {
      push({ ...frame });
      return;
    }
    if (frame.kind === 'strlist') this.fail('Section not allowed here');

    if (FILTER_TYPES.has(type) && (frame.kind === 'root' || frame.kind === 'filter')) {
      push({ kind: 'filter', block: this.filterBlock(frame.block.filter, type, name), prefix: '', elemKind: '', chain: [] });
      return;
    }

    const allowed = CHILD_LISTS[frame.kind === 'list' ? frame.elemKind : 'root'] ?? [];
    if (!allowed.includes(type)) this.fail(`Unknown setting: ${[...frame.chain, type, type].join(' { ')}`);

    const listPath = frame.prefix + type;
    if (STRLIST_KINDS.has(type)) {
      frame.block.strlists.add(listPath);
      push({ kind: 'strlist', block: frame.block, prefix: `${listPath}/`, elemKind: type, chain: [...frame.chain, type] });
      return;
    }
    if (type === 'service' && frame.kind === 'filter') {
      push({ kind: 'ignored', block: frame.block, prefix: '', elemKind: '', chain: [] });
      return;
    }

    if (frame.kind === 'filter') this.checkAuthInNetFilter(frame, type);
    const base = BUILTIN_LISTS.get(listPath) ?? [];
    const added = frame.block.lists.get(listPath) ?? [];
    const all = [...base, ...added];
    let id: string;
    if (isUniqueList(type) && name !== '') {
      id = escapeSectionName(name);
      if (!all.includes(id)) added.push(id);
    } else {
      id = String(all.length);
      added.push(id);
    }
    frame.block.lists.set(listPath, added);
    const prefix = `${listPath}/${id}/`;
    const key = isUniqueList(type) ? idKey(type) : 'name';
    frame.block.set.set(prefix + key, { value: name, file: this.file, line: this.lineNo });
    push({ kind: 'list', block: frame.block, prefix, elemKind: type, chain: [...frame.chain, type] });
  }

  private checkAuthInNetFilter(frame: Frame, key: string): void {
    const f = frame.block.filter;
    if ((f.local !== undefined || f.remote !== undefined) && AUTH_MODULE_SETTINGS.has(key)) {
      this.fail(`Auth settings not supported inside local/remote blocks: ${key}`);
    }
  }

  private filterBlock(parent: FilterSpec, type: string, name: string): FilterBlock {
    let spec: FilterSpec;
    switch (type) {
      case 'protocol':
        if (parent.protocol !== undefined) this.fail('Nested protocol { protocol { .. } } block not allowed');
        spec = { ...parent, protocol: name };
        break;
      case 'local_name':
        if (parent.localName !== undefined) this.fail('Nested local_name { local_name { .. } } block not allowed');
        spec = { ...parent, localName: name };
        break;
      default: {
        const which = type === 'local' ? 'local' : 'remote';
        if (parent[which] !== undefined) this.fail(`Nested ${which} { ${which} { .. } } block not allowed`);
        const net = parseNet(name);
        if (typeof net === 'string') this.fail(net);
        spec = { ...parent, [which]: net };
      }
    }
    const existing = this.blocks.find((b) => sameFilter(b.filter, spec));
    if (existing !== undefined) return existing;
    const b = newBlock(spec, this.file, this.lineNo);
    this.blocks.push(b);
    return b;
  }
}

/** Parses the configuration rooted at `path`; throws ConfigSyntaxError with Dovecot's message on error. */
export function parseDovecotConfig(path: string, src: ConfigSource, opts: ParseOptions = {}): ParsedDovecotConfig {
  return new Parser(path, src, opts).run();
}
