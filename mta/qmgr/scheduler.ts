/*
 * qmgr: the scheduler between the queue and the delivery agents (Postfix qmgr(8)).
 *
 *  - takes due mail from the QueueStore (incoming and deferred alternately, at most
 *    qmgr_message_active_limit messages active), woken by the store's change notifications, by a
 *    timer at the next due time (checked at least every queue_run_delay); postqueue -f/-i/-s and
 *    ETRN make the selected deferred mail due now (QueueStore.makeDue), then the scan takes it;
 *  - logs `QID: from=<…>, size=…, nrcpt=… (queue active)`, routes each pending recipient through
 *    the Resolver, cuts per-(transport, next hop) batches of `_destination_recipient_limit`, and runs
 *    them under per-destination concurrency with feedback and dead-destination suspension
 *    (destinations.ts);
 *  - each agent's per-recipient results are logged (`to=<…>, relay=…, delays=a/b/c/d, …`) and
 *    applied to the queue in one transaction per batch; the last batch completes the attempt
 *    (deferral backoff, lifetime expiry, DSN owed: mta/queue/outcomes.ts);
 *  - a message that owes a DSN is handed to the bounce generator, then finishDsn() removes it;
 *    `QID: removed` is logged when a message leaves the queue.
 * DURABILITY: an outcome counts only once applyOutcomes() has committed it to disk; a crash before
 * that leaves the message active, and start-up recovery makes it due again (at-least-once: the
 * recipients of an unrecorded attempt are delivered again, never lost).
 * Stopping: no new work; deliveries still running after the grace period are aborted and their
 * results dropped, so the message stays in the queue for the next start.
 */
import { Readable } from 'node:stream';
import type { QueueStore, Selection } from '../queue/store.js';
import type { QueueRecord, RecipientOutcome } from '../queue/types.js';
import type { Resolver } from '../resolve/api.js';
import type { DeliveryRecipient, DeliveryReport, DeliveryRequest } from '../delivery/api.js';
import type { TransportService } from '../delivery/registry.js';
import { outcomeLines } from '../delivery/log-outcome.js';
import { mtaEvents } from '../log-events.js';
import type { Log } from '../../shared/log/logger.js';
import type { Clock, Timer } from './clock.js';
import { makeBatches, type Batch, type Route } from './batch.js';
import { DestinationTable, type Destination } from './destinations.js';
import type { QmgrSettings, TransportLimits } from './settings.js';

/** Queues the DSN(s) a message owes (bounce, expiry, success notices) through cleanup. */
export type DsnGenerator = (record: QueueRecord) => Promise<void>;

export interface QmgrDeps {
  store: QueueStore;
  resolver: Resolver;
  transports: { get(transport: string): TransportService };
  settings: QmgrSettings;
  limitsOf(transport: string): TransportLimits;
  clock: Clock;
  /** A logger for a program name (`qmgr`, `lmtp` …) under a syslog_name. */
  logger(program: string, syslogName?: string): Log;
  /** The bounce generator (mta/bounce); without it, DSNs wait in the queue (warned once per message). */
  dsn?: DsnGenerator;
  /** Called once per message when it has been deferred for delay_warning_time. */
  delayWarning?: (record: QueueRecord) => Promise<void>;
}

interface ActiveMessage {
  rec: QueueRecord;
  activeAt: number;
  outstanding: number;
  /** Serialises this message's queue updates. */
  chain: Promise<unknown>;
  /** Set when the last batch has been applied. */
  finished?: () => void;
}

interface Job {
  msg: ActiveMessage;
  batch: Batch;
  service: TransportService;
}

export class Qmgr {
  private readonly log: Log;
  private readonly dests: DestinationTable<Job>;
  private readonly active = new Map<string, ActiveMessage>();
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly warned = new Set<string>();
  private readonly dsnWarned = new Set<string>();
  private timer: Timer | undefined;
  private reviveTimers = new Map<string, Timer>();
  private pumping = false;
  private again = false;
  /** makeDue() calls still committing (the scheduler is not idle until they are applied). */
  private makingDue = 0;
  /** Active slots reserved by direct admission for messages whose enqueue is still committing. */
  private admitting = 0;
  /** Active slots lent to smtpd processes for their own direct admission (lendSlots). */
  private lent = 0;
  private stopping = false;
  private unsubscribe: (() => void) | undefined;
  /** Resolves whenever the scheduler becomes idle (tests wait on it). */
  private idleWaiters: Array<() => void> = [];
  private dsnGen: DsnGenerator | undefined;

