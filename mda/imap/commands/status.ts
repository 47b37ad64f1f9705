/*
 * STATUS (RFC 3501 §6.3.10): `* STATUS name (…)` in Dovecot's item order. On the selected mailbox
 * the completion carries [CLIENTBUG] as Dovecot's (RFC 3501 discourages it). A missing mailbox is
 * `NO Mailbox doesn't exist: x` without a code, as Dovecot.
 */
import { AUTHENTICATED, type CommandSpec } from '../command.js';
import { formatMailbox, mailboxArg } from '../mailbox-names.js';
import { formatStatus, parseStatusItems } from '../status-items.js';
import { isStorageError } from '../../storage/api.js';

export const statusCommand: CommandSpec = {
  name: 'STATUS',
  states: AUTHENTICATED,
  args: { required: ['astring', 'any'] },
  sync: 'full',
  async run({ session, args }) {
    const store = session.store!;
    const name = mailboxArg(args[0], store.separator);
    const items = parseStatusItems(args[1]);
    let st;
    try {
      st = await store.status(name);
    } catch (err) {
      if (isStorageError(err) && err.kind === 'NOTFOUND') return { status: 'NO', text: err.clientText };
      throw err;
    }
    session.untagged(`STATUS ${formatMailbox(name)} ${formatStatus(st, items)}`);
    if (session.selected?.view.name === name) return { text: 'Status on selected mailbox completed.', code: { name: 'CLIENTBUG' } };
    return { text: 'Status completed.' };
  },
};
