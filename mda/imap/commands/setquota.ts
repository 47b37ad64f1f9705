/*
 * SETQUOTA (RFC 2087 §4.1) as Dovecot 2.3's imap_quota answers a normal user: after the argument
 * check (a root name, then a list: `Missing arguments` / `Invalid arguments`) always
 * `NO Quota can be changed only by admin.`, with or without a quota root. Dovecot lets only admin
 * sessions (doveadm, master users with admin rights) change limits; Postern has no such session.
 * Distrusts: nothing is read beyond the argument shapes.
 */
import { AUTHENTICATED, type CommandSpec } from '../command.js';
import { COMMAND_TEXT, commandErrorText } from '../proto/errors.js';
import { quotaCommandMissing } from './quota-support.js';

export const setQuotaCommand: CommandSpec = {
  name: 'SETQUOTA',
  states: AUTHENTICATED,
  args: { required: [], rest: true },
  sync: 'full',
  async run({ session, name, args }) {
    const missing = quotaCommandMissing(session, name);
    if (missing !== undefined) return missing;
    if (args.length < 2) return { status: 'BAD', text: commandErrorText('Missing arguments', name, true) };
    if (args[0]!.type === 'list' || args[1]!.type !== 'list') {
      return { status: 'BAD', text: commandErrorText(COMMAND_TEXT.invalidArguments, name, true) };
    }
    return { status: 'NO', text: 'Quota can be changed only by admin.' };
  },
};
