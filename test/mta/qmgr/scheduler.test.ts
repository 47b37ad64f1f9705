/*
 * qmgr on a fake clock with fake agents and a real QueueStore in a temp dir: batching by
 * recipient limit, concurrency feedback and dead-destination suspension, the backoff schedule,
 * lifetime expiry with the DSN hook, flush, log lines.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { QueueStore } from '../../../mta/queue/store.js';
import { Qmgr, type QmgrDeps } from '../../../mta/qmgr/scheduler.js';
import type { DeliveryAgent, DeliveryRequest } from '../../../mta/delivery/api.js';
import type { TransportService } from '../../../mta/delivery/registry.js';
import type { RecipientOutcome, QueueRecord } from '../../../mta/queue/types.js';
import type { TransportLimits } from '../../../mta/qmgr/settings.js';
import { newWindow, onSiteFailure, onSuccess, slots } from '../../../mta/qmgr/concurrency.js';
import { makeBatches } from '../../../mta/qmgr/batch.js';
import { postfixLogger } from '../../../shared/log/logger.js';
import { memorySink } from '../../../shared/log/sink.js';
import { tempDir } from '../../helpers/tmp.js';
import { FakeClock } from './fake-clock.js';

type Behaviour = (req: DeliveryRequest) => RecipientOutcome[] | Promise<RecipientOutcome[]>;

class FakeAgent implements DeliveryAgent {
  calls: DeliveryRequest[] = [];
  running = 0;
  maxRunning = 0;
  constructor(readonly transport: string, public behaviour: Behaviour) {}
  async deliver(req: DeliveryRequest): Promise<RecipientOutcome[]> {
    this.calls.push(req);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await this.behaviour(req);
    } finally {
      this.running--;
    }
  }
  async close(): Promise<void> {}
}

const sent: Behaviour = (req) => req.recipients.map((r) => ({ index: r.index, kind: 'delivered', dsnStatus: '2.0.0', reply: '250 2.0.0 Ok', relay: 'x[1.2.3.4]:24' }));
const refused: Behaviour = (req) => {
  req.report!.siteFailure = true;
  return req.recipients.map((r) => ({ index: r.index, kind: 'deferred', dsnStatus: '4.4.1', reason: 'connect to x[private/lmtp]: No such file or directory', relay: 'none' }));
};

const LIMITS: TransportLimits = { initial: 5, limit: 20, positiveFeedback: 1, negativeFeedback: 1, failedCohortLimit: 1, suspendMs: 300_000, recipientLimit: 50, processLimit: 100 };

interface Rig {
  clock: FakeClock;
  store: QueueStore;
  qmgr: Qmgr;
  agent: FakeAgent;
  lines: string[];
  dsn: QueueRecord[];
  settle(): Promise<void>;
}

async function rig(t: TestContext, behaviour: Behaviour, over: { limits?: Partial<TransportLimits>; lifetime?: number; delayWarning?: number } = {}): Promise<Rig> {
  const clock = new FakeClock();
  const dir = tempDir(t);
  const retry = { minimalBackoffTime: 300, maximalBackoffTime: 4000, maximalQueueLifetime: over.lifetime ?? 5 * 86400, bounceQueueLifetime: over.lifetime ?? 5 * 86400 };
  const store = QueueStore.open({ queueDirectory: dir, retry, clockMs: () => clock.now() });
  const sink = memorySink();
  const agent = new FakeAgent('lmtp', behaviour);
  const service: TransportService = { name: 'lmtp', program: 'lmtp', syslogName: 'postfix', agent, config: undefined as never };
  const dsn: QueueRecord[] = [];
  const deps: QmgrDeps = {
    store,
    resolver: {
      qualify: (a) => a,
      resolve: (a) => ({ address: a, addressClass: 'virtual-mailbox', transport: 'lmtp', nexthop: a.endsWith('@other.test') ? 'unix:other' : 'unix:private/dovecot-lmtp' }),
    },
    transports: { get: () => service },
    settings: { activeLimit: 100, queueRunDelay: 300, minimalBackoffTime: 300, delayWarningTime: over.delayWarning ?? 0 },
    limitsOf: () => ({ ...LIMITS, ...over.limits }),
    clock,
    logger: (program) => postfixLogger({ sink, host: 'mx', syslogName: 'postfix', program, pid: 1, now: () => new Date(clock.now()) }),
    dsn: async (rec) => {
      dsn.push(rec);
    },
  };
  const qmgr = new Qmgr(deps);
  t.after(async () => {
    await qmgr.stop();
    await store.close();
  });
  const settle = async () => {
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setImmediate(r));
      await qmgr.whenIdle();
    }
  };
  return { clock, store, qmgr, agent, lines: sink.lines, dsn, settle };
}

const enqueue = (store: QueueStore, rcpts: string[], sender = 's@example.org') =>
  store.enqueue({ sender, recipients: rcpts.map((address) => ({ address })) }, Buffer.from('Subject: x\n\nbody\n'));

test('pure: batches follow the recipient limit per (transport, nexthop), in queue order', () => {
  const routed = ['a', 'b', 'c', 'd', 'e'].map((x, index) => ({ rcpt: { index, address: `${x}@t` }, route: { transport: 'lmtp', nexthop: index % 2 ? 'B' : 'A' } }));
  const b = makeBatches(routed, () => 2);
  assert.deepEqual(b.map((x) => [x.nexthop, x.recipients.map((r) => r.index)]), [['A', [0, 2]], ['A', [4]], ['B', [1, 3]]]);
});

test('pure: concurrency window grows by one per successful cohort, dies after a failed cohort', () => {
  let w = newWindow(LIMITS);
  assert.equal(slots(w, 0), 5);
  for (let i = 0; i < 5; i++) w = onSuccess(w, LIMITS);
  assert.equal(slots(w, 0), 5); // 5 + 5×(1/5…) ≈ 5.9 → still 5 until the window reaches 6
  for (let i = 0; i < 2; i++) w = onSuccess(w, LIMITS);
  assert.equal(slots(w, 0), 6);
  let f = newWindow(LIMITS);
  for (let i = 0; i < 4; i++) f = onSiteFailure(f, LIMITS, 0, 'r', '4.4.1');
  assert.equal(f.suspendedUntil, undefined);
  assert.ok(f.window < 5);
  f = onSiteFailure(f, { ...LIMITS }, 0, 'r', '4.4.1');
  assert.ok(f.failedCohorts >= 1 && f.suspendedUntil === 300_000);
  assert.equal(slots(f, 1), 0);
});

test('delivers, logs qmgr active, agent lines with delays, removed; batches of the recipient limit', async (t) => {
  const r = await rig(t, sent, { limits: { recipientLimit: 2 } });
  const rec = await enqueue(r.store, ['a@test', 'b@test', 'c@test', 'd@other.test']);
  r.qmgr.start();
  await r.settle();
  assert.equal(r.store.get(rec.id), undefined);
  assert.deepEqual(r.agent.calls.map((c) => [c.nexthop, c.recipients.map((x) => x.address)]), [
    ['unix:private/dovecot-lmtp', ['a@test', 'b@test']],
    ['unix:private/dovecot-lmtp', ['c@test']],
    ['unix:other', ['d@other.test']],
  ]);
  const text = r.lines.join('\n');
  assert.match(text, new RegExp(`postfix/qmgr\\[1\\]: ${rec.id}: from=<s@example.org>, size=\\d+, nrcpt=4 \\(queue active\\)`));
  assert.match(text, new RegExp(`postfix/lmtp\\[1\\]: ${rec.id}: to=<a@test>, relay=x\\[1.2.3.4\\]:24, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent \\(250 2.0.0 Ok\\)`));
  assert.match(text, new RegExp(`postfix/qmgr\\[1\\]: ${rec.id}: removed`));
});

test('deferral follows the backoff schedule; flush makes deferred mail due now', async (t) => {
  let ok = false;
  const r = await rig(t, (req) => (ok ? sent(req) : req.recipients.map((x) => ({ index: x.index, kind: 'deferred', dsnStatus: '4.2.0', reason: 'busy', relay: 'none' }))), { limits: { failedCohortLimit: 0 } });
  const rec = await enqueue(r.store, ['a@test']);
  r.qmgr.start();
  await r.settle();
  const times = [r.clock.now()];
  // Tries at about 0, +300 s, +600 s (age 300 → wait 300), +1200 s …
  for (let i = 0; i < 3; i++) {
    const before = r.agent.calls.length;
    const due = r.store.get(rec.id)!.nextAttempt;
    r.clock.advance(due - r.clock.now() - 1);
    await r.settle();
    assert.equal(r.agent.calls.length, before, 'not before due');
    r.clock.advance(1);
    await r.settle();
    assert.equal(r.agent.calls.length, before + 1, 'at due time');
    times.push(r.clock.now());
  }
  assert.deepEqual(times.map((x) => (x - times[0]!) / 1000), [0, 300, 600, 1200]);
  assert.equal(r.store.get(rec.id)!.queue, 'deferred');
  ok = true;
  r.qmgr.flush();
  await r.settle();
  assert.equal(r.store.get(rec.id), undefined);
});

test('lifetime expiry returns the message with the last reason through the DSN hook', async (t) => {
  const r = await rig(t, (req) => req.recipients.map((x) => ({ index: x.index, kind: 'deferred', dsnStatus: '4.4.1', reason: 'connect to x: Connection refused', relay: 'none' })), { lifetime: 600, limits: { failedCohortLimit: 0 } });
  const rec = await enqueue(r.store, ['a@test']);
  r.qmgr.start();
  await r.settle();
  r.clock.advance(300_000);
  await r.settle();
  r.clock.advance(300_000);
  await r.settle();
  assert.equal(r.dsn.length, 1);
  assert.equal(r.dsn[0]!.recipients[0]!.result, 'expired');
  assert.equal(r.dsn[0]!.recipients[0]!.reason, 'connect to x: Connection refused');
  assert.equal(r.store.get(rec.id), undefined);
  assert.match(r.lines.join('\n'), new RegExp(`${rec.id}: from=<s@example.org>, status=expired, returned to sender`));
});

test('a bounce owes a DSN: the hook runs, then the message is removed', async (t) => {
  const r = await rig(t, (req) => req.recipients.map((x) => ({ index: x.index, kind: 'bounced', dsnStatus: '5.1.1', reason: 'host x said: 550 5.1.1 no (in reply to RCPT TO command)', relay: 'x' })));
  const rec = await enqueue(r.store, ['a@test']);
  r.qmgr.start();
  await r.settle();
  assert.equal(r.dsn.length, 1);
  assert.equal(r.store.get(rec.id), undefined);
  assert.match(r.lines.join('\n'), /status=bounced \(host x said: 550 5\.1\.1 no \(in reply to RCPT TO command\)\)/);
});

test('concurrency: at most the initial window in parallel; a dead destination is suspended', async (t) => {
  const gates: Array<() => void> = [];
  const r = await rig(t, (req) => new Promise((res) => gates.push(() => res(sent(req)))), { limits: { recipientLimit: 1 } });
  await enqueue(r.store, Array.from({ length: 12 }, (_, i) => `u${i}@test`));
  r.qmgr.start();
  for (let i = 0; i < 50 && r.agent.running < 5; i++) await new Promise((res) => setTimeout(res, 5));
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(r.agent.running, 5);
  while (gates.length > 0) {
    gates.shift()!();
    await new Promise((res) => setTimeout(res, 5));
  }
  await r.settle();
  assert.equal(r.agent.calls.length, 12);
  assert.ok(r.agent.maxRunning >= 5 && r.agent.maxRunning <= 7, String(r.agent.maxRunning));

  // Site failures: after a failed cohort the destination dies; the rest is deferred unattempted.
  r.agent.behaviour = refused;
  r.agent.calls = [];
  const rec = await enqueue(r.store, Array.from({ length: 12 }, (_, i) => `v${i}@other.test`));
  await r.settle();
  assert.ok(r.agent.calls.length >= 5 && r.agent.calls.length < 12, String(r.agent.calls.length));
  const suspended = r.lines.filter((l) => l.includes('status=deferred (delivery temporarily suspended: connect to x[private/lmtp]: No such file or directory)'));
  assert.equal(suspended.length, 12 - r.agent.calls.length);
  assert.ok(suspended.every((l) => l.includes('postfix/qmgr[1]')));
  assert.equal(r.store.get(rec.id)!.queue, 'deferred');
});

test('slots lent to smtpd processes: at most a quarter of the active limit; adopted mail runs once; stray active mail is run', async (t) => {
  const r = await rig(t, sent);
  r.qmgr.start();
  // activeLimit 100: a quarter may be lent, whatever is asked and however often.
  assert.equal(r.qmgr.lendSlots(64), 25);
  assert.equal(r.qmgr.lendSlots(64), 0);
  r.qmgr.returnSlots(5);
  assert.equal(r.qmgr.lendSlots(64), 5);

  // Another process (an smtpd process) stores two messages straight as active with lent slots.
  const other = QueueStore.open({ queueDirectory: dirname(r.store.paths.dir), clockMs: () => r.clock.now(), idSlot: { index: 1, count: 2 } });
  other.setDirectAdmission({ reserve: () => true, release: () => undefined });
  const a = await enqueue(other, ['a@example.test']);
  const b = await enqueue(other, ['b@example.test']);
  await other.close();
  assert.deepEqual([a.queue, b.queue], ['active', 'active']);
  await r.settle();
  assert.equal(r.agent.calls.length, 0, 'active mail nobody handed over is not taken by the queue scan');

  // a is handed over, twice (a repeated notice): it runs once.
  r.qmgr.adoptAdmitted(a.id);
  r.qmgr.adoptAdmitted(a.id);
  await r.settle();
  assert.deepEqual(r.agent.calls.map((c) => c.recipients.map((x) => x.address)), [['a@example.test']]);
  assert.match(r.lines.join('\n'), new RegExp(`${a.id}: removed`));
  // A notice for a message already gone (run by adoptStray, then finished) starts nothing.
  r.qmgr.adoptAdmitted(a.id);
  await r.settle();
  assert.equal(r.agent.calls.length, 1);

  // b's process died before its notice: adoptStray runs it.
  r.qmgr.adoptStray();
  await r.settle();
  assert.deepEqual(r.agent.calls.map((c) => c.recipients[0]!.address), ['a@example.test', 'b@example.test']);
  assert.equal([...r.store.list()].length, 0);
});

test('a message this process admitted is started once, even when adoptStray runs before its hand-over', async (t) => {
  const r = await rig(t, sent);
  r.qmgr.start();
  // enqueue() resolves after its commit is flushed and the change is announced; the scheduler
  // starts the admitted message on the next setImmediate. adoptStray (an smtpd process died) can
  // run in between and finds it active in the store and not running yet.
  const rec = await enqueue(r.store, ['once@example.test']);
  assert.equal(rec.queue, 'active');
  r.qmgr.adoptStray();
  await r.settle();
  assert.equal(r.agent.calls.length, 1, 'delivered once');
  assert.equal((r.lines.join('\n').match(new RegExp(`${rec.id}: removed`, 'g')) ?? []).length, 1);
});