  constructor(private readonly d: QmgrDeps) {
    this.log = d.logger('qmgr');
    this.dests = new DestinationTable<Job>((t) => d.limitsOf(t));
    this.dsnGen = d.dsn;
  }

  /** Installs the bounce generator once it is available (main.ts wires mta/bounce). */
  setDsnGenerator(dsn: DsnGenerator | undefined): void {
    this.dsnGen = dsn;
  }

  /** Starts scheduling (run the store's recover() first). */
  start(): void {
    this.unsubscribe = this.d.store.onChange((c) => {
      if (c.admitted !== undefined) {
        // After the current callbacks: smtpd's `250 … queued as` for this message goes out first.
        const rec = c.admitted;
        setImmediate(() => {
          this.admitting--;
          // When stopping, it stays active in the store; recovery makes it due at the next start.
          // adoptStray() may have started it already: it was active in the store, not yet running.
          if (!this.stopping && !this.active.has(rec.id)) this.startMessage(rec);
          this.checkIdle();
        });
        return;
      }
      if (c.kind !== 'outcome') this.kick();
    });
    // New mail goes straight to active in its enqueue commit while there is room and nothing older
    // is due (QueueStore.DirectAdmission): one write transaction and fsync per message fewer.
    this.d.store.setDirectAdmission({
      reserve: () => {
        if (this.stopping || this.active.size + this.admitting + this.lent >= this.d.settings.activeLimit) return false;
        this.admitting++;
        return true;
      },
      release: () => {
        this.admitting--;
        this.kick();
        this.checkIdle();
      },
    });
    this.kick();
  }

  /** Something may be due: run the loop soon. */
  kick(): void {
    if (this.stopping) return;
    void this.pump();
  }

  /** postqueue -f / sendmail -q: every deferred message is due now. Resolves with the IDs made due. */
  flush(): Promise<string[]> {
    return this.makeDue({ ids: 'ALL', queues: ['deferred'] });
  }

  /** postqueue -i ID / sendmail -qI: one message is due now (an ID not in the queue is no error). */
  schedule(id: string): Promise<string[]> {
    return this.makeDue({ ids: [id], queues: ['deferred'] });
  }

  /**
   * postqueue -s site / sendmail -qR / ETRN: deferred mail with a pending recipient in `site` (the
   * recipient's domain, case-insensitive; a `[addr]` literal as written) is due now.
   */
  flushSite(site: string): Promise<string[]> {
    const want = site.toLowerCase();
    return this.makeDue({ ids: 'ALL', queues: ['deferred'] }, (r) =>
      r.recipients.some((rc) => rc.status === 'pending' && rc.address.slice(rc.address.lastIndexOf('@') + 1).toLowerCase() === want));
  }

  private async makeDue(sel: Selection, filter?: (r: QueueRecord) => boolean): Promise<string[]> {
    this.makingDue++;
    try {
      return await this.d.store.makeDue(sel, filter);
    } finally {
      this.makingDue--;
      this.kick();
      this.checkIdle();
    }
  }

  /** Messages currently active in this scheduler. */
  activeCount(): number {
    return this.active.size;
  }

