/* DELE (RFC 1939 §5): marks the message; nothing changes on disk before QUIT (UPDATE state). */
import { maildropOf, messageArg } from './message-arg.js';
import type { Pop3Command } from './types.js';

export const deleCommand: Pop3Command = {
  name: 'DELE',
  states: ['TRANSACTION'],
  async run(s, args) {
    const md = maildropOf(s);
    const a = await messageArg(s, md, args, false);
    if (a === undefined) return 'bad';
    md.markDeleted(a.index);
    await s.reply('+OK Marked to be deleted.');
    return 'ok';
  },
};
