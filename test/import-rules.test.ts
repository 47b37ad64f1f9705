/*
 * The import rules of DESIGN.md §2, checked over the source tree:
 *  1. shared/ imports only shared/ and packages;
 *  2. mta/ and mda/ never import each other;
 *  3. MDA protocol code (imap, pop3, lmtp, deliver) reaches mail only through mda/storage/api.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(join(top, dir));
  } catch {
    return out;
  }
  for (const e of entries) {
    const rel = join(dir, e);
    if (statSync(join(top, rel)).isDirectory()) out = out.concat(sources(rel));
    else if (e.endsWith('.ts') && !e.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function localImports(file: string): string[] {
  const text = readFileSync(join(top, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec?.startsWith('.')) out.push(relative(top, resolve(top, dirname(file), spec)));
  }
  return out;
}

const violations = (files: string[], bad: (target: string, file: string) => boolean) =>
  files.flatMap((f) => localImports(f).filter((t) => bad(t, f)).map((t) => `${f} -> ${t}`));

test('shared/ imports only shared/', () => {
  assert.deepEqual(violations(sources('shared'), (t) => !t.startsWith('shared/')), []);
});

test('mta/ and mda/ never import each other', () => {
  assert.deepEqual(violations(sources('mta'), (t) => t.startsWith('mda/')), []);
  assert.deepEqual(violations(sources('mda'), (t) => t.startsWith('mta/')), []);
});

test('MDA protocol code reaches mail only through mda/storage/api.ts', () => {
  const protocolDirs = ['mda/imap', 'mda/pop3', 'mda/lmtp', 'mda/deliver'];
  const files = protocolDirs.flatMap(sources);
  assert.deepEqual(
    violations(files, (t) => t.startsWith('mda/storage/') && t !== 'mda/storage/api.js'),
    [],
  );
});

test('the scan sees the tree (guards against a vacuous pass)', () => {
  assert.ok(sources('shared').length > 5);
  assert.ok(localImports('shared/tls/credentials.ts').includes('shared/errors/config-error.js'));
});
