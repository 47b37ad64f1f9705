/*
 * UIDL (RFC 1939 §7): `+OK` then `msgnum uidl` per message not marked deleted, `.`; with an argument
 * `+OK msgnum uidl`. UIDLs follow pop3_uidl_format or the stored `P` value (proto/uidl.ts).
 */
import { maildropOf, messageArg } from './message-arg.js';
import type { Pop3Command } from './types.js';

export const uidlCommand: Pop3Command = {
  name: 'UIDL',
  states: ['TRANSACTION'],
  async run(s, args) {
    const md = maildropOf(s);
    if (args === '') {
      let out = '+OK\r\n';
      for (let i = 0; i < md.count; i++) if (!md.isDeleted(i)) out += `${i + 1} ${md.uidl(i)}\r\n`;
      await s.send(`${out}.\r\n`);
      return 'ok';
    }
    const a = await messageArg(s, md, args, false);
    if (a === undefined) return 'bad';
    await s.reply(`+OK ${a.index + 1} ${md.uidl(a.index)}`);
    return 'ok';
  },
};
