/*
 * The delivery agents that need no network (Postfix discard(8) and error(8)), and the stand-in for
 * transports Postern does not implement yet (outbound smtp, local, virtual, pipe): it defers every
 * recipient with a clear reason, so mail waits in the queue instead of being lost.
 *  - discard: `status=sent (TEXT)` with dsn 2.0.0, TEXT the next hop (`discard:reason`) or "discarded";
 *  - error: `status=bounced (TEXT)`; a leading RFC 3463 code in TEXT (`error:5.1.1 User unknown`)
 *    becomes the DSN status, else 5.0.0; a 4.x.x code, or the `retry` service, defers instead.
 */
import type { DeliveryAgent, DeliveryRequest } from './api.js';
import type { RecipientOutcome } from '../queue/types.js';

export class DiscardAgent implements DeliveryAgent {
  constructor(readonly transport: string) {}
  async deliver(req: DeliveryRequest): Promise<RecipientOutcome[]> {
    const text = req.nexthop.trim() === '' ? 'discarded' : req.nexthop.trim();
    return req.recipients.map((r) => ({ index: r.index, kind: 'delivered', dsnStatus: '2.0.0', reply: text, relay: 'none' }));
  }
  async close(): Promise<void> {}
}

const DSN_PREFIX = /^([245])\.(\d{1,3})\.(\d{1,3})\s+/;

export class ErrorAgent implements DeliveryAgent {
  /** `retry`: Postfix's error(8) run as the retry service defers instead of bouncing. */
  constructor(readonly transport: string, private readonly retry = false) {}
  async deliver(req: DeliveryRequest): Promise<RecipientOutcome[]> {
    let text = req.nexthop.trim();
    let dsn = this.retry ? '4.0.0' : '5.0.0';
    const m = DSN_PREFIX.exec(text);
    if (m) {
      dsn = `${m[1]}.${m[2]}.${m[3]}`;
      text = text.slice(m[0].length);
    }
    if (text === '') text = this.retry ? 'delivery temporarily suspended' : 'mail for this destination is not deliverable';
    const defer = this.retry || dsn.startsWith('4');
    if (defer && dsn.startsWith('5')) dsn = `4${dsn.slice(1)}`;
    return req.recipients.map((r) => (defer
      ? { index: r.index, kind: 'deferred', dsnStatus: dsn, reason: text, relay: 'none' }
      : { index: r.index, kind: 'bounced', dsnStatus: dsn, reason: text, relay: 'none' }));
  }
  async close(): Promise<void> {}
}

/** Defers everything: for transports whose agent is not built (or not known to master.cf). */
export class UnavailableAgent implements DeliveryAgent {
  constructor(readonly transport: string, private readonly reason: string, private readonly dsn = '4.3.0') {}
  async deliver(req: DeliveryRequest): Promise<RecipientOutcome[]> {
    return req.recipients.map((r) => ({ index: r.index, kind: 'deferred', dsnStatus: this.dsn, reason: this.reason, relay: 'none' }));
  }
  async close(): Promise<void> {}
}
