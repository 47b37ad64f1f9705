/*
 * postsuper against a queue on disk: stderr messages and their order as observed from Postfix 3.7
 * (reference/postfix.md §5.3), plural rules, IDs from stdin, default and named queues, exit codes,
 * and the wake-up sent to a running daemon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControlServer } from '../../../mta/queue/control-server.js';
import { queuePaths } from '../../../mta/queue/paths.js';
import type { ControlRequest } from '../../../mta/queue/control-proto.js';
import { queueFixture, runTool, withStore, type QueueFixture } from '../queue/cli-helpers.js';

async function fill(fx: QueueFixture, n: number): Promise<string[]> {
  return withStore(fx, async (s) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await s.enqueue({ sender: 'a@b.test', recipients: [{ address: `r${i}@c.test` }] }, Buffer.from('x'))).id);
    return ids;
  });
}

const queueOf = (fx: QueueFixture, id: string) => withStore(fx, async (s) => s.get(id)?.queue);
const ps = (fx: QueueFixture, args: string[], input?: string) => runTool('postsuper', ['-c', fx.configDir, ...args], input === undefined ? {} : { input });

test('postsuper -h / -H by ID and ALL, with Postfix messages on stderr', async (t) => {
  const fx = queueFixture(t);
  const [a, b, c] = await fill(fx, 3);
  let r = await ps(fx, ['-h', a!]);
  assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', `postsuper: ${a}: placed on hold\npostsuper: Placed on hold: 1 message\n`]);
  assert.equal(await queueOf(fx, a!), 'hold');
  r = await ps(fx, ['-h', 'ALL']);
  assert.equal(r.stderr, 'postsuper: Placed on hold: 2 messages\n', 'ALL prints only the summary');
  r = await ps(fx, ['-H', a!]);
  assert.equal(r.stderr, `postsuper: ${a}: released from hold\npostsuper: Released from hold: 1 message\n`);
  assert.equal(await queueOf(fx, a!), 'deferred');
  r = await ps(fx, ['-H', 'ALL']);
  assert.equal(r.stderr, 'postsuper: Released from hold: 2 messages\n');
  r = await ps(fx, ['-H', 'ALL']);
  assert.equal(r.stderr, 'postsuper: Released from hold: 0 messages\n');
  assert.ok(b && c);
});

test('postsuper -e, -f, -r, -d and the summary order', async (t) => {
  const fx = queueFixture(t);
  const [a, b, c] = await fill(fx, 3);
  let r = await ps(fx, ['-h', b!]);
  r = await ps(fx, ['-e', a!]);
  assert.equal(r.stderr, `postsuper: ${a}: expired\npostsuper: Force-expired: 1 message\n`);
  r = await ps(fx, ['-f', b!]);
  assert.equal(r.stderr,
    `postsuper: ${b}: expired\npostsuper: ${b}: released from hold\npostsuper: Force-expired: 1 message\npostsuper: Released from hold: 1 message\n`);
  r = await ps(fx, ['-f', 'ALL']);
  assert.equal(r.stderr, 'postsuper: Force-expired: 1 message\npostsuper: Released from hold: 0 messages\n');
  r = await ps(fx, ['-d', 'NOSUCH1234', '-r', 'ALL']);
  assert.equal(r.stderr, 'postsuper: Requeued: 3 messages\npostsuper: Deleted: 0 messages\n');
  r = await ps(fx, ['-e', c!, '-d', a!]);
  assert.equal(r.stderr, `postsuper: ${a}: removed\npostsuper: Deleted: 1 message\npostsuper: Force-expired: 0 messages\n`);
  assert.equal(await queueOf(fx, a!), undefined);
  r = await ps(fx, ['-d', 'ALL', 'deferred']);
  assert.equal(r.stderr, 'postsuper: Deleted: 0 messages\n');
  r = await ps(fx, ['-d', 'ALL']);
  assert.equal(r.stderr, 'postsuper: Deleted: 2 messages\n');
  assert.equal(r.status, 0);
});

test('postsuper: IDs from stdin, bad IDs, ALL is upper case only, queue names', async (t) => {
  const fx = queueFixture(t);
  const [a, b] = await fill(fx, 2);
  let r = await ps(fx, ['-d', '-'], `${a}\nbad/id\n\n`);
  assert.equal(r.stderr,
    'postsuper: warning: invalid mail queue id: bad/id\npostsuper: warning: invalid mail queue id: \n' +
    `postsuper: ${a}: removed\npostsuper: Deleted: 1 message\n`);
  r = await ps(fx, ['-d', 'all']);
  assert.equal(r.stderr, 'postsuper: Deleted: 0 messages\n', '"all" is a queue ID, not ALL');
  r = await ps(fx, ['-d', 'ALL', '-d', 'X']);
  assert.equal(r.stderr, 'postsuper: warning: option "-d ALL" will ignore other command line queue IDs\npostsuper: Deleted: 1 message\n');
  assert.equal(await queueOf(fx, b!), undefined);
  r = await ps(fx, ['-d', 'ALL', 'nosuchq']);
  assert.deepEqual([r.status, r.stderr], [1, 'postsuper: fatal: invalid directory name: nosuchq\n']);
  r = await ps(fx, ['-h', 'A745520E479', 'nosuchq']);
  assert.deepEqual([r.status, r.stderr], [0, 'postsuper: Placed on hold: 0 messages\n']);
});

test('postsuper: usage and configuration errors exit 1; -s/-p do nothing', async (t) => {
  const fx = queueFixture(t);
  let r = await ps(fx, ['-x']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^postsuper: invalid option -- 'x'\npostsuper: fatal: usage: postsuper \[-c config_dir\] /);
  r = await runTool('postsuper', ['-c', `${fx.configDir}/none`, '-d', 'ALL']);
  assert.deepEqual([r.status, r.stderr], [1, `postsuper: fatal: open ${fx.configDir}/none/main.cf: No such file or directory\n`]);
  r = await ps(fx, ['-s']);
  assert.deepEqual([r.status, r.stderr], [0, '']);
  r = await ps(fx, []);
  assert.deepEqual([r.status, r.stderr], [0, '']);
});

test('postsuper wakes a running daemon after a change', async (t) => {
  const fx = queueFixture(t);
  const [a] = await fill(fx, 1);
  const seen: ControlRequest[] = [];
  const server = await startControlServer(queuePaths(fx.queueDirectory).controlSocket, (req) => {
    seen.push(req);
    return { status: 'OK' };
  });
  t.after(() => server.close());
  await ps(fx, ['-h', 'NOSUCH']);
  assert.deepEqual(seen, [], 'nothing changed, nobody woken');
  const r = await ps(fx, ['-h', a!]);
  assert.equal(r.status, 0);
  assert.deepEqual(seen, [{ verb: 'WAKEUP' }]);
});
