/*
 * cleanup's line splitter (mta/cleanup/content-lines.ts), table-driven: line ends removed (LF or
 * CRLF), a bare CR kept as data, a last line without a line end, lines over the bound cut into
 * fragments (Postfix's REC_TYPE_CONT), chunk boundaries anywhere (inside a line, between CR and
 * LF), and a bound that changes between fragments (cleanup's header/body limits).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../../mta/cleanup/content-lines.js';

type Frag = [string, boolean] | [string, boolean, 'noNewline'];

function split(chunks: string[], max: number | (() => number)): Frag[] {
  const s = new LineSplitter(max);
  const out: Frag[] = [];
  const add = (f: { data: Buffer; eol: boolean; noNewline?: boolean }): void => {
    out.push(f.noNewline === true ? [f.data.toString('latin1'), f.eol, 'noNewline'] : [f.data.toString('latin1'), f.eol]);
  };
  for (const c of chunks) for (const f of s.push(Buffer.from(c, 'latin1'))) add(f);
  for (const f of s.end()) add(f);
  return out;
}

test('LineSplitter: fragments for each input shape', () => {
  const cases: [string, string[], number, Frag[]][] = [
    ['LF and CRLF ends', ['a\nb\r\n'], 100, [['a', true], ['b', true]]],
    ['empty lines', ['\r\n\n'], 100, [['', true], ['', true]]],
    ['bare CR is data', ['a\rb\r\n'], 100, [['a\rb', true]]],
    ['last line without an end', ['a\r\nlast'], 100, [['a', true], ['last', true, 'noNewline']]],
    ['a line split across chunks', ['he', 'll', 'o\r\n'], 100, [['hello', true]]],
    ['CR and LF in different chunks', ['hello\r', '\nx\n'], 100, [['hello', true], ['x', true]]],
    ['a line over the bound', ['abcdefgh\n'], 3, [['abc', false], ['def', false], ['gh', true]]],
    ['exactly the bound', ['abc\n'], 3, [['abc', true]]],
    ['over the bound across chunks', ['ab', 'cd', 'e\n'], 3, [['abc', false], ['de', true]]],
    ['nothing', [], 10, []],
  ];
  for (const [name, chunks, max, want] of cases) assert.deepEqual(split(chunks, max), want, name);
});

test('LineSplitter: the bound is asked again after each fragment is handled', () => {
  const s = new LineSplitter(() => bound);
  let bound = 100;
  const out: string[] = [];
  for (const f of s.push(Buffer.from('Subject: x\n\nabcdefgh\n'))) {
    out.push(f.data.toString());
    if (f.data.length === 0) bound = 3; // the header ended: the body bound applies from the next fragment
  }
  assert.deepEqual(out, ['Subject: x', '', 'abc', 'def', 'gh']);
});
