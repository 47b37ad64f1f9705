/*
 * Two stores on one maildir (two sessions with a store each, or two processes) creating, deleting
 * and renaming one mailbox at once, and saving into it, opening it and asking its status: every
 * operation succeeds or fails as the race makes it (NOTFOUND: it was not there, or was deleted
 * under the operation; EXISTS: the name was taken), never with an internal error, and neither a
 * half-made mailbox nor a trash directory is left behind. Dovecot 2.3 answers several of these
 * races with NO [SERVERBUG] and logs errors; before this test, so did we (ENOENT on the uidlist
 * lock, "dotlock was replaced", a CREATE making a deleted directory again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openMailStore, StorageError, type MailStore } from '../../../../mda/storage/api.js';
import { tempStore } from '../helpers.js';
import { rng } from '../../../helpers/rng.js';

const MESSAGE = Buffer.from('Subject: race\r\n\r\nbody\r\n');

type Op = { name: string; run: (s: MailStore) => Promise<unknown> };

const OPS: readonly Op[] = [
  { name: 'create X', run: (s) => s.create('X') },
  { name: 'create X.child', run: (s) => s.create('X.child') },
  { name: 'delete X', run: (s) => s.delete('X') },
  { name: 'delete Y', run: (s) => s.delete('Y') },
  { name: 'rename X Y', run: (s) => s.rename('X', 'Y') },
  { name: 'rename Y X', run: (s) => s.rename('Y', 'X') },
  { name: 'append X', run: (s) => s.append('X', MESSAGE) },
  { name: 'status X', run: (s) => s.status('X') },
  { name: 'open X', run: async (s) => (await s.openMailbox('X', { readOnly: false })).close() },
];

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (!(err instanceof StorageError)) return `thrown: ${String(err)}`;
    return err.kind === 'TEMP' ? `TEMP: ${err.logDetail}` : err.kind;
  }
}

test('two stores creating, deleting, renaming and saving into one mailbox at once: only NOTFOUND or EXISTS, nothing left half made', async (t) => {
  const { store: a, root, dir } = await tempStore(t);
  const b = await openMailStore({ mailLocation: `maildir:${root}`, home: dir, user: 'alice', hostname: 'testhost' });
  t.after(() => b.close());
  const r = rng(7);
  const seen = new Map<string, number>();
  for (let round = 0; round < 200; round++) {
    const batch = Array.from({ length: 5 }, (_, i) => ({ op: OPS[Math.floor(r() * OPS.length)]!, store: i % 2 === 0 ? a : b }));
    const results = await Promise.all(batch.map(({ op, store }) => outcome(op.run(store))));
    for (const [i, res] of results.entries()) {
      const key = `${batch[i]!.op.name}: ${res}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      assert.ok(['ok', 'NOTFOUND', 'EXISTS'].includes(res), `round ${round}, ${key}`);
    }
  }
  // Not vacuous: each kind of operation succeeded, and some lost a race.
  for (const name of ['create X', 'delete X', 'rename X Y', 'append X', 'status X', 'open X']) {
    assert.ok(seen.has(`${name}: ok`), `${name} never succeeded: ${[...seen.keys()].join(', ')}`);
  }
  assert.ok([...seen.keys()].some((k) => k.endsWith(': NOTFOUND')) && [...seen.keys()].some((k) => k.endsWith(': EXISTS')));
  // Every listed mailbox is whole, and no deletion left its trash behind.
  for (const entry of await a.list()) {
    if (entry.attributes.includes('\\NonExistent') || entry.name === 'INBOX') continue;
    const box = join(root, `.${entry.name}`);
    assert.deepEqual(readdirSync(box).filter((e) => ['cur', 'new', 'tmp'].includes(e)).sort(), ['cur', 'new', 'tmp'], entry.name);
  }
  assert.deepEqual(readdirSync(root).filter((e) => e.startsWith('..')), []);
});
