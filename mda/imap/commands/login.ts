/*
 * LOGIN (RFC 3501 §6.2.3) as imap-login answers it: on a connection where plaintext auth is refused
 * the client first gets `* BAD [ALERT] …` (its password went over the wire anyway) and then
 * `NO [PRIVACYREQUIRED] …`; otherwise the password is checked by the auth service (never logged).
 * Distrusts: user name and password bytes (any astring; the auth service normalises the name).
 */
import { PRE_LOGIN, type CommandSpec } from '../command.js';
import { authFacts, completeAuth } from '../auth-flow.js';
import { PLAINTEXT_ALERT, PLAINTEXT_DISALLOWED, plaintextRefused, SSL_REQUIRED, sslRequiredRefused } from '../login-policy.js';
import type { ImapArg } from '../proto/values.js';

function bytes(a: ImapArg): Buffer {
  if (a.type === 'atom') return Buffer.from(a.value, 'latin1');
  if (a.type === 'quoted' || a.type === 'literal') return a.bytes;
  return Buffer.alloc(0);
}

export const loginCommand: CommandSpec = {
  name: 'LOGIN',
  states: PRE_LOGIN,
  args: { required: ['astring', 'astring'] },
  sync: 'full',
  async run({ session, args }) {
    if (sslRequiredRefused(session)) return { status: 'NO', text: SSL_REQUIRED, code: { name: 'PRIVACYREQUIRED' } };
    if (plaintextRefused(session)) {
      session.untagged(`BAD [ALERT] ${PLAINTEXT_ALERT}`);
      return { status: 'NO', text: PLAINTEXT_DISALLOWED, code: { name: 'PRIVACYREQUIRED' } };
    }
    const user = bytes(args[0]!).toString('utf8');
    const outcome = await session.deps.auth.verifyPlain(user, bytes(args[1]!), authFacts(session, 'PLAIN'));
    return completeAuth(session, outcome, 'PLAIN', user);
  },
};
