/* STAT (RFC 1939 §5): `+OK count size` of the messages not marked deleted; sizes are CRLF sizes. */
import { maildropOf } from './message-arg.js';
import type { Pop3Command } from './types.js';

export const statCommand: Pop3Command = {
  name: 'STAT',
  states: ['TRANSACTION'],
  async run(s) {
    const md = maildropOf(s);
    await s.reply(`+OK ${md.count - md.deletedCount} ${md.totalSize - md.deletedSize}`);
    return 'ok';
  },
};
