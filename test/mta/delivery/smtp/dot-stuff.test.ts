/* DATA encoding: CRLF normalisation, dot-stuffing across chunk boundaries, the terminator; xtext. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DotStuffer, has8bit, xtext } from '../../../../mta/delivery/smtp/dot-stuff.js';

function run(chunks: string[]): string {
  const d = new DotStuffer();
  return chunks.map((c) => d.push(Buffer.from(c, 'latin1')).toString('latin1')).join('') + d.end().toString('latin1');
}

test('dot-stuffing and line ends', () => {
  const cases: Array<[string[], string]> = [
    [['a\r\nb\r\n'], 'a\r\nb\r\n.\r\n'],
    [['a\nb'], 'a\r\nb\r\n.\r\n'],
    [['.x\r\n..y\r\n.\r\n'], '..x\r\n...y\r\n..\r\n.\r\n'],
    [['a\r', '\n.', 'b\r'], 'a\r\n..b\r\n.\r\n'],
    [['a\rb'], 'a\r\nb\r\n.\r\n'],
    [[''], '.\r\n'],
  ];
  for (const [input, want] of cases) assert.equal(run(input), want, JSON.stringify(input));
});

test('xtext and 8-bit detection', () => {
  assert.equal(xtext('a+b=c d'), 'a+2Bb+3Dc+20d');
  assert.equal(xtext('é'), '+C3+A9');
  assert.equal(has8bit('plain'), false);
  assert.equal(has8bit('grüße'), true);
});
