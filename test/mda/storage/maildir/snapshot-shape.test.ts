/*
 * A maildir view's snapshot keeps one hidden class (V8's map) through a STORE: the view's getters
 * (mailbox GUID, UIDVALIDITY, the content store) read it on every FETCH, and code V8 compiled for
 * one map was thrown away under load when a STORE's copy of the snapshot came with another
 * (docs/performance.md, "Eighteenth session"). Checked with V8's own %HaveSameMap in a child
 * process started with --allow-natives-syntax.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../../../helpers/tmp.js';

test('maildir view: the snapshot after a STORE has the hidden class of the one SELECT made', (t) => {
  const dir = tempDir(t, 'postern-snapshot-shape-');
  const api = new URL('../../../../mda/storage/api.js', import.meta.url).href;
  const script = `
    const { openMailStore } = await import(${JSON.stringify(api)});
    const store = await openMailStore({ mailLocation: 'maildir:' + ${JSON.stringify(join(dir, 'Maildir'))}, home: ${JSON.stringify(dir)}, user: 'u' });
    for (let i = 0; i < 3; i++) await store.deliver('INBOX', Buffer.from('Subject: ' + i + '\\r\\n\\r\\nbody\\r\\n'));
    const view = await store.openMailbox('INBOX', { readOnly: false });
    const selected = view.snap;
    await view.store([1, 2], { mode: 'add', flags: ['\\\\Seen', 'kw1'] });
    const stored = view.snap;
    console.log(JSON.stringify({ changed: selected !== stored, modseq: [selected.highestModseq, stored.highestModseq], same: %HaveSameMap(selected, stored) }));
    await view.close();
    await store.close();
  `;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { changed: boolean; modseq: [number, number]; same: boolean };
  assert.ok(out.changed, 'the STORE replaced the snapshot');
  assert.ok(out.modseq[1] > out.modseq[0], `the new snapshot carries the STORE's modseq (${out.modseq.join(' → ')})`);
  assert.equal(out.same, true, 'one hidden class');
});
