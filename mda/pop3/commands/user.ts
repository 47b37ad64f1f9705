/*
 * USER (RFC 1939 §7). pop3-login remembers the name and always answers `+OK` (it does not reveal whether the
 * user exists); an insecure peer with disable_plaintext_auth gets Dovecot's [AUTH] refusal instead.
 */
import type { Pop3Command } from './types.js';

export const PLAINTEXT_DISALLOWED = '-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.';

export const userCommand: Pop3Command = {
  name: 'USER',
  states: ['AUTHORIZATION'],
  async run(s, args) {
    if (!s.plaintextAllowed) {
      s.triedDisabledPlaintext = true;
      s.authAttempts++;
      await s.reply(PLAINTEXT_DISALLOWED);
      return 'ok';
    }
    s.lastUser = args;
    s.triedUser = args;
    await s.reply('+OK');
    return 'ok';
  },
};
