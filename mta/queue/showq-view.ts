/*
 * What postqueue -p/-j show of a queued message (pure): the record mapped onto the existing
 * formatters' input (mta/showq/format.ts). Like Postfix's showq, recipients already delivered or
 * returned are not listed, arrival time is in whole seconds, and messages appear queue by queue
 * (incoming, active, deferred, hold), oldest first within a queue.
 */
import type { ShowqMessage } from '../showq/format.js';
import type { QueueRecord } from './types.js';

const QUEUE_ORDER = ['incoming', 'active', 'deferred', 'hold'];

export function showqMessage(r: QueueRecord): ShowqMessage {
  return {
    queueName: r.queue,
    queueId: r.id,
    arrivalTime: Math.floor(r.arrivalTime / 1000),
    size: r.size,
    forcedExpire: r.forcedExpire,
    sender: r.sender,
    recipients: r.recipients
      .filter((rc) => rc.status === 'pending')
      .map((rc) => ({ address: rc.address, delayReason: rc.reason ?? '' })),
  };
}

export function showqOrder(a: QueueRecord, b: QueueRecord): number {
  return QUEUE_ORDER.indexOf(a.queue) - QUEUE_ORDER.indexOf(b.queue) || a.arrivalTime - b.arrivalTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
