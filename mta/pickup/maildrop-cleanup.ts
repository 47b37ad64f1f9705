/*
 * The Cleanup seam (mta/cleanup/api.ts) over the maildrop directory, for `sendmail -bs`: Postfix's
 * smtpd in stand-alone mode hands each message to postdrop rather than to cleanup, and pickup later
 * gives it its queue ID (reference/postfix.md §5.4). Each accepted message becomes one maildrop
 * file named by a queue-ID-shaped name (the ID in `250 2.0.0 Ok: queued as ID`, as postdrop's file
 * ID is in Postfix), with the smtpd `Received:` line written in front of the content, since
 * pickup's cleanup adds only its own `Received: by … (Postfix, from userid N)`.
 * Limits of the maildrop envelope: one NOTIFY for the whole message (the first recipient's), ORCPT
 * not kept, and a HOLD policy action cannot be carried (DISCARD is honoured: nothing is written).
 * DURABILITY: `queued` is returned only after writeMaildrop has fsync'd the file and its directory.
 */
import type { Readable } from 'node:stream';
import { reply } from '../../shared/proto/smtp-reply.js';
import type { Cleanup, CleanupResult, IncomingMessage } from '../cleanup/api.js';
import { receivedHeader } from '../cleanup/added-headers.js';
import { createQueueIdGenerator } from '../queue/queue-id.js';
import { writeMaildrop } from './maildrop-writer.js';
import type { MaildropEnvelope } from './maildrop-format.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface MaildropCleanupOptions {
  dir: string;
  uid: number;
  myhostname: string;
  mailName: string;
  longQueueIds?: boolean;
  now?: () => Date;
}

const TEMP = reply(451, '4.3.0', 'Error: queue file write error');

async function* withPrefix(prefix: Buffer, content: Readable | AsyncIterable<Buffer> | Buffer): AsyncGenerator<Uint8Array> {
  yield prefix;
  if (Buffer.isBuffer(content)) {
    yield content;
    return;
  }
  for await (const c of content as AsyncIterable<Uint8Array>) yield c;
}

export function maildropCleanup(o: MaildropCleanupOptions): Cleanup {
  const ids = createQueueIdGenerator({ long: o.longQueueIds ?? false, clockMs: () => Date.now() });
  const allocateQueueId = () => ids.next((id) => existsSync(join(o.dir, id)));
  return {
    allocateQueueId,
    async submit(m: IncomingMessage, content): Promise<CleanupResult> {
      const queueId = m.queueId ?? allocateQueueId();
      const date = (o.now ?? (() => new Date()))();
      const received = receivedHeader({
        origin: 'smtpd', myhostname: o.myhostname, mailName: o.mailName, queueId, date,
        recipients: m.recipients.map((r) => r.address), ...(m.client ? { client: m.client } : {}),
      });
      const prefix = Buffer.from(received === undefined ? '' : `${received.replace(/\n/g, '\r\n')}\r\n`, 'latin1');
      const notify = m.recipients[0]?.notify;
      const env: MaildropEnvelope = {
        uid: o.uid,
        sender: m.sender,
        recipients: m.recipients.map((r) => r.address),
        extract: false,
        ...(notify ? { notify } : {}),
        ...(m.ret ? { ret: m.ret } : {}),
        ...(m.envid !== undefined ? { envid: m.envid } : {}),
        ...(m.bodyType ? { bodyType: m.bodyType } : {}),
      };
      if (m.policyActions?.discard !== undefined) {
        for await (const _ of withPrefix(prefix, content)) void _;
        return { kind: 'discarded', queueId };
      }
      let size = 0;
      const counted = (async function* () {
        for await (const c of withPrefix(prefix, content)) {
          size += c.byteLength;
          yield c;
        }
      })();
      try {
        await writeMaildrop(o.dir, env, counted, queueId);
      } catch (err) {
        // A failed content stream (message too big, lost client) is smtpd's to report; a write failure is temporary.
        if ((err as NodeJS.ErrnoException).code === undefined) throw err;
        return { kind: 'rejected', reply: TEMP };
      }
      return { kind: 'queued', queueId, size };
    },
  };
}
