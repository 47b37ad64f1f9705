/*
 * QUIT (RFC 1939 §4, §6). Before login: `+OK Logging out` (pop3-login's text, without a dot). After login the
 * session enters UPDATE: \Seen flags, then all deletions in one storage call; `+OK Logging out.` or, when
 * messages were marked deleted, `+OK Logging out, messages deleted.`. A storage failure answers with the POP3
 * error map and deletes nothing more (Dovecot: "Storage error during logout.").
 */
import { pop3ErrorFrom } from '../errors.js';
import { maildropOf } from './message-arg.js';
import type { Pop3Command } from './types.js';

export const quitCommand: Pop3Command = {
  name: 'QUIT',
  states: ['AUTHORIZATION', 'TRANSACTION'],
  async run(s) {
    if (s.state === 'AUTHORIZATION') {
      await s.reply('+OK Logging out');
      await s.closeLogin('Aborted login by logging out');
      return 'ok';
    }
    const md = maildropOf(s);
    s.state = 'UPDATE';
    try {
      await md.update();
    } catch (err) {
      const e = pop3ErrorFrom(err);
      s.log.error(`Couldn't update mailbox at logout: ${e.logDetail}`);
      await s.reply(e.reply);
      await s.closeMail('Storage error during logout.');
      return 'ok';
    }
    s.stats.deleteSuccess = true;
    await s.reply(md.anyDeleted ? '+OK Logging out, messages deleted.' : '+OK Logging out.');
    await s.closeMail('Logged out');
    return 'ok';
  },
};
