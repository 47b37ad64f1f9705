/*
 * SUBSCRIBE (RFC 3501 §6.3.6): only an existing mailbox may be subscribed (Dovecot:
 * `NO [NONEXISTENT] Mailbox doesn't exist: x`).
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { mailboxArg } from '../mailbox-names.js';

export const subscribeCommand: CommandSpec = {
  name: 'SUBSCRIBE',
  states: AUTHENTICATED,
  args: { required: ['astring'] },
  sync: 'full',
  async run({ session, args }) {
    const store = session.store!;
    const name = mailboxArg(args[0], store.separator);
    if (name !== 'INBOX') {
      const exists = (await store.list()).some((e) => e.name === name && !e.attributes.includes('\\NonExistent'));
      if (!exists) return { status: 'NO', text: `Mailbox doesn't exist: ${name}`, code: { name: 'NONEXISTENT' } };
    }
    await store.subscribe(name);
    return OK('Subscribe completed.');
  },
};
