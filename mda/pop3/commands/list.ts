/*
 * LIST (RFC 1939 §5): without an argument `+OK N messages:` (Dovecot's wording, N not counting deleted ones),
 * one `msgnum size` line per message not marked deleted, `.`; with one, `+OK msgnum size`.
 */
import { maildropOf, messageArg } from './message-arg.js';
import type { Pop3Command } from './types.js';

export const listCommand: Pop3Command = {
  name: 'LIST',
  states: ['TRANSACTION'],
  async run(s, args) {
    const md = maildropOf(s);
    if (args === '') {
      let out = `+OK ${md.count - md.deletedCount} messages:\r\n`;
      md.messages.forEach((m, i) => {
        if (!md.isDeleted(i)) out += `${i + 1} ${m.size}\r\n`;
      });
      await s.send(`${out}.\r\n`);
      return 'ok';
    }
    const a = await messageArg(s, md, args, false);
    if (a === undefined) return 'bad';
    await s.reply(`+OK ${a.index + 1} ${md.messages[a.index]!.size}`);
    return 'ok';
  },
};
