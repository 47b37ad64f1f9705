/* Macro expansion: every form, checked against values observed from real postconf -x 3.7.11. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandMacros, scanMacroNames, parseCompatLevel } from '../../../../shared/config/postfix/expand.js';

const vars: Record<string, string> = {
  mydomain: 'ex.com', myhostname: 'vm.$mydomain', x: 'X', empty: '', compatibility_level: '3.6',
  loop1: '$loop2', loop2: '$loop1',
};
const lookup = (n: string): string | undefined => vars[n];
const norm = (s: string): string => s.split(/[ \t\r\n]+/).filter(Boolean).join(' ');

const ok: Array<[string, string]> = [
  ['$x ${x} $(x)', 'X X X'],
  ['$$x $$$$ $$$mydomain', '$x $$ $ex.com'],
  ['${mydomain?set} ${nosuch?set} ${mydomain:empty} ${nosuch:empty}', 'set empty'],
  ['${mydomain?{yes}:{no}} ${nosuch?{yes}:{no}} ${mydomain?{v}} ${nosuch:{v}}', 'yes no v v'],
  ['${empty?a} ${empty:b}', 'b'],
  ['${{$compatibility_level} <level {3.6} ? {old} : {new}} ${{3.10} <level {3.9} ? {lt} : {ge}}', 'new ge'],
  ['${{a} == {a} ? {eq} : {ne}} ${{10} < {9} ? {lt} : {ge}} ${{abc} < {abd} ? {lt} : {ge}} ${{10} != {10} ? {x}:{y}}', 'eq ge lt y'],
  ['${{2} <= {2}?{le}:{gt}} ${{3} >= {2}?{ge}:{lt}} ${{3} > {2}?{gt}:{le}} ${{3.6} >=level {3.6}?{a}:{b}} ${{3.6} >level {3.6}?{a}:{b}} ${{2} <=level {3.6.1}?{a}:{b}}', 'le ge gt a b a'],
  ['${x}${x}$x.x', 'XXX.x'],
  ['$nosuch-end', '-end'],
  ['${mydomain?$myhostname}', 'vm.ex.com'],
  ['${mydomain?{ spaced }:{b}}', 'spaced'],
  ['${{a} == {a}} x ${{a}=={b}} y', 'true x y'],
  ['${{a} == {b} ? {x} : {y}} ${{a} == {a} ? x : y}', 'y x : y'],
  ['${mydomain?x:y} ${nosuch?x:y}', 'x:y'],
  ['$(mydomain?$(myhostname))', 'vm.ex.com'],
  ['${{10} < {9}} ${{010} == {10} ? a : b} ${{-1} < {2} ? lt : ge} ${{ 10 } < { 9 }?lt:ge}', 'a : b lt : ge lt:ge'],
  ['${{3.6.1} <level {3.6.10} ? lt : ge} ${{3.6} ==level {3.6.0} ? eq : ne}', 'lt : ge eq : ne'],
  ['${{3} <=level {3}?a:b}${{3} >level {2}?a:b}${{3} !=level {2}?a:b}', 'a:ba:ba:b'],
  ['${ mydomain } ${mydomain }', 'ex.com ex.com'],
  ['${mydomain?a:b}', 'a:b'],
  ['${nosuch?{a}:b}', 'b'],
  ['${mydomain?{a}:b c}', 'a'],
  ['${x?{${x}}}', 'X'],
  ['{$x}', '{X}'],
  ['${{a} == {a} ? }', ''],
  ['${{2.0} <level {10}?a:b} ${{1} <level {1.0}?a:b} ${{1.0} ==level {1}?a:b}', 'a:b a:b'],
  ['${{abc} < {abd}?a:b} ${{9} < {10}?a:b} ${{9x} < {10x}?a:b} ${{} < {1}?a:b} ${{ 9} < {10}?a:b}', 'a:b a:b a:b a:b'],
];
for (const [pattern, want] of ok) {
  test(`expand ${pattern}`, () => {
    const r = expandMacros(pattern, lookup);
    assert.equal(r.error, false, r.warnings.join('; '));
    assert.equal(norm(r.value), want);
  });
}

const bad: Array<[string, string]> = [
  ['$ x', 'empty macro name: "$ x"'],
  ['trailing $', 'empty macro name: "trailing $"'],
  ['${unclosed', 'truncated macro reference: "${unclosed"'],
  ['$(mixed}', 'truncated macro reference: "$(mixed}"'],
  ['${{a} =~ {b}?x:y}', '"==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: "...a}>>>=~ {b}?x:y"'],
  ['${{a} == b ? x : y}', '"{expression}" expected at: "...{a} ==>>> b ? x : y"'],
  ['${mydomain?{a}:{b}:{c}}', 'unexpected input at: "...b}>>>:{c}"'],
  ['${mydomain?{a} junk}', '":" expected at: "...a}>>>junk"'],
  ['${my.domain}', 'attribute name syntax error at: "...my>>>.domain"'],
  ['${{x} <level {3} ? lt : ge}', 'malformed compatibility level syntax: "x"'],
  ['${{} <level {1} ? lt : ge}', 'malformed compatibility level syntax: ""'],
  ['${{1.2.3.4} <level {2}?a:b}', 'malformed compatibility level syntax: "1.2.3.4"'],
  ['$loop1', 'unreasonable macro call nesting: "loop2"'],
  ['${mydomain:{a}:{b}}', 'unexpected input at: "...a}>>>:{b}"'],
  ['${{a}}', '"==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: "...a}>>>"'],
  ['${{a} == {a} x}', '"?" or ":" expected at: "...}>>>x"'],
];
for (const [pattern, warning] of bad) {
  test(`expand error ${pattern}`, () => {
    const r = expandMacros(pattern, lookup);
    assert.equal(r.error, true);
    assert.deepEqual(r.warnings, [warning]);
  });
}

test('undefined names expand to "" and set undef', () => {
  const r = expandMacros('a${nosuch}b', lookup);
  assert.equal(r.value, 'ab');
  assert.equal(r.undef, true);
});

test('scan visits every branch without expanding', () => {
  const s = scanMacroNames('${a?$b:$c} ${{$d} == {x} ? {$e} : {$f}} $$g');
  assert.deepEqual(s.names.sort(), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(s.warnings, []);
});

test('compatibility levels', () => {
  assert.deepEqual(parseCompatLevel('3.6'), [3, 6, 0]);
  assert.deepEqual(parseCompatLevel('2'), [2, 0, 0]);
  assert.deepEqual(parseCompatLevel('3.10.1'), [3, 10, 1]);
  assert.equal(parseCompatLevel('3.x'), undefined);
});
