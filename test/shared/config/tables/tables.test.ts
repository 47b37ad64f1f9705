/* Parsing and lookups of the in-memory table types and the source-file rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTable } from '../../../../shared/config/tables/registry.js';
import { logicalLines, splitKeyValue } from '../../../../shared/config/tables/source-file.js';
import { normaliseAliasValue, parseAliasSource } from '../../../../shared/config/tables/alias-source.js';
import { parseCidrPattern } from '../../../../shared/config/tables/cidr.js';
import { parseReplacement } from '../../../../shared/config/tables/pattern-table.js';
import { TableLookupError, TableOpenError } from '../../../../shared/config/tables/errors.js';
import { tempDir } from '../../../helpers/tmp.js';

test('logical lines: continuation keeps leading whitespace, comments and blanks skipped', () => {
  const warns: string[] = [];
  const ll = logicalLines('multi a,\n  b\n# c\n\nx y\n   # indented comment\n  z\n', 'f', (m) => warns.push(m));
  assert.deepEqual(ll, [{ line: 1, text: 'multi a,  b' }, { line: 5, text: 'x y  z' }]);
  assert.deepEqual(warns, []);
});

test('logical lines: leading whitespace refused', () => {
  const warns: string[] = [];
  logicalLines('  lead value\n', 'f', (m) => warns.push(m));
  assert.deepEqual(warns, ['f: logical line must not start with whitespace: "  lead value"']);
});

const kvRows: [string, ReturnType<typeof splitKeyValue>][] = [
  ['foo bar', { ok: true, key: 'foo', value: 'bar' }],
  ['"a b" spaced', { ok: true, key: '"a b"', value: 'spaced' }],
  ['"a b"x value2', { ok: true, key: '"a b"x', value: 'value2' }],
  ['"q\\"x y" v3', { ok: true, key: '"q\\"x y"', value: 'v3' }],
  ['Tab\tv\t ', { ok: true, key: 'Tab', value: 'v' }],
  ['keyonly', { ok: false, problem: 'format' }],
  ['"unbal value', { ok: false, problem: 'unbalanced' }],
];
for (const [text, want] of kvRows) test(`key/value split: ${JSON.stringify(text)}`, () => assert.deepEqual(splitKeyValue(text), want));

const aliasRows: [string, string][] = [
  ['a,b', 'a, b'],
  ['a ,  b', 'a, b'],
  ['"|cmd arg", /file/x', '"|cmd arg", /file/x'],
  [':include:/x/y', ':include:/x/y'],
  ['a  b', 'a b'],
  ['a (comment) , <b@c>', 'a (comment), <b@c>'],
  ['  lead', 'lead'],
  ['"unbal', '"unbal"'],
];
for (const [raw, want] of aliasRows) test(`alias value: ${JSON.stringify(raw)}`, () => assert.equal(normaliseAliasValue(raw), want));

test('alias names: unquoted, local only, need a value', () => {
  const warns: string[] = [];
  const e = parseAliasSource('"A11 x": v\nA12\\ y: z\na@b: v\nnovalue:\nnocolon v\n', 'al', (m) => warns.push(m));
  assert.deepEqual(e.map((x) => [x.key, x.value]), [['A11 x', 'v'], ['A12 y', 'z']]);
  assert.deepEqual(warns, ['al, line 3: name must be local', 'al, line 4: need name:value pair', 'al, line 5: need name:value pair']);
});

test('inline: values, braces, folding', () => {
  const t = openTable('inline:{a=b, { c = d e },B=z}');
  assert.equal(t.lookup('c'), 'd e');
  assert.equal(t.lookup('A'), 'b');
  assert.equal(t.lookup('b'), 'z');
  assert.equal(t.lookup('x'), undefined);
});

const inlineErrors: [string, string][] = [
  ['inline:{}', 'bad syntax: "inline:{}"; need "inline:{name=value...}"'],
  ['inline:{a}', `missing '=' after attribute name: "inline:{a}"; need "inline:{name=value...}"`],
  ['inline:a=b', 'bad syntax: "inline:a=b"; need "inline:{name=value...}"'],
  ['inline:{a=b}x', 'bad syntax: "inline:{a=b}x"; need "inline:{name=value...}"'],
  ['static:{x', `bad static:name syntax: missing '}' in "{x"`],
  ['static:{a}b', `bad static:name syntax: syntax error after '}' in "{a}b"`],
  ['static:', 'open dictionary: expecting "type:name" form instead of "static:"'],
  ['nosuch:x', 'unsupported dictionary type: nosuch'],
  ['unix:foo', 'unknown table: unix:foo'],
];
for (const [spec, msg] of inlineErrors) test(`open error: ${spec}`, () => assert.throws(() => openTable(spec), (e: unknown) => e instanceof TableOpenError && e.message === msg));

test('static and fail', () => {
  assert.equal(openTable('static:{ x y }').lookup('anything'), 'x y');
  assert.throws(() => openTable('fail:x').lookup('k'), (e: unknown) => e instanceof TableLookupError && e.message === 'table fail:x: query error: Application error');
});

test('empty inline result is returned with Postfix warnings', () => {
  const warns: string[] = [];
  const t = openTable('inline:{ {a = } }', { warn: (m) => warns.push(m) });
  assert.equal(t.lookup('a'), '');
  assert.equal(warns.length, 2);
});

const cidrRows: [string, string][] = [
  ['10.1.2.3/16', 'non-null host address bits in "10.1.2.3/16", perhaps you should use "10.1.0.0/16" instead'],
  ['garbage', 'bad address pattern: "garbage"'],
  ['1.2.3.4/33', 'bad mask length in "1.2.3.4/33"'],
];
for (const [p, msg] of cidrRows) test(`cidr pattern error ${p}`, () => assert.equal(parseCidrPattern(p), msg));

test('cidr lookups: v4, v6 bracket form, negation, if/endif, family separation', (t) => {
  const dir = tempDir(t);
  const f = join(dir, 'c');
  writeFileSync(f, '192.168.1.0/24 lan\n[2001:db8::]/32 v6net\n!172.16.0.0/12 notprivate\nif 127.0.0.0/8\n127.0.0.1 lo1\nendif\n::/0 all6\n');
  const c = openTable(`cidr:${f}`);
  const rows: [string, string | undefined][] = [
    ['192.168.1.77', 'lan'], ['2001:DB8:0::5', 'v6net'], ['172.16.1.1', undefined], ['8.8.8.8', 'notprivate'],
    ['::1', 'all6'], ['::ffff:192.168.1.1', 'all6'], ['foo', undefined], ['010.0.0.1', undefined],
  ];
  for (const [k, v] of rows) assert.equal(c.lookup(k), v, k);
});

test('regexp table: substitution, if/endif, negation, skipped rules', (t) => {
  const dir = tempDir(t);
  const f = join(dir, 'r');
  writeFileSync(f, '/^(.*)@example\\.com$/ local $1 ${1} $(1) $$ end\n/^grp$/ $2\n!/foo/ notfoo $1\nif /^in/\n/^in(.)/ in-$1\nendif\n/^CaSe$/i sensitive\n');
  const warns: string[] = [];
  const r = openTable(`regexp:${f}`, { warn: (m) => warns.push(m) });
  assert.equal(r.lookup('User@example.com'), 'local User User User $ end');
  assert.equal(r.lookup('inz'), 'in-z');
  assert.equal(r.lookup('grp'), undefined);
  assert.equal(r.lookup('case'), undefined);
  assert.equal(r.lookup('CaSe'), 'sensitive');
  assert.deepEqual(warns, [
    `regexp map ${f}, line 2: out of range replacement index "2": skipping this rule`,
    `regexp map ${f}, line 3: $number found in negative match replacement text: skipping this rule`,
  ]);
});

test('replacement parser', () => {
  assert.deepEqual(parseReplacement('a$1${2}$(3)$$'), [
    { kind: 'lit', text: 'a' }, { kind: 'ref', n: 1 }, { kind: 'ref', n: 2 }, { kind: 'ref', n: 3 }, { kind: 'lit', text: '$' },
  ]);
});

test('texthash: first duplicate wins with a warning, keys folded', (t) => {
  const dir = tempDir(t);
  const f = join(dir, 't');
  writeFileSync(f, 'Foo bar\nfoo dup\n');
  const warns: string[] = [];
  const th = openTable(`texthash:${f}`, { warn: (m) => warns.push(m) });
  assert.equal(th.lookup('FOO'), 'bar');
  assert.deepEqual(warns, [`${f}, line 2: duplicate entry: "foo"`]);
  assert.equal(openTable(`texthash:${f}`, { fold: false }).lookup('foo'), 'dup');
});
