/*
 * DELETE (RFC 3501 §6.3.4): `NO INBOX can't be deleted.` as Dovecot (no response code); a missing
 * mailbox is `NO [NONEXISTENT] Mailbox doesn't exist: x`. Deleting the selected mailbox closes it
 * first.
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { mailboxArg } from '../mailbox-names.js';

export const deleteCommand: CommandSpec = {
  name: 'DELETE',
  states: AUTHENTICATED,
  args: { required: ['astring'] },
  sync: 'full',
  async run({ session, args }) {
    const store = session.store!;
    const name = mailboxArg(args[0], store.separator);
    if (name === 'INBOX') return { status: 'NO', text: "INBOX can't be deleted." };
    if (session.selected?.view.name === name) await session.unselect();
    await store.delete(name);
    return OK('Delete completed.');
  },
};
