/*
 * TOP msg n (RFC 1939 §7): `+OK`, the header, the empty line and n body lines (n = 0 allowed), `.`.
 * Does not set \Seen.
 */
import { parseLineCount } from '../proto/numbers.js';
import { sendMessage } from './fetch.js';
import { maildropOf, messageArg } from './message-arg.js';
import type { Pop3Command } from './types.js';

export const topCommand: Pop3Command = {
  name: 'TOP',
  states: ['TRANSACTION'],
  async run(s, args) {
    const md = maildropOf(s);
    const a = await messageArg(s, md, args, true);
    if (a === undefined) return 'bad';
    const lines = parseLineCount(a.rest);
    if (!lines.ok) {
      await s.reply(lines.reply);
      return 'bad';
    }
    s.stats.topCount++;
    const n = await sendMessage(s, md, a.index, '+OK', lines.value);
    if (n === undefined) return 'bad';
    s.stats.topBytes += n;
    return 'ok';
  },
};
