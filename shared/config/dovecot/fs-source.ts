/*
 * The file-system side of the dovecot.conf parser: reads files and expands `!include` globs.
 *
 * Globs follow glob(3) as Dovecot calls it: `*`, `?` and `[...]` within one path component, hidden files only
 * when the pattern component starts with `.`, results sorted bytewise (C locale). A pattern without wildcards
 * matches only an existing path. Distrusts: the pattern (no `**`, no brace expansion, no escaping of `/`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConfigSource } from './parser.js';

const WILD = /[*?[]/;

function componentRegex(pat: string): RegExp {
  let re = '^';
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i] ?? '';
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pat.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = pat.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 's');
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Expands a glob pattern against the file system, sorted bytewise. */
export function globSync(pattern: string): string[] {
  if (!WILD.test(pattern)) return exists(pattern) ? [pattern] : [];
  const absolute = pattern.startsWith('/');
  const parts = pattern.split('/').filter((p, i) => p !== '' || i === 0);
  let current: string[] = [absolute ? '' : (parts[0] ?? '')];
  const rest = absolute ? parts.slice(1) : parts.slice(1);
  if (!absolute && WILD.test(parts[0] ?? '')) {
    current = [''];
    rest.unshift(parts[0] ?? '');
  }
  for (const part of rest) {
    const next: string[] = [];
    for (const base of current) {
      const dir = base === '' ? (absolute ? '/' : '.') : base;
      const join = (name: string): string => (base === '' ? (absolute ? `/${name}` : name) : `${base}/${name}`);
      if (!WILD.test(part)) {
        next.push(join(part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      const re = componentRegex(part);
      for (const n of names.sort(byteOrder)) {
        if (n.startsWith('.') && !part.startsWith('.')) continue;
        if (re.test(n)) next.push(join(n));
      }
    }
    current = next;
  }
  return current.filter(exists).sort(byteOrder);
}

/** A ConfigSource backed by the real file system. */
export const fsConfigSource: ConfigSource = {
  readFile: (path) => readFileSync(path, 'utf8'),
  glob: globSync,
  dirname: (path) => dirname(path),
};
