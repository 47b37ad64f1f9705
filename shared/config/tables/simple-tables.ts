/*
 * The tables without a file: static:, fail:, and unix:passwd.byname / unix:group.byname.
 *
 *   static:value, static:{ text with spaces } — every key returns the value (Postfix dict_static).
 *   fail:name — every lookup fails temporarily: `table fail:NAME: query error: Application error`.
 *   unix:passwd.byname — the passwd(5) line of an account, `name:passwd:uid:gid:gecos:dir:shell`, as
 *     Postfix dict_unix formats getpwnam(3); unix:group.byname → `name:passwd:gid:member,…`.
 *     We read the files, not NSS (LDAP/sssd accounts are not seen: a known difference).
 * Distrusts: the static text (brace syntax checked with Postfix's messages) and the passwd/group
 * files (malformed lines are skipped).
 */
import { readFileSync } from 'node:fs';
import { TableLookupError, TableOpenError } from './errors.js';
import { foldKey, type LookupTable, type OpenTableOptions } from './table.js';

export class StaticTable implements LookupTable {
  readonly type = 'static';
  readonly spec: string;
  constructor(
    readonly name: string,
    private readonly value: string,
  ) {
    this.spec = `static:${name}`;
  }
  lookup(): string {
    return this.value;
  }
  close(): void {}
}

export function openStatic(name: string): StaticTable {
  if (name.startsWith('{')) {
    const close = name.indexOf('}');
    if (close < 0) throw new TableOpenError(`bad static:name syntax: missing '}' in "${name}"`);
    if (close !== name.length - 1) throw new TableOpenError(`bad static:name syntax: syntax error after '}' in "${name}"`);
    return new StaticTable(name, name.slice(1, close).trim());
  }
  return new StaticTable(name, name);
}

export class FailTable implements LookupTable {
  readonly type = 'fail';
  readonly spec: string;
  constructor(readonly name: string) {
    this.spec = `fail:${name}`;
  }
  lookup(): never {
    throw new TableLookupError(this.spec, 'Application error');
  }
  close(): void {}
}

export class UnixTable implements LookupTable {
  readonly type = 'unix';
  readonly spec: string;
  constructor(
    readonly name: string,
    private readonly file: string,
    private readonly fold: boolean,
  ) {
    this.spec = `unix:${name}`;
  }

  lookup(key: string): string | undefined {
    const want = this.fold ? foldKey(key) : key;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      throw new TableLookupError(this.spec, (err as Error).message);
    }
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (this.name === 'passwd.byname' && f.length >= 7 && f[0] === want) return f.slice(0, 7).join(':');
      if (this.name === 'group.byname' && f.length >= 4 && f[0] === want) return f.slice(0, 4).join(':');
    }
    return undefined;
  }
  close(): void {}
}

export function openUnix(name: string, opts: OpenTableOptions = {}): UnixTable {
  if (name === 'passwd.byname') return new UnixTable(name, opts.passwdFile ?? '/etc/passwd', opts.fold ?? true);
  if (name === 'group.byname') return new UnixTable(name, '/etc/group', opts.fold ?? true);
  throw new TableOpenError(`unknown table: unix:${name}`);
}