  /** Resolves when nothing is active, being taken, or running (for tests and shutdown). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private isIdle(): boolean {
    return !this.pumping && this.makingDue === 0 && this.admitting === 0 && this.active.size === 0 && this.running.size === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  /** Stops taking mail; waits `graceMs` for running deliveries, then aborts the rest (they stay queued). */
  async stop(graceMs = 0): Promise<void> {
    this.stopping = true;
    this.d.store.setDirectAdmission(undefined);
    this.unsubscribe?.();
    this.timer?.cancel();
    for (const t of this.reviveTimers.values()) t.cancel();
    this.reviveTimers.clear();
    // Batches not started yet are simply dropped: their messages stay active in the store.
    for (const d of this.dests.all()) d.waiting = [];
    if (this.running.size > 0 && graceMs > 0) {
      await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => setTimeout(r, graceMs))]);
    }
    this.abort.abort();
    await Promise.allSettled([...this.running]);
    await Promise.allSettled([...this.active.values()].map((m) => m.chain));
  }

  // --- slots lent to smtpd processes ------------------------------------------------------------

  /**
   * Lends up to `n` active slots to a process that enqueues into the same store (an smtpd process,
   * mta/master): it may then store that many new messages straight as active, with the same checks
   * as this process's own direct admission (QueueStore.DirectAdmission), and hands each one over
   * with adoptAdmitted(). Returns how many were lent (none while stopping or without room).
   */
  lendSlots(n: number): number {
    if (this.stopping) return 0;
    const limit = this.d.settings.activeLimit;
    const room = limit - this.active.size - this.admitting - this.lent;
    // At most a quarter of qmgr_message_active_limit is ever lent, so that slots held by a process
    // that receives nothing can never keep deferred mail out of the active queue.
    const k = Math.max(0, Math.min(n, room, Math.floor(limit / 4) - this.lent));
    this.lent += k;
    return k;
  }

  /** Slots lent and not used (their process ended): the room is this scheduler's again. */
  returnSlots(n: number): void {
    this.lent = Math.max(0, this.lent - n);
    this.kick();
  }

  /**
   * Another process stored message `id` as active with a lent slot and has flushed it: run it.
   * The record is read from a fresh snapshot, and nothing is started twice: a message already
   * running here, or no longer active in the store (adoptStray() ran and finished it), is left.
   */
  adoptAdmitted(id: string): void {
    this.lent = Math.max(0, this.lent - 1);
    if (this.stopping || this.active.has(id)) return;
    let rec: QueueRecord | undefined;
    try {
      this.d.store.refreshSnapshot();
      rec = this.d.store.get(id);
    } catch (err) {
      this.log.warn(`${id}: cannot read the admitted message: ${(err as Error).message}`);
    }
    if (rec?.queue === 'active') this.startMessage(rec);
  }

  /**
   * Runs every active message in the store that this scheduler is not running: mail a process
   * admitted and committed but never handed over, because it died first. Without this it would
   * wait for the next start's recovery.
   */
  adoptStray(): void {
    if (this.stopping) return;
    this.d.store.refreshSnapshot();
    for (const rec of this.d.store.list(['active'])) if (!this.active.has(rec.id)) this.startMessage(rec);
  }

  // --- taking mail ------------------------------------------------------------------------------

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.stopping) {
          const room = this.d.settings.activeLimit - this.active.size - this.admitting - this.lent;
          if (room <= 0) break;
          let recs: QueueRecord[];
          try {
            recs = await this.d.store.takeDue(Math.min(room, 1000));
          } catch (err) {
            this.log.warn(`queue scan failed: ${(err as Error).message}`);
            break;
          }
          if (recs.length === 0) break;
          for (const rec of recs) this.startMessage(rec);
        }
      } while (this.again && !this.stopping);
    } finally {
      this.pumping = false;
    }
    this.armTimer();
    this.checkIdle();
  }

  private armTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.stopping) return;
    const now = this.d.clock.now();
    const scan = this.d.settings.queueRunDelay * 1000;
    let next: number | undefined;
    try {
      next = this.d.store.nextDueTime();
    } catch {
      next = undefined;
    }
    const wait = next === undefined ? scan : Math.max(0, Math.min(scan, next - now));
    if (wait === 0 && this.active.size >= this.d.settings.activeLimit) return; // a finishing message kicks
    this.timer = this.d.clock.setTimer(wait, () => {
      this.timer = undefined;
      this.kick();
    });
  }

  // --- one message ------------------------------------------------------------------------------

  private startMessage(rec: QueueRecord): void {
    const now = this.d.clock.now();
    const msg: ActiveMessage = { rec, activeAt: now, outstanding: 0, chain: Promise.resolve() };
    this.active.set(rec.id, msg);
    const pending = rec.recipients.map((r, index) => ({ r, index })).filter((x) => x.r.status === 'pending');
    this.log.info(mtaEvents.qmgr.active(rec.id, rec.sender, rec.size, pending.length));

    if (pending.length === 0 || rec.forcedExpire) {
      // Nothing to attempt (a DSN still owed after a crash, or postsuper -e): settle the message.
      msg.outstanding = 1;
      this.applyBatch(msg, []);
      return;
    }
    const routed: Array<{ rcpt: DeliveryRecipient; route: Route }> = [];
    const immediate: RecipientOutcome[] = [];
    const immediateRcpts: DeliveryRecipient[] = [];
    for (const { r, index } of pending) {
      const rcpt: DeliveryRecipient = {
        index,
        address: r.address,
        ...(r.originalAddress !== undefined ? { originalAddress: r.originalAddress } : {}),
        ...(r.orcpt !== undefined ? { orcpt: r.orcpt } : {}),
        ...(r.notify !== undefined ? { notify: r.notify } : {}),
      };
      try {
        const res = this.d.resolver.resolve(r.address);
        if (res.error) routed.push({ rcpt, route: { transport: 'error', nexthop: `${res.error.dsn} ${res.error.text}` } });
        else routed.push({ rcpt, route: { transport: res.transport, nexthop: res.nexthop } });
      } catch (err) {
        immediateRcpts.push(rcpt);
        immediate.push({ index, kind: 'deferred', dsnStatus: '4.3.0', reason: `address resolver failure: ${(err as Error).message}`, relay: 'none' });
      }
    }
    const batches = makeBatches(routed, (t) => this.d.limitsOf(t).recipientLimit);
    msg.outstanding = batches.length + (immediate.length > 0 ? 1 : 0);
    if (immediate.length > 0) {
      for (const line of outcomeLines(rec.id, immediateRcpts, immediate, this.times(msg, now, undefined), this.d.settings.delayLoggingResolution)) this.log.info(line);
      this.applyBatch(msg, immediate);
    }
    for (const batch of batches) {
      const service = this.d.transports.get(batch.transport);
      const dest = this.dests.get(batch.transport, batch.nexthop);
      dest.waiting.push({ msg, batch, service });
      this.dispatch(dest);
    }
  }

  private times(msg: ActiveMessage, dispatched: number, setupDone: number | undefined) {
    return { arrival: msg.rec.arrivalTime, active: msg.activeAt, dispatched, ...(setupDone !== undefined ? { setupDone } : {}), done: this.d.clock.now() };
  }

  private dispatch(dest: Destination<Job>): void {
    const now = this.d.clock.now();
    this.dests.reviveIfDue(dest, now);
    if (this.dests.suspended(dest, now)) {
      this.deferSuspended(dest);
      return;
    }
    for (;;) {
      const job = this.dests.next(dest, now);
      if (!job) break;
      const p = this.runJob(dest, job).finally(() => {
        this.running.delete(p);
        this.checkIdle();
      });
      this.running.add(p);
    }
  }

  /** A dead destination's waiting batches are deferred without an attempt, logged by qmgr. */
  private deferSuspended(dest: Destination<Job>): void {
    const jobs = dest.waiting;
    dest.waiting = [];
    const reason = `delivery temporarily suspended: ${dest.w.suspendReason ?? 'destination is not available'}`;
    const dsn = dest.w.suspendDsn ?? '4.4.1';
    for (const job of jobs) {
      const outcomes: RecipientOutcome[] = job.batch.recipients.map((r) => ({ index: r.index, kind: 'deferred', dsnStatus: dsn, reason, relay: 'none' }));
      for (const line of outcomeLines(job.msg.rec.id, job.batch.recipients, outcomes, this.times(job.msg, this.d.clock.now(), undefined), this.d.settings.delayLoggingResolution)) this.log.info(line);
      this.applyBatch(job.msg, outcomes);
    }
  }

  private async runJob(dest: Destination<Job>, job: Job): Promise<void> {
    const { msg, batch, service } = job;
    const dispatched = this.d.clock.now();
    const report: DeliveryReport = {};
    const req: DeliveryRequest = {
      queueId: msg.rec.id,
      sender: msg.rec.sender,
      recipients: batch.recipients,
      transport: batch.transport,
      nexthop: batch.nexthop,
      ...(msg.rec.envid !== undefined ? { envid: msg.rec.envid } : {}),
      ...(msg.rec.ret !== undefined ? { ret: msg.rec.ret } : {}),
      size: msg.rec.size,
      arrivalTime: msg.rec.arrivalTime,
      content: () => readableBody(this.d.store, msg.rec.id),
      report,
    };
    const bodyType = msg.rec.attrs['body_type'];
    if (bodyType === '8BITMIME' || bodyType === 'BINARYMIME' || bodyType === '7BIT') req.bodyType = bodyType;
    if (msg.rec.attrs['smtputf8'] === 'yes') req.smtputf8 = true;
    let outcomes: RecipientOutcome[];
    try {
      outcomes = await service.agent.deliver(req, this.abort.signal);
    } catch (err) {
      // Unknown failures are temporary (DESIGN.md §4.5).
      outcomes = batch.recipients.map((r) => ({ index: r.index, kind: 'deferred', dsnStatus: '4.3.0', reason: `delivery agent failure: ${(err as Error).message}`, relay: 'none' }));
    }
    const now = this.d.clock.now();
    if (this.abort.signal.aborted) {
      // Abandoned at shutdown: record nothing; the message stays active and is due at next start.
      this.dests.done(dest, now, false, '', '');
      this.abandon(msg);
      return;
    }
    const byIndex = new Map(outcomes.map((o) => [o.index, o]));
    const complete: RecipientOutcome[] = batch.recipients.map((r) => byIndex.get(r.index) ?? { index: r.index, kind: 'deferred', dsnStatus: '4.3.0', reason: 'delivery agent returned no status', relay: 'none' });
    const agentLog = service.program === 'qmgr' ? this.log : this.d.logger(service.program, service.syslogName);
    for (const line of outcomeLines(msg.rec.id, batch.recipients, complete, this.times(msg, dispatched, report.setupDoneAt), this.d.settings.delayLoggingResolution)) agentLog.info(line);
    const first = complete[0];
    const reason = first && first.kind !== 'delivered' ? first.reason : '';
    const died = this.dests.done(dest, now, report.siteFailure === true, reason, first?.dsnStatus ?? '4.4.1');
    this.applyBatch(msg, complete);
    if (died) {
      this.deferSuspended(dest);
      const t = this.d.clock.setTimer(dest.limits.suspendMs, () => {
        this.reviveTimers.delete(dest.key);
        this.dispatch(dest);
      });
      this.reviveTimers.get(dest.key)?.cancel();
      this.reviveTimers.set(dest.key, t);
    } else {
      this.dispatch(dest);
    }
  }

  private abandon(msg: ActiveMessage): void {
    msg.outstanding--;
    if (msg.outstanding <= 0) this.active.delete(msg.rec.id);
  }

  /**
   * Records one batch's outcomes; the message's last batch completes the attempt. Updates for
   * one message are chained so they commit in order.
   */
  private applyBatch(msg: ActiveMessage, outcomes: RecipientOutcome[]): void {
    msg.chain = msg.chain.then(async () => {
      if (this.abort.signal.aborted) {
        this.abandon(msg);
        return;
      }
      msg.outstanding--;
      const last = msg.outstanding <= 0;
      try {
        const applied = await this.d.store.applyOutcomes(msg.rec.id, outcomes, { complete: last });
        if (last) await this.finish(msg, applied.disposition, applied.record);
      } catch (err) {
        // Not recorded: the message stays active in the store and is retried after a restart.
        this.log.warn(`${msg.rec.id}: cannot record delivery status: ${(err as Error).message}`);
      } finally {
        if (last) {
          this.active.delete(msg.rec.id);
          this.kick();
          this.checkIdle();
        }
      }
    });
  }

  private async finish(msg: ActiveMessage, disposition: string, record: QueueRecord | undefined): Promise<void> {
    const id = msg.rec.id;
    if (disposition === 'removed') {
      this.log.info(mtaEvents.qmgr.removed(id));
      this.warned.delete(id);
      return;
    }
    if (disposition === 'deferred' && record) {
      await this.maybeWarnDelay(record);
      return;
    }
    if (disposition !== 'dsn-pending' || !record) return;
    if (record.recipients.some((r) => r.result === 'expired')) this.log.info(mtaEvents.qmgr.expired(id, record.sender));
    if (!this.dsnGen) {
      if (!this.dsnWarned.has(id)) this.log.warn(`${id}: bounce service is not available: delivery status notification postponed`);
      this.dsnWarned.add(id);
      return;
    }
    try {
      await this.dsnGen(record);
    } catch (err) {
      this.log.warn(`${id}: cannot queue delivery status notification: ${(err as Error).message}`);
      return;
    }
    if (await this.d.store.finishDsn(id)) {
      this.log.info(mtaEvents.qmgr.removed(id));
      this.warned.delete(id);
    }
  }

  private async maybeWarnDelay(record: QueueRecord): Promise<void> {
    const after = this.d.settings.delayWarningTime * 1000;
    if (after <= 0 || !this.d.delayWarning || this.warned.has(record.id)) return;
    if (this.d.clock.now() - record.arrivalTime < after) return;
    this.warned.add(record.id);
    try {
      await this.d.delayWarning(record);
    } catch (err) {
      this.log.warn(`${record.id}: cannot queue delay notification: ${(err as Error).message}`);
    }
  }
}

function readableBody(store: QueueStore, id: string): Readable {
  return Readable.from(store.bodySegments(id), { objectMode: false });
}
