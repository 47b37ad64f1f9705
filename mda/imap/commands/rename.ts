/*
 * RENAME (RFC 3501 §6.3.5): children move with the mailbox (the storage does that atomically per
 * mailbox). Renaming INBOX is `NO [CANNOT] Renaming INBOX isn't supported` as Dovecot's maildir
 * answers (RFC 3501's move-the-messages special case is not done by Dovecot either).
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { mailboxArg } from '../mailbox-names.js';

export const renameCommand: CommandSpec = {
  name: 'RENAME',
  states: AUTHENTICATED,
  args: { required: ['astring', 'astring'] },
  sync: 'full',
  async run({ session, args }) {
    const store = session.store!;
    const from = mailboxArg(args[0], store.separator);
    const to = mailboxArg(args[1], store.separator);
    if (from === 'INBOX') return { status: 'NO', text: "Renaming INBOX isn't supported", code: { name: 'CANNOT' } };
    await store.rename(from, to);
    return OK('Rename completed.');
  },
};
