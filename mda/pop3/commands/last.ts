/*
 * LAST (RFC 1460, removed from RFC 1725 on): the highest message number retrieved or already \Seen. Only with
 * pop3_enable_last = yes; otherwise an unknown command, as in Dovecot.
 */
import { maildropOf } from './message-arg.js';
import type { Pop3Command } from './types.js';

export const lastCommand: Pop3Command = {
  name: 'LAST',
  states: ['TRANSACTION'],
  enabled: (s) => s.settings.pop3_enable_last,
  async run(s) {
    await s.reply(`+OK ${maildropOf(s).lastSeen}`);
    return 'ok';
  },
};
