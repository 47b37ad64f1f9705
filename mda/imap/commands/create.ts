/*
 * CREATE (RFC 3501 §6.3.3): a trailing separator is dropped (`CREATE a.` creates `a`); INBOX and an
 * existing name are `NO [ALREADYEXISTS] Mailbox already exists`; invalid names are the storage's
 * `NO [CANNOT] Invalid mailbox name: …` (Dovecot's texts).
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { mailboxArg } from '../mailbox-names.js';

export const createCommand: CommandSpec = {
  name: 'CREATE',
  states: AUTHENTICATED,
  args: { required: ['astring'], optional: ['list'] },
  sync: 'full',
  async run({ session, args }) {
    const store = session.store!;
    await store.create(mailboxArg(args[0], store.separator));
    return OK('Create completed.');
  },
};
