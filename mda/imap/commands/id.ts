/*
 * ID (RFC 2971): answers `* ID ("name" "Dovecot")` as Dovecot's default imap_id_send = name *
 * does (clients key workarounds on it, so we keep the name). The client's list is checked for
 * shape only (NIL or a list of string pairs, at most 30 pairs) and not logged.
 */
import { ANY_STATE, OK, type CommandSpec } from '../command.js';
import { COMMAND_TEXT, ImapSyntaxError } from '../proto/errors.js';

export const idCommand: CommandSpec = {
  name: 'ID',
  states: ANY_STATE,
  args: { required: [], optional: ['any'] },
  sync: 'full',
  async run({ session, args }) {
    const a = args[0];
    if (a !== undefined && a.type !== 'nil') {
      if (a.type !== 'list' || a.items.length % 2 !== 0 || a.items.length > 60) throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
    }
    session.untagged('ID ("name" "Dovecot")');
    return OK('ID completed.');
  },
};
