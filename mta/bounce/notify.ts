/*
 * The bounce daemon's job as one function per occasion, called by qmgr:
 *   sendPendingNotices(deps, record)  when QueueStore reports `dsn-pending` (every recipient done,
 *                                     a notice owed): failure notice to the sender, success notices
 *                                     (NOTIFY=SUCCESS), postmaster copies per notify_classes, and
 *                                     for a bounce that bounced, a notice to 2bounce_notice_recipient;
 *                                     then QueueStore.finishDsn(id).
 *   sendDelayWarning(deps, record, recipients)  when a message has waited delay_warning_time.
 * Each notice is built by dsn-builder.ts and submitted through cleanup with origin 'bounce' and
 * the null sender (postmaster copies and double bounces: double_bounce_sender@myorigin, whose own
 * failures Postfix discards). Logged as Postfix's bounce(8):
 * `QID: sender non-delivery notification: NEWID`.
 * DURABILITY: finishDsn runs only after every notice is durable in the queue (cleanup resolved
 * `queued`); a crash in between leaves the message dsn-pending, so the notice may be sent twice,
 * never lost. A notice cleanup refuses leaves the message pending for qmgr to retry.
 */
import type { Log } from '../../shared/log/logger.js';
import type { Cleanup } from '../cleanup/api.js';
import { mtaEvents } from '../log-events.js';
import type { QueueStore } from '../queue/store.js';
import type { QueueRecord, RecipientRecord } from '../queue/types.js';
import { buildDsn } from './dsn-builder.js';
import type { BounceSettings } from './settings.js';
import type { NoticeKind } from './templates.js';

export interface BounceDeps {
  cleanup: Cleanup;
  store: Pick<QueueStore, 'readBody' | 'finishDsn'>;
  settings: BounceSettings;
  /** The bounce program's logger. */
  log: Log;
  now?: () => Date;
}

export interface NoticeResult {
  /** Every owed notice is queued (and, for pending notices, the original was removed). */
  ok: boolean;
  /** Queue IDs of the notices queued. */
  notices: string[];
}

const wants = (r: RecipientRecord, what: 'FAILURE' | 'SUCCESS' | 'DELAY'): boolean => {
  if (r.notify === undefined) return what !== 'SUCCESS';
  if (r.notify.includes('NEVER')) return false;
  return r.notify.includes(what);
};

const qualify = (addr: string, origin: string): string => (addr.includes('@') ? addr : `${addr}@${origin}`);

/** Which notices a finished message owes (pure). */
export function plannedNotices(rec: QueueRecord, s: BounceSettings): Array<{ kind: NoticeKind; to: string; sender: string; postmaster: boolean; recipients: RecipientRecord[]; event: 'sender' | 'postmaster' | 'success' }> {
  const failed = rec.recipients.filter((r) => r.status === 'done' && (r.result === 'bounced' || r.result === 'expired'));
  const delivered = rec.recipients.filter((r) => r.status === 'done' && r.result === 'delivered' && wants(r, 'SUCCESS'));
  const doubleBounce = qualify(s.doubleBounceSender, s.myorigin);
  const out: ReturnType<typeof plannedNotices> = [];
  if (failed.length > 0) {
    if (rec.sender === '') {
      // A notice that could not be delivered: to the postmaster (Postfix's 2bounce class).
      out.push({ kind: 'failure', to: qualify(s.twoBounceNoticeRecipient, s.myorigin), sender: doubleBounce, postmaster: true, recipients: failed, event: 'postmaster' });
    } else if (rec.sender.toLowerCase() !== doubleBounce.toLowerCase()) {
      const toSender = failed.filter((r) => wants(r, 'FAILURE'));
      if (toSender.length > 0) out.push({ kind: 'failure', to: rec.sender, sender: '', postmaster: false, recipients: toSender, event: 'sender' });
      if (s.notifyClasses.includes('bounce')) {
        out.push({ kind: 'failure', to: qualify(s.bounceNoticeRecipient, s.myorigin), sender: doubleBounce, postmaster: true, recipients: failed, event: 'postmaster' });
      }
    }
  }
  if (delivered.length > 0 && rec.sender !== '') {
    out.push({ kind: 'success', to: rec.sender, sender: '', postmaster: false, recipients: delivered, event: 'success' });
  }
  return out;
}

