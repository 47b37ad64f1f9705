/*
 * qmgr's answers on the control socket (mta/queue/control-proto.ts): postqueue -f / sendmail -q
 * (FLUSH), -i ID (SCHEDULE), -s site (SITE) and postsuper's WAKEUP.
 * FLUSH makes every deferred message due now, SCHEDULE that one message, SITE the deferred mail
 * with a pending recipient in that domain (QueueStore.makeDue through the scheduler); qmgr's next
 * scan then takes them. The answer is sent once the change is committed.
 * A SCHEDULE for an ID not in the queue is still OK, as Postfix's flush service does not check it.
 */
import type { ControlRequest, ControlResponse } from '../queue/control-proto.js';

export interface FlushTarget {
  kick(): void;
  flush(): Promise<unknown>;
  schedule(id: string): Promise<unknown>;
  flushSite(site: string): Promise<unknown>;
}

export function controlHandler(q: FlushTarget): (req: ControlRequest) => Promise<ControlResponse> {
  return async (req) => {
    switch (req.verb) {
      case 'WAKEUP':
        q.kick();
        return { status: 'OK' };
      case 'FLUSH':
        await q.flush();
        return { status: 'OK' };
      case 'SCHEDULE':
        await q.schedule(req.queueId);
        return { status: 'OK' };
      case 'SITE':
        await q.flushSite(req.site);
        return { status: 'OK' };
    }
  };
}
