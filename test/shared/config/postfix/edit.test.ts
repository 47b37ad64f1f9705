/* main.cf edits (-e -X -#) keep every other byte. Expected texts observed from postconf 3.7.11. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editMainCf, parseMainEditArgs } from '../../../../shared/config/postfix/edit-main.js';

const SRC = 'a = 1\n#c\n  cont\n\nb=2\nmyhostname = x\n  y\n# trailing comment\nmyhostname=z\nrelayhost = r';
const P = '/x/main.cf';

test('-e replaces every occurrence, drops continuations, appends new names', () => {
  const w: string[] = [];
  const reqs = parseMainEditArgs('edit', ['myhostname = new host', 'aaa= '], w);
  const out = editMainCf(SRC, 'edit', reqs, P, w);
  assert.equal(out, 'a = 1\n#c\n  cont\n\nb=2\nmyhostname = new host\n# trailing comment\nmyhostname = new host\nrelayhost = raaa = \n');
  assert.deepEqual(w, [`${P}: multiple entries for "myhostname"`]);
});

test('-X removes entries and keeps a missing final newline', () => {
  const w: string[] = [];
  const out = editMainCf(SRC, 'exclude', parseMainEditArgs('exclude', ['a', 'nosuch', 'b'], w), P, w);
  assert.equal(out, '#c\n\nmyhostname = x\n  y\n# trailing comment\nmyhostname=z\nrelayhost = r');
});

test('-# comments entries and their continuation lines', () => {
  const w: string[] = [];
  const out = editMainCf(SRC, 'comment', parseMainEditArgs('comment', ['myhostname', 'relayhost'], w), P, w);
  assert.equal(out, 'a = 1\n#c\n  cont\n\nb=2\n#myhostname = x\n#  y\n# trailing comment\n#myhostname=z\n#relayhost = r');
});

test('argument checks use postconf wording', () => {
  const w: string[] = [];
  assert.throws(() => parseMainEditArgs('edit', ['#a=1'], w), /-e, -X, or -# accepts no comment input/);
  assert.throws(() => parseMainEditArgs('edit', ['a'], w), /missing '=' after attribute name: "a"/);
  assert.throws(() => parseMainEditArgs('exclude', [' '], w), /-X or -# requires non-blank parameter names/);
  parseMainEditArgs('edit', ['x=1', 'x=2'], w);
  assert.deepEqual(w, ["ignoring earlier request: 'x = 1'"]);
});
