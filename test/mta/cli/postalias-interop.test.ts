/* postalias / newaliases against the real postalias: -s, -q, duplicate and syntax warnings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOracle, oracleSkip, run, type RunResult } from '../../helpers/oracle.js';
import { tempDir } from '../../helpers/tmp.js';

const OURS = fileURLToPath(new URL('../../../mta/cli/postalias.js', import.meta.url));
const NEWALIASES = fileURLToPath(new URL('../../../mta/cli/newaliases.js', import.meta.url));
const skip = oracleSkip('postalias');

const ALIASES = [
  'Root: Admin, bob', 'postmaster:root', '"a b": x', 'novalue:', 'nocolon value', 'dup: 1', 'DUP: 2', 'list: a,', '  b',
  'a1: a,b', 'a2: a ,  b', 'a3: "|cmd arg", /file/x', 'a4: :include:/x/y', 'a5: a  b', 'a6: a (comment) , <b@c>',
  'a7: Foo Bar <x@y>', 'a8: "quoted user"@x.com', 'a9:   lead', 'a10: a,', '\tb ,', '  c', '"A11 x": v', 'A12\\ y: z', 'a13@dom: v',
  'a14: "unbal', ': emptykey', '',
].join('\n');

function setup(t: import('node:test').TestContext): string {
  const dir = tempDir(t, 'postern-postalias-');
  writeFileSync(join(dir, 'main.cf'), `compatibility_level = 3.7\nalias_database = lmdb:${dir}/o-aliases\n`);
  writeFileSync(join(dir, 'r-aliases'), ALIASES);
  writeFileSync(join(dir, 'o-aliases'), ALIASES);
  return dir;
}
const real = (dir: string, args: string[], input = ''): RunResult => run(findOracle('postalias') as string, ['-c', dir, ...args], { input });
const ours = (dir: string, args: string[], input = ''): RunResult => run(process.execPath, [OURS, '-c', dir, ...args], { input });
const noStamp = (s: string): string => s.replace(/^YP_LAST_MODIFIED:\t\d+$/m, 'YP_LAST_MODIFIED:\tT');

test('postalias: build warnings, -s listing (both tools on both files), -q', { skip }, (t) => {
  const dir = setup(t);
  const a = real(dir, [`lmdb:${dir}/r-aliases`]);
  const b = ours(dir, [`lmdb:${dir}/o-aliases`]);
  assert.equal(b.status, a.status);
  assert.equal(b.stderr.replaceAll('/o-', '/X-'), a.stderr.replaceAll('/r-', '/X-'));
  const listing = noStamp(real(dir, ['-s', `lmdb:${dir}/r-aliases`]).stdout);
  assert.match(listing, /^@:\t@$/m);
  assert.match(listing, /^YP_MASTER_NAME:\t/m);
  assert.equal(noStamp(real(dir, ['-s', `lmdb:${dir}/o-aliases`]).stdout), listing);
  assert.equal(noStamp(ours(dir, ['-s', `lmdb:${dir}/r-aliases`]).stdout), listing);
  for (const k of ['ROOT', 'a b', 'list', 'a10', 'a12 y', '@', 'none']) {
    for (const f of ['r-aliases', 'o-aliases']) {
      const x = real(dir, ['-q', k, `lmdb:${dir}/${f}`]);
      const y = ours(dir, ['-q', k, `lmdb:${dir}/${f}`]);
      assert.deepEqual([y.status, y.stdout], [x.status, x.stdout], `${k} in ${f}`);
    }
  }
  const q = (r: RunResult): [number, string] => [r.status, r.stdout];
  assert.deepEqual(q(ours(dir, ['-q', '-', `lmdb:${dir}/r-aliases`], 'root\nx\npostmaster\n')), q(real(dir, ['-q', '-', `lmdb:${dir}/r-aliases`], 'root\nx\npostmaster\n')));
});

test('postalias: texthash refused, missing file, usage', { skip }, (t) => {
  const dir = setup(t);
  for (const args of [[`texthash:${dir}/r-aliases`], [`lmdb:${dir}/none`], ['-q', 'x', `lmdb:${dir}/none`], []]) {
    const a = real(dir, args);
    const b = ours(dir, args);
    assert.deepEqual([b.status, b.stderr], [a.status, a.stderr], args.join(' '));
  }
});

test('newaliases rebuilds $alias_database', (t) => {
  const dir = setup(t);
  const r = run(process.execPath, [NEWALIASES, '-C', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(ours(dir, ['-q', 'root', `lmdb:${dir}/o-aliases`]).stdout, 'Admin, bob\n');
});
