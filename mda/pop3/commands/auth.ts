/*
 * AUTH (RFC 5034): `AUTH mech [initial-response]`, `=` meaning an empty initial response. A bare `AUTH` lists
 * the mechanisms this peer may use, one per line, as Dovecot does for old Outlook clients. Refusals as
 * Dovecot 2.3.19: `-ERR [AUTH] Unsupported authentication mechanism.`, `-ERR [AUTH] Plaintext authentication
 * disabled.` (plaintext mechanism, insecure peer), `-ERR [AUTH] Authentication not allowed until SSL/TLS is
 * enabled.` (ssl = required).
 */
import { decodeBase64, startSasl } from '../login.js';
import { advertisedMechanisms } from './capa.js';
import type { Pop3Command } from './types.js';

export const authCommand: Pop3Command = {
  name: 'AUTH',
  states: ['AUTHORIZATION'],
  async run(s, args) {
    if (!s.secured && s.settings.ssl === 'required') {
      s.authAttempts++;
      await s.reply('-ERR [AUTH] Authentication not allowed until SSL/TLS is enabled.');
      return 'ok';
    }
    if (args === '') {
      const names = advertisedMechanisms(s.plaintextAllowed, s.deps.auth.mechanisms());
      await s.send(`+OK\r\n${names.map((n) => `${n}\r\n`).join('')}.\r\n`);
      return 'ok';
    }
    const sp = args.indexOf(' ');
    const mech = (sp < 0 ? args : args.slice(0, sp)).toUpperCase();
    const irText = sp < 0 ? undefined : args.slice(sp + 1);
    const known = s.deps.auth.mechanisms().find((m) => m.name === mech);
    if (known === undefined) {
      s.triedUnsupportedMech = true;
      await s.reply('-ERR [AUTH] Unsupported authentication mechanism.');
      return 'ok';
    }
    if (known.plaintext && !s.plaintextAllowed) {
      s.triedDisabledPlaintext = true;
      s.authAttempts++;
      await s.reply('-ERR [AUTH] Plaintext authentication disabled.');
      return 'ok';
    }
    let initial: Buffer | undefined;
    if (irText !== undefined) {
      initial = irText === '=' ? Buffer.alloc(0) : decodeBase64(irText);
      if (initial === undefined) {
        s.authAttempts++;
        await s.reply('-ERR [AUTH] Invalid base64 data in initial response');
        return 'ok';
      }
    }
    await startSasl(s, mech, initial);
    return 'ok';
  },
};
