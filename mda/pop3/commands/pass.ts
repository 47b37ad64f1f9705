/*
 * PASS (RFC 1939 §7): the remembered USER name and this password go to the PLAIN mechanism
 * ("\0user\0password"), as Dovecot's pop3-login does; the name is forgotten either way, so a retry needs USER
 * again (`-ERR No username given.`). The password is never logged or kept.
 */
import { startSasl } from '../login.js';
import { PLAINTEXT_DISALLOWED } from './user.js';
import type { Pop3Command } from './types.js';

export const passCommand: Pop3Command = {
  name: 'PASS',
  states: ['AUTHORIZATION'],
  async run(s, args) {
    if (s.lastUser === undefined) {
      if (!s.plaintextAllowed) {
        s.triedDisabledPlaintext = true;
        s.authAttempts++;
        await s.reply(PLAINTEXT_DISALLOWED);
      } else {
        await s.reply('-ERR No username given.');
      }
      return 'ok';
    }
    const data = Buffer.concat([Buffer.from([0]), Buffer.from(s.lastUser, 'utf8'), Buffer.from([0]), Buffer.from(args, 'utf8')]);
    s.lastUser = undefined;
    await startSasl(s, 'PLAIN', data);
    data.fill(0);
    return 'ok';
  },
};
