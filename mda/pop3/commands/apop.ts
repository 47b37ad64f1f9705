/*
 * APOP (RFC 1939 §7): `APOP name digest`, digest = MD5(greeting timestamp + password) in hex. Off unless
 * auth_mechanisms lists apop (the greeting then carries the `<…@host>` challenge), and it only works for users
 * whose passdb holds a plaintext password. Texts as Dovecot's pop3-login: `-ERR APOP not enabled.`,
 * `-ERR Invalid parameters.`, `-ERR Invalid characters in MD5 response.`.
 */
import { finishAuth } from '../login.js';
import type { Pop3Command } from './types.js';

export const apopCommand: Pop3Command = {
  name: 'APOP',
  states: ['AUTHORIZATION'],
  async run(s, args) {
    const challenge = s.apopChallenge;
    if (challenge === undefined) {
      await s.reply('-ERR APOP not enabled.');
      return 'ok';
    }
    const sp = args.lastIndexOf(' ');
    const hex = sp < 0 ? '' : args.slice(sp + 1);
    if (sp < 0 || hex.length !== 32) {
      await s.reply('-ERR Invalid parameters.');
      return 'ok';
    }
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) {
      await s.reply('-ERR Invalid characters in MD5 response.');
      return 'ok';
    }
    const user = args.slice(0, sp);
    s.authAttempts++;
    s.method = 'APOP';
    s.triedUser = user;
    const facts = { service: 'pop3', rip: s.conn.rip, lip: s.conn.lip, session: s.sessionId, secured: s.secured };
    const outcome = await s.deps.auth.apop(user, challenge, Buffer.from(hex, 'hex'), facts);
    await finishAuth(s, outcome, 'APOP');
    return 'ok';
  },
};
