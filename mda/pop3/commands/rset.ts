/* RSET (RFC 1939 §5): unmarks deleted messages and forgets pending \Seen changes; `+OK`. */
import { maildropOf } from './message-arg.js';
import type { Pop3Command } from './types.js';

export const rsetCommand: Pop3Command = {
  name: 'RSET',
  states: ['TRANSACTION'],
  async run(s) {
    maildropOf(s).reset();
    await s.reply('+OK');
    return 'ok';
  },
};
