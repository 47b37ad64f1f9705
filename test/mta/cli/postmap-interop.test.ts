/*
 * postmap interop: the real Postfix 3.7 postmap (/usr/sbin) and ours run on the same files; outputs,
 * warnings and exit codes must match, and LMDB files must cross-read both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOracle, oracleSkip, run, type RunResult } from '../../helpers/oracle.js';
import { tempDir } from '../../helpers/tmp.js';

const OURS = fileURLToPath(new URL('../../../mta/cli/postmap.js', import.meta.url));
const skip = oracleSkip('postmap');

function setup(t: import('node:test').TestContext): string {
  const dir = tempDir(t, 'postern-postmap-');
  writeFileSync(join(dir, 'main.cf'), 'compatibility_level = 3.7\n');
  return dir;
}
const real = (dir: string, args: string[], input?: string): RunResult => run(findOracle('postmap') as string, ['-c', dir, ...args], { input: input ?? '' });
const ours = (dir: string, args: string[], input?: string): RunResult => run(process.execPath, [OURS, '-c', dir, ...args], { input: input ?? '' });
const sorted = (s: string): string => s.split('\n').sort().join('\n');

const SOURCE = [
  'Foo bar', 'foo dup', 'baz  qux', '  cont', '"a b" spaced', 'multi a,', '  b', 'keyonly', '"unbal value',
  'Tab\tv\t ', 'x "quoted value"', '', '  contafterblank', 'KÉY utf8', '# comment', 'user@example.com rcpt', '',
].join('\n');
const REGEXP = [
  '/^(.*)@example\\.com$/\tlocal $1 ${1} $(1) $$ end', '/^nores$/', '/^bad(/\tx', '/^grp$/\t$2', '!/foo/\tnotfoo $1',
  '/x/z\tbadflag', '/^CaSe$/i\tsensitive', 'if /^in/', '/^inner$/\tinner', 'if !/^inx/', '/^in(.)/\tin-$1', 'endif',
  'endif', 'endif', '/^[[:digit:]]+$/\tdigits', '/^[[:alpha:]]+[[:space:]]x$/\talpha', '/^a\\.b\\/c$/\tdotted',
  '/^[\\.]$/\tbslashclass', '/^b(a|an)+a$/\tbanana', '#/^(a|ab)(c|bcd)(d*)$/\t[$1][$2][$3]', '',
].join('\n');
const REGEXP_KEYS = ['user@example.com', 'USER@EXAMPLE.COM', 'nores', 'grp', 'foo', 'bar', 'CaSe', 'case', 'inner', 'inz', 'inx',
  '12345', 'Abc x', 'a.b/c', '\\', '.', 'banana', 'zzz'];
const PCRE = [
  '/^(.*)@example\\.com$/\tlocal $1', '/^\\d+$/\tdigits', '/^ab c$/x\textended', '/^abc$/\tdollar', '/^end$/E\tendonly',
  '/b/A\tanchored-b', '/^a.b$/s\tnodotall', '/^\\Qa.b\\E$/\tquoted', '/^(?P<u>[^@]+)@x$/\tnamed $1', '/^(a+)(a*)$/U\tungreedy [$1][$2]',
  '/^[[:upper:]]{2}$/i\tupper', 'if /^in/', '/^in(.)/\tin-$1', 'endif', '/x/q\tbadflag', '',
].join('\n');
const PCRE_KEYS = ['joe@example.com', '123', 'abc', 'abc\n', 'ABC', 'bcd', 'b', 'a.b', 'axb', 'joe@x', 'aaa', 'AB', 'ab', 'inq', 'zzz'];
const CIDR = [
  '192.168.1.0/24\tlan', '10.0.0.1\tsingle', '10.1.2.3/16\tbadbits', '[2001:db8::]/32\tv6net', '2001:db9::/32\tv6plain',
  '[2001:dba::1]\tv6single', '!172.16.0.0/12\tnotprivate', 'if 127.0.0.0/8', '127.0.0.1\tlo1', '127.0.0.0/8\tlo', 'endif',
  'garbage\tx', '1.2.3.4/33\ty', '::/0\tall6', '',
].join('\n');
const CIDR_KEYS = ['192.168.1.77', '10.0.0.1', '10.1.0.1', '2001:db8::5', '2001:DB8:0::5', '2001:db9::1', '2001:dba::1', '172.16.1.1',
  '8.8.8.8', '127.0.0.1', '::1', 'foo', '::ffff:192.168.1.1', '[2001:db8::1]', '010.0.0.1'];

function sameQuery(dir: string, args: string[], input?: string): void {
  const a = real(dir, args, input);
  const b = ours(dir, args, input);
  assert.deepEqual({ status: b.status, stdout: b.stdout, stderr: b.stderr }, { status: a.status, stdout: a.stdout, stderr: a.stderr }, args.join(' '));
}

test('texthash: -q and exit codes, -s content', { skip }, (t) => {
  const dir = setup(t);
  writeFileSync(join(dir, 'src'), SOURCE);
  for (const k of ['foo', 'FOO', 'baz', 'multi', '"a b"', 'a b', 'tab', 'x', 'kéy', 'keyonly', 'user@example.com', 'none']) {
    const a = real(dir, ['-q', k, `texthash:${dir}/src`]);
    const b = ours(dir, ['-q', k, `texthash:${dir}/src`]);
    assert.equal(b.status, a.status, k);
    assert.equal(b.stdout, a.stdout, k);
  }
  // Real postmap repeats texthash warnings for some inputs and prints in hash order: compare as sets.
  const a = real(dir, ['-s', `texthash:${dir}/src`]);
  const b = ours(dir, ['-s', `texthash:${dir}/src`]);
  assert.equal(sorted(b.stdout), sorted(a.stdout));
  assert.deepEqual([...new Set(b.stderr.split('\n'))].sort(), [...new Set(a.stderr.split('\n'))].sort());
});

test('regexp: translation and rule errors agree with glibc regcomp', { skip }, (t) => {
  const dir = setup(t);
  writeFileSync(join(dir, 're'), REGEXP);
  for (const k of REGEXP_KEYS) sameQuery(dir, ['-q', k, `regexp:${dir}/re`]);
});

test('pcre: flags and translation agree with libpcre', { skip }, (t) => {
  const dir = setup(t);
  writeFileSync(join(dir, 'pc'), PCRE);
  for (const k of PCRE_KEYS) sameQuery(dir, ['-q', k, `pcre:${dir}/pc`]);
});

test('cidr: IPv4, IPv6, negation, if/endif, errors', { skip }, (t) => {
  const dir = setup(t);
  writeFileSync(join(dir, 'ci'), CIDR);
  for (const k of CIDR_KEYS) sameQuery(dir, ['-q', k, `cidr:${dir}/ci`]);
});

test('inline, static, fail, unix and error messages', { skip }, (t) => {
  const dir = setup(t);
  const cases: string[][] = [
    ['-q', 'c', 'inline:{a=b, { c = d e }}'], ['-q', 'B', 'inline:{a=b,B=z}'], ['-q', 'x', 'inline:{a=b}'], 
    ['-q', 'a', 'inline:{}'], ['-q', 'a', 'inline:{a}'], ['-q', 'a', 'inline:a=b'], ['-q', 'a', 'inline:{ {a = } }'], ['-q', 'a', 'inline:{a==b}'],
    ['-q', 'x', 'static:{ x y }'], ['-q', 'x', 'static:{x'], ['-q', 'x', 'static:'], ['-s', 'static:foo'], ['-q', 'a', 'static:{}'],
    ['-q', 'x', 'fail:foo'], ['-q', 'root', 'unix:passwd.byname'], ['-q', 'nobody-here', 'unix:passwd.byname'], ['-q', 'root', 'unix:foo'],
    ['-s', 'unix:passwd.byname'], ['-q', 'x', 'nosuch:/x'], ['-q', 'x', `texthash:${dir}/none`], ['-q', 'x', `regexp:${dir}/none`],
    ['-q', 'x', `cidr:${dir}/none`], ['-q', 'x', `lmdb:${dir}/none`], [`lmdb:${dir}/none`], [`texthash:${dir}/main.cf`],
    [`regexp:${dir}/main.cf`], ['-d', 'x', `texthash:${dir}/main.cf`], ['-Z', 'x'], [],
  ];
  for (const c of cases) sameQuery(dir, c);
  // Listing order is Postfix's hash order: compare as sets.
  const s = ['-s', 'inline:{a=b,{c = d e},B=z}'];
  assert.equal(sorted(ours(dir, s).stdout), sorted(real(dir, s).stdout));
});

test('lmdb: our build equals real build, cross-read both ways, -q -, -d, -i', { skip }, (t) => {
  const dir = setup(t);
  let big = '';
  for (let i = 0; i < 3000; i++) big += `key${i}@example.com value-${i}-${'x'.repeat(i % 97 === 0 ? 6000 : i % 50)}\n`;
  for (const [name, text] of [['src', SOURCE], ['big', big]] as const) {
    writeFileSync(join(dir, `r-${name}`), text);
    writeFileSync(join(dir, `o-${name}`), text);
    const a = real(dir, [`lmdb:${dir}/r-${name}`]);
    const b = ours(dir, [`lmdb:${dir}/o-${name}`]);
    assert.equal(b.status, a.status);
    assert.equal(b.stderr.replaceAll('/o-', '/X-'), a.stderr.replaceAll('/r-', '/X-'));
    const listRealOfReal = real(dir, ['-s', `lmdb:${dir}/r-${name}`]).stdout;
    assert.equal(real(dir, ['-s', `lmdb:${dir}/o-${name}`]).stdout, listRealOfReal, 'real reads ours');
    assert.equal(ours(dir, ['-s', `lmdb:${dir}/r-${name}`]).stdout, listRealOfReal, 'ours reads real');
  }
  for (const k of ['foo', 'FOO', 'multi', '"a b"', 'none']) {
    for (const f of ['r-src', 'o-src']) sameQuery(dir, ['-q', k, `lmdb:${dir}/${f}`]);
  }
  sameQuery(dir, ['-q', 'key2910@example.com', `lmdb:${dir}/o-big`]);
  sameQuery(dir, ['-q', '-', `lmdb:${dir}/r-src`], 'a\nfoo\nb\nbaz\n');
  sameQuery(dir, ['-q', '-', `lmdb:${dir}/o-src`], 'x\n');
  // -d on both files, then each tool lists the other's result.
  for (const f of ['r-src', 'o-src']) copyFileSync(join(dir, `${f}.lmdb`), join(dir, `${f}2.lmdb`));
  const dr = real(dir, ['-d', 'foo', `lmdb:${dir}/r-src2`]);
  const dO = ours(dir, ['-d', 'foo', `lmdb:${dir}/o-src2`]);
  assert.equal(dO.status, dr.status);
  assert.equal(ours(dir, ['-d', 'foo', `lmdb:${dir}/o-src2`]).status, 1);
  assert.equal(real(dir, ['-s', `lmdb:${dir}/o-src2`]).stdout, real(dir, ['-s', `lmdb:${dir}/r-src2`]).stdout);
  // Real postmap -i on a file we built, then we read it.
  assert.equal(real(dir, ['-i', `lmdb:${dir}/o-big`], 'added value\n').status, 0);
  assert.equal(ours(dir, ['-q', 'added', `lmdb:${dir}/o-big`]).stdout, 'value\n');
  assert.equal(ours(dir, ['-i', `lmdb:${dir}/r-big`], 'Added2 v2\n').status, 0);
  assert.equal(real(dir, ['-q', 'added2', `lmdb:${dir}/r-big`]).stdout, 'v2\n');
});

test('hash: our postmap writes NAME.db (LMDB format) and reads it back', (t) => {
  const dir = setup(t);
  writeFileSync(join(dir, 'virtual'), 'User@Example.com alice\n');
  assert.equal(ours(dir, [`hash:${dir}/virtual`]).status, 0);
  assert.equal(ours(dir, ['-q', 'user@example.com', `hash:${dir}/virtual`]).stdout, 'alice\n');
  assert.equal(ours(dir, ['-q', 'user@example.com', `${dir}/virtual`]).stdout, 'alice\n'); // default_database_type = hash
  assert.equal(ours(dir, ['-q', 'nobody', `btree:${dir}/virtual`]).status, 1);
});

test('foreign index files are refused with a clear message', { skip }, (t) => {
  const dir = setup(t);
  writeFileSync(join(dir, 'bdb'), 'foo bar\n');
  assert.equal(real(dir, [`hash:${dir}/bdb`]).status, 0); // a Berkeley DB bdb.db
  const r = ours(dir, ['-q', 'foo', `hash:${dir}/bdb`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^postmap: fatal: open database .*bdb\.db: this is a Berkeley DB file written by real Postfix/);
  writeFileSync(join(dir, 'junk.lmdb'), Buffer.alloc(8192));
  assert.equal(ours(dir, ['-q', 'foo', `lmdb:${dir}/junk`]).stderr, `postmap: fatal: open database ${dir}/junk.lmdb: MDB_INVALID: File is not an LMDB file\n`);
});
