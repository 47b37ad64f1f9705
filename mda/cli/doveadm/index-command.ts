/*
 * doveadm index [-u user|-A] [-S socket] [-q] [-n max_recent] <mailbox mask> (Dovecot 2.3.19,
 * doveadm-mail-index.c): brings each matching mailbox's index up to date and fills its cache, so
 * the first IMAP session after a migration or a lost index does not parse every message. Here:
 * each selectable mailbox matching the mask is opened read-only (no \Recent is claimed) and every
 * message's cached values go to the sidecar (mda/imap/fetch/precache.ts). Silent on success, as
 * Dovecot's; a mailbox that fails is reported and the others go on.
 *  - `-n max_recent`: a mailbox with more \Recent messages than that is skipped (Dovecot's check,
 *    made before the sync).
 *  - `-q` queues the work to Dovecot's indexer process; Postern has none, so the work is done at once.
 */
import { precache } from '../../imap/fetch/precache.js';
import { UsageError } from './args.js';
import type { DoveadmContext } from './context.js';
import { mailOpts } from './mail-user.js';
import { eachMatchingMailbox } from './mailbox.js';

export const INDEX_USAGE = 'doveadm index [-u <user>|-A] [-S <socket_path>] [-q] [-n <max recent>] <mailbox mask>';

/**
 * Messages precached between two turns of the event loop: the sidecar writes what was queued when
 * the loop turns, so its queue and the transaction stay small in a mailbox of any size.
 */
const MESSAGES_PER_TURN = 100;

export async function indexCommand(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  const p = mailOpts(args, 'qn:');
  if (p.rest.length === 0) throw new UsageError('usage');
  const maxText = p.values.find(([k]) => k === 'n')?.[1];
  const maxRecent = maxText === undefined ? 0 : Number(maxText);
  if (!Number.isInteger(maxRecent) || maxRecent < 0) throw new UsageError('usage');
  await eachMatchingMailbox(ctx, p, (name) => `Syncing mailbox ${name} failed`, async (store, name) => {
    if (maxRecent > 0 && (await store.status(name)).recent > maxRecent) return;
    const view = await store.openMailbox(name, { readOnly: true });
    try {
      const messages = view.messages();
      for (let i = 0; i < messages.length; i++) {
        await precache(view, messages[i]!);
        if (i % MESSAGES_PER_TURN === MESSAGES_PER_TURN - 1) await new Promise((r) => setImmediate(r));
      }
    } finally {
      await view.close();
    }
  });
}
