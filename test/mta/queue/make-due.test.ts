/* QueueStore.makeDue: only the selected (and filtered) deferred messages become due; hold stays held. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueStore } from '../../../mta/queue/store.js';
import { tempDir } from '../../helpers/tmp.js';

test('makeDue acts on its selection only', async (t) => {
  let now = Date.UTC(2026, 10, 27, 12, 0, 0);
  const store = QueueStore.open({ queueDirectory: tempDir(t), clockMs: () => now });
  t.after(() => store.close());
  const put = async (to: string) => {
    const r = await store.enqueue({ sender: 's@x.example', recipients: [{ address: to }] }, Buffer.from('Subject: x\r\n\r\nb\r\n'));
    return r.id;
  };
  const ids = [await put('a@one.example'), await put('b@two.example'), await put('c@one.example')];
  assert.equal((await store.takeDue(10)).length, 3);
  for (const id of ids) await store.applyOutcomes(id, [{ index: 0, kind: 'deferred', dsnStatus: '4.4.1', reason: 'later' }]);
  await store.hold({ ids: [ids[2]!], queues: ['deferred'] });
  now += 1000;
  assert.equal((await store.takeDue(10)).length, 0);
  assert.deepEqual(await store.makeDue({ ids: [ids[1]!], queues: ['deferred'] }), [ids[1]]);
  assert.deepEqual(await store.makeDue({ ids: 'ALL', queues: ['deferred'] }, (r) => r.recipients[0]!.address.endsWith('@one.example')), [ids[0]]);
  assert.deepEqual(await store.makeDue({ ids: [ids[1]!], queues: ['deferred'] }), [], 'already due: nothing to change');
  assert.deepEqual((await store.takeDue(10)).map((r) => r.id).sort(), [ids[0], ids[1]].sort());
  assert.equal(store.get(ids[2]!)!.queue, 'hold');
});
