/*
 * Grouping a message's pending recipients into delivery batches (pure): recipients are routed
 * (transport, next hop) and each group is cut into batches of at most the transport's
 * `_destination_recipient_limit`, keeping the recipients' queue order, as Postfix's qmgr builds
 * its per-destination entries.
 */
import type { DeliveryRecipient } from '../delivery/api.js';

export interface Route {
  transport: string;
  nexthop: string;
}

export interface Batch extends Route {
  recipients: DeliveryRecipient[];
}

export function makeBatches(routed: ReadonlyArray<{ rcpt: DeliveryRecipient; route: Route }>, limitOf: (transport: string) => number): Batch[] {
  const groups = new Map<string, { route: Route; rcpts: DeliveryRecipient[] }>();
  for (const { rcpt, route } of routed) {
    const key = `${route.transport}\0${route.nexthop}`;
    const g = groups.get(key) ?? { route, rcpts: [] };
    g.rcpts.push(rcpt);
    groups.set(key, g);
  }
  const out: Batch[] = [];
  for (const { route, rcpts } of groups.values()) {
    const limit = Math.max(1, limitOf(route.transport));
    for (let i = 0; i < rcpts.length; i += limit) out.push({ ...route, recipients: rcpts.slice(i, i + limit) });
  }
  return out;
}
