/*
 * The maildir file index (mda/storage/maildir/file-index.ts): every index derived by with() answers
 * as a plain map built by the same changes would, through its overlay, after it is flattened, and
 * while its parent is still in use (an index never changes once made).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FileIndex, type FileEntry } from '../../../../mda/storage/maildir/file-index.js';
import { parseFilename } from '../../../../mda/storage/maildir/filename.js';

const entry = (n: number, letters = '', sub: 'new' | 'cur' = 'cur'): FileEntry => {
  const filename = `${1700000000 + n}.M${n}P1.host,S=10,W=11${letters === '' && sub === 'new' ? '' : `:2,${letters}`}`;
  return { sub, filename, parsed: parseFilename(filename) };
};

function same(idx: FileIndex, ref: ReadonlyMap<string, FileEntry>, probe: readonly string[], what: string): void {
  assert.equal(idx.size, ref.size, `${what}: size`);
  for (const k of probe) {
    assert.deepEqual(idx.get(k), ref.get(k), `${what}: get ${k}`);
    assert.equal(idx.has(k), ref.has(k), `${what}: has ${k}`);
  }
  assert.deepEqual([...idx.values()].sort((a, b) => a.filename.localeCompare(b.filename)), [...ref.values()].sort((a, b) => a.filename.localeCompare(b.filename)), `${what}: values`);
  assert.deepEqual([...idx.keys()].sort(), [...ref.keys()].sort(), `${what}: keys`);
}

test('with(): set and remove, table of single steps', () => {
  const base = new Map([1, 2, 3].map((n) => [entry(n).parsed.base, entry(n)] as const));
  const b = (n: number): string => entry(n).parsed.base;
  // [entries set, base names removed, base names expected afterwards with their letters]
  const cases: [FileEntry[], string[], [number, string][]][] = [
    [[], [], [[1, ''], [2, ''], [3, '']]],
    [[entry(2, 'S')], [], [[1, ''], [2, 'S'], [3, '']]], // a rename: same base, new name
    [[], [b(1)], [[2, ''], [3, '']]], // an unlink
    [[entry(4, 'S')], [], [[1, ''], [2, ''], [3, ''], [4, 'S']]], // a save
    [[], [b(9)], [[1, ''], [2, ''], [3, '']]], // removing what is not there changes nothing
    [[entry(1, 'F')], [b(1)], [[1, 'F'], [2, ''], [3, '']]], // removed, then set again
  ];
  for (const [set, remove, want] of cases) {
    const idx = FileIndex.of(base).with(set, remove);
    const ref = new Map(want.map(([n, l]) => [entry(n).parsed.base, entry(n, l)] as const));
    same(idx, ref, [1, 2, 3, 4, 9].map(b), JSON.stringify([set.map((e) => e.filename), remove]));
  }
});

test('a seeded walk of derived indexes matches a map, across flattening, and parents stay as they were', () => {
  let seed = 99;
  const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const ref = new Map<string, FileEntry>();
  for (let n = 0; n < 50; n++) ref.set(entry(n).parsed.base, entry(n));
  let idx = FileIndex.of(new Map(ref));
  const history: [FileIndex, Map<string, FileEntry>][] = [];
  const probe = Array.from({ length: 80 }, (_, n) => entry(n).parsed.base);
  for (let step = 0; step < 300; step++) {
    const set: FileEntry[] = [];
    const remove: string[] = [];
    for (let k = rnd(3); k >= 0; k--) {
      const n = rnd(80);
      if (rnd(3) === 0) remove.push(entry(n).parsed.base);
      else set.push(entry(n, ['', 'S', 'FS', 'T'][rnd(4)]!, rnd(2) === 0 ? 'new' : 'cur'));
    }
    for (const k of remove) ref.delete(k);
    for (const e of set) ref.set(e.parsed.base, e);
    idx = idx.with(set, remove);
    // Iterating flattens some of them early; others flatten when their overlay grows.
    if (rnd(10) === 0) [...idx.values()];
    same(idx, ref, probe, `step ${step}`);
    if (step % 40 === 0) history.push([idx, new Map(ref)]);
  }
  for (const [i, [old, want]] of history.entries()) same(old, want, probe, `kept index ${i}`);
});