async function submitNotice(deps: BounceDeps, rec: QueueRecord, content: Buffer, n: ReturnType<typeof plannedNotices>[number]): Promise<string | undefined> {
  const s = deps.settings;
  const now = (deps.now ?? (() => new Date()))();
  const bytes = buildDsn({
    kind: n.kind,
    record: rec,
    recipients: n.recipients,
    content,
    to: n.to,
    postmaster: n.postmaster,
    myhostname: s.myhostname,
    myorigin: s.myorigin,
    now,
    bounceSizeLimit: s.bounceSizeLimit,
    charset: s.charset,
    delayWarningHours: Math.floor(s.delayWarningTime / 3600),
    maximalQueueLifetimeDays: Math.floor(s.maximalQueueLifetime / 86400),
  });
  const res = await deps.cleanup.submit({ origin: 'bounce', sender: n.sender, recipients: [{ address: n.to }] }, bytes);
  if (res.kind === 'rejected') {
    deps.log.warn(`${rec.id}: cannot queue ${n.event} notification: ${res.reply.code} ${res.reply.enhanced ?? ''} ${res.reply.text}`.replace(/  +/g, ' '));
    return undefined;
  }
  return res.queueId;
}

function logNotice(deps: BounceDeps, id: string, kind: NoticeKind, event: string, newId: string): void {
  const e = mtaEvents.bounce;
  if (kind === 'delay') deps.log.info(e.delayWarning(id, newId));
  else if (event === 'success') deps.log.info(e.success(id, newId));
  else if (event === 'postmaster') deps.log.info(e.postmasterNonDelivery(id, newId));
  else deps.log.info(e.nonDelivery(id, newId));
}

/** For a dsn-pending message: queue every owed notice, then let the message go. */
export async function sendPendingNotices(deps: BounceDeps, rec: QueueRecord): Promise<NoticeResult> {
  const plan = plannedNotices(rec, deps.settings);
  const notices: string[] = [];
  if (plan.length > 0) {
    const content = deps.store.readBody(rec.id);
    for (const n of plan) {
      const id = await submitNotice(deps, rec, content, n);
      if (id === undefined) return { ok: false, notices };
      notices.push(id);
      logNotice(deps, rec.id, n.kind, n.event, id);
    }
  }
  // DURABILITY: every notice above is in the queue (cleanup resolved after its fsync) before the
  // original is removed; a crash between the two re-sends the notices at recovery (duplicate, not loss).
  await deps.store.finishDsn(rec.id);
  return { ok: true, notices };
}

/** delay_warning_time has passed: tell the sender (and the postmaster per notify_classes `delay`). */
export async function sendDelayWarning(deps: BounceDeps, rec: QueueRecord, delayed: readonly RecipientRecord[]): Promise<NoticeResult> {
  const s = deps.settings;
  const notices: string[] = [];
  const toSender = delayed.filter((r) => wants(r, 'DELAY'));
  const plan: ReturnType<typeof plannedNotices> = [];
  if (rec.sender !== '' && toSender.length > 0) plan.push({ kind: 'delay', to: rec.sender, sender: '', postmaster: false, recipients: toSender, event: 'sender' });
  if (s.notifyClasses.includes('delay') && delayed.length > 0) {
    plan.push({ kind: 'delay', to: qualify(s.delayNoticeRecipient, s.myorigin), sender: qualify(s.doubleBounceSender, s.myorigin), postmaster: true, recipients: [...delayed], event: 'postmaster' });
  }
  if (plan.length === 0) return { ok: true, notices };
  const content = deps.store.readBody(rec.id);
  for (const n of plan) {
    const id = await submitNotice(deps, rec, content, n);
    if (id === undefined) return { ok: false, notices };
    notices.push(id);
    logNotice(deps, rec.id, 'delay', n.event, id);
  }
  return { ok: true, notices };
}
