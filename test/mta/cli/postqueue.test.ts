/*
 * postqueue and mailq over a queue filled by the store: the -p listing and -j lines as observed
 * from Postfix 3.7 (reference/postfix.md §5.2), -f/-i/-s with and without a daemon on the control
 * socket, configuration errors and usage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControlServer } from '../../../mta/queue/control-server.js';
import { queuePaths } from '../../../mta/queue/paths.js';
import type { ControlRequest } from '../../../mta/queue/control-proto.js';
import { enqueueDeferred, queueFixture, runTool, withStore } from '../queue/cli-helpers.js';

const R1 = 'connect to mx.example.test[private/dovecot-lmtp]: No such file or directory';
const R2 = 'connect to 127.0.0.1[127.0.0.1]:19999: Connection refused';

test('postqueue -p, mailq and postqueue -j list the queue', async (t) => {
  const fx = queueFixture(t);
  const id = await withStore(fx, async (s) => {
    const rec = await enqueueDeferred(s, { sender: 'alice@virt.test', recipients: [{ address: 'alice@virt.test' }, { address: 'bob@gmail.com' }] }, 329, [R1, R2]);
    return rec.id;
  });
  const want = [
    '-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------',
    `${id}     329 Fri Nov 27 17:42:39  alice@virt.test`,
    ` (${R1})`,
    '                                         alice@virt.test',
    `                   (${R2})`,
    '                                         bob@gmail.com',
    '',
    '-- 0 Kbytes in 1 Request.',
    '',
  ].join('\n');
  const p = await runTool('postqueue', ['-c', fx.configDir, '-p']);
  assert.equal(p.stderr, '');
  assert.equal(p.status, 0);
  assert.equal(p.stdout, want);
  const m = await runTool('mailq', [], { env: { MAIL_CONFIG: fx.configDir } });
  assert.equal(m.status, 0);
  assert.equal(m.stdout, want);
  const j = await runTool('postqueue', ['-j'], { env: { MAIL_CONFIG: fx.configDir } });
  assert.equal(j.status, 0);
  assert.equal(
    j.stdout,
    `{"queue_name": "deferred", "queue_id": "${id}", "arrival_time": ${Date.UTC(2026, 10, 27, 17, 42, 39) / 1000}, ` +
      `"message_size": 329, "forced_expire": false, "sender": "alice@virt.test", "recipients": [` +
      `{"address": "alice@virt.test", "delay_reason": "${R1}"}, {"address": "bob@gmail.com", "delay_reason": "${R2}"}]}\n`,
  );
});

test('an empty or never-created queue: "Mail queue is empty"', async (t) => {
  const fx = queueFixture(t);
  const r = await runTool('postqueue', ['-c', fx.configDir, '-p']);
  assert.deepEqual([r.status, r.stdout, r.stderr], [0, 'Mail queue is empty\n', '']);
  await withStore(fx, async () => undefined);
  const r2 = await runTool('postqueue', ['-c', fx.configDir, '-j']);
  assert.deepEqual([r2.status, r2.stdout], [0, '']);
});

test('hold, active and force-expired markers; long queue IDs widen the columns', async (t) => {
  const fx = queueFixture(t, 'enable_long_queue_ids = yes\n');
  const ids = await withStore(fx, async (s) => {
    const a = await s.enqueue({ sender: '', recipients: [{ address: 'x@y.test' }] }, Buffer.alloc(2048));
    const b = await s.enqueue({ sender: 'b@y.test', recipients: [{ address: 'z@y.test' }] }, Buffer.alloc(10));
    await s.hold({ ids: [a.id], queues: ['incoming'] });
    await s.expire({ ids: [a.id], queues: ['hold'] });
    await s.takeDue(10);
    return [a.id, b.id];
  }, true);
  const r = await runTool('postqueue', ['-c', fx.configDir, '-p']);
  assert.equal(r.status, 0);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], '----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------');
  assert.ok(lines.includes(`${`${ids[1]}*`.padEnd(17)}       10 Fri Nov 27 17:42:39 b@y.test`), r.stdout);
  assert.ok(lines.includes(`${`${ids[0]}!#`.padEnd(17)}     2048 Fri Nov 27 17:42:39 MAILER-DAEMON`), r.stdout);
  assert.equal(lines.at(-2), '-- 2 Kbytes in 2 Requests.');
});

test('postqueue -f and -i with no daemon: mail system is down, exit 69', async (t) => {
  const fx = queueFixture(t);
  const f = await runTool('postqueue', ['-c', fx.configDir, '-f']);
  assert.equal(f.status, 69);
  assert.equal(f.stdout, '');
  assert.equal(f.stderr,
    'postqueue: warning: unable to look up public/postern-qmgr: No such file or directory\n' +
    'postqueue: fatal: Cannot flush mail queue - mail system is down\n');
  const i = await runTool('postqueue', ['-c', fx.configDir, '-i', 'A745520E479']);
  assert.equal(i.status, 69);
  assert.equal(i.stderr,
    'postqueue: warning: connect to public/postern-qmgr: No such file or directory\n' +
    'postqueue: fatal: Cannot flush mail queue - mail system is down\n');
});

test('postqueue -s: outside fast_flush_domains is refused before any daemon is asked', async (t) => {
  const fx = queueFixture(t, 'relay_domains = relay.test\n');
  const r = await runTool('postqueue', ['-c', fx.configDir, '-s', 'example.com']);
  assert.equal(r.status, 69);
  assert.equal(r.stderr, 'postqueue: fatal: Flush service is not configured for destination "example.com"\n');
  const down = await runTool('postqueue', ['-c', fx.configDir, '-s', 'mx.relay.test']);
  assert.equal(down.status, 69);
  assert.match(down.stderr, /fatal: Cannot flush mail queue - mail system is down\n$/);
});

test('postqueue -f/-i/-s reach a running daemon over the control socket', async (t) => {
  const fx = queueFixture(t, 'relay_domains = relay.test\n');
  const seen: ControlRequest[] = [];
  const server = await startControlServer(queuePaths(fx.queueDirectory).controlSocket, (req) => {
    seen.push(req);
    return { status: 'OK' };
  });
  t.after(() => server.close());
  for (const args of [['-f'], ['-i', 'A745520E479'], ['-s', 'relay.test']]) {
    const r = await runTool('postqueue', ['-c', fx.configDir, ...args]);
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', ''], args.join(' '));
  }
  assert.deepEqual(seen, [{ verb: 'FLUSH' }, { verb: 'SCHEDULE', queueId: 'A745520E479' }, { verb: 'SITE', site: 'relay.test' }]);
});

test('postqueue: usage, bad options and configuration errors', async (t) => {
  const fx = queueFixture(t);
  const usage = 'postqueue: fatal: usage: postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p | postqueue -s site\n';
  const none = await runTool('postqueue', ['-c', fx.configDir]);
  assert.deepEqual([none.status, none.stderr], [69, usage]);
  const two = await runTool('postqueue', ['-c', fx.configDir, '-p', '-f']);
  assert.deepEqual([two.status, two.stderr], [69, usage]);
  const bad = await runTool('postqueue', ['-c', fx.configDir, '-x']);
  assert.deepEqual([bad.status, bad.stderr], [69, `postqueue: invalid option -- 'x'\n${usage}`]);
  const nocf = await runTool('postqueue', ['-c', `${fx.configDir}/nonexistent`, '-p']);
  assert.deepEqual([nocf.status, nocf.stderr], [69, `postqueue: fatal: open ${fx.configDir}/nonexistent/main.cf: No such file or directory\n`]);
  const fx2 = queueFixture(t);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${fx2.configDir}/main.cf`, `queue_directory = ${fx2.queueDirectory}/missing\n`);
  const noq = await runTool('postqueue', ['-c', fx2.configDir, '-p']);
  assert.deepEqual([noq.status, noq.stderr], [69, `postqueue: fatal: chdir ${fx2.queueDirectory}/missing: No such file or directory\n`]);
  const mq = await runTool('mailq', ['-C', fx2.configDir]);
  assert.equal(mq.status, 75);
});
