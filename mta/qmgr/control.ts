/*
 * qmgr's answers on the control socket (mta/queue/control-proto.ts): postqueue -f / sendmail -q
 * (FLUSH), -i ID (SCHEDULE), -s site (SITE) and postsuper's WAKEUP.
 * FLUSH makes every deferred message due now. SCHEDULE and SITE flush the whole deferred queue too
 * (Postern has no per-destination fast-flush logs): more mail is tried early, none later than asked.
 * A SCHEDULE for an ID not in the queue is still OK, as Postfix's flush service does not check it.
 */
import type { ControlRequest, ControlResponse } from '../queue/control-proto.js';

export function controlHandler(q: { flush(): void; kick(): void }): (req: ControlRequest) => ControlResponse {
  return (req) => {
    switch (req.verb) {
      case 'WAKEUP':
        q.kick();
        return { status: 'OK' };
      case 'FLUSH':
      case 'SCHEDULE':
      case 'SITE':
        q.flush();
        return { status: 'OK' };
    }
  };
}
