/*
 * RETR (RFC 1939 §5): `+OK size octets`, the message byte-stuffed with CRLF line ends, `.`. Marks the message
 * \Seen (applied when the session ends) unless pop3_no_flag_updates.
 */
import { sendMessage } from './fetch.js';
import { maildropOf, messageArg } from './message-arg.js';
import type { Pop3Command } from './types.js';

export const retrCommand: Pop3Command = {
  name: 'RETR',
  states: ['TRANSACTION'],
  async run(s, args) {
    const md = maildropOf(s);
    const a = await messageArg(s, md, args, false);
    if (a === undefined) return 'bad';
    s.stats.retrCount++;
    md.markRetrieved(a.index);
    const n = await sendMessage(s, md, a.index, `+OK ${md.messages[a.index]!.size} octets`);
    if (n === undefined) return 'bad';
    s.stats.retrBytes += n;
    return 'ok';
  },
};
