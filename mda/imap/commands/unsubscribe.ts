/*
 * UNSUBSCRIBE (RFC 3501 §6.3.7): works for names that no longer exist, so stale subscriptions can
 * be removed.
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { mailboxArg } from '../mailbox-names.js';

export const unsubscribeCommand: CommandSpec = {
  name: 'UNSUBSCRIBE',
  states: AUTHENTICATED,
  args: { required: ['astring'] },
  sync: 'full',
  async run({ session, args }) {
    const store = session.store!;
    await store.unsubscribe(mailboxArg(args[0], store.separator));
    return OK('Unsubscribe completed.');
  },
};
