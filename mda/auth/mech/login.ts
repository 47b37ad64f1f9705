/*
 * SASL LOGIN (draft-murchison-sasl-login) as Dovecot's mech-login.c: prompts "Username:" then
 * "Password:"; a non-empty initial response is taken as the user name.
 *
 * Distrusts the data: a NUL in the user name fails the request.
 */
import type { Mechanism, MechSession, MechStep } from './types.js';
import { failed } from './types.js';

const USERNAME = Buffer.from('Username:');
const PASSWORD = Buffer.from('Password:');

export const loginMech: Mechanism = {
  name: 'LOGIN',
  flags: ['plaintext'],
  start(service, facts): MechSession {
    let user: string | undefined;
    return {
      async step(data): Promise<MechStep> {
        if (user === undefined) {
          if (data === undefined || data.length === 0) return { kind: 'continue', challenge: USERNAME };
          if (data.includes(0)) return failed();
          user = data.toString('utf8');
          return { kind: 'continue', challenge: PASSWORD };
        }
        const outcome = await service.verifyPlain(user, data ?? Buffer.alloc(0), { ...facts, mech: 'LOGIN' });
        return { kind: 'done', outcome };
      },
    };
  },
};
