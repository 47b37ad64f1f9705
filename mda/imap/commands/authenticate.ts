/*
 * AUTHENTICATE (RFC 3501 §6.2.2) with SASL-IR (RFC 4959): `AUTHENTICATE PLAIN <b64>` carries the
 * initial response (`=` is an empty one). Challenges go out as `+ <b64>`; the client answers one
 * base64 line per challenge, `*` cancels. Mechanisms come from the auth service (PLAIN, LOGIN, …).
 * Texts are imap-login's: unknown mechanism `NO Unsupported authentication mechanism.`, plaintext
 * mechanism on an insecure connection `NO [PRIVACYREQUIRED] …`, cancel `BAD Authentication aborted
 * by client.`, bad base64 `BAD Invalid base64 data in continued response`.
 * Distrusts: the base64 (strictly decoded), line length (bounded by the parser's line limit).
 */
import { PRE_LOGIN, type CommandSpec, type Completion } from '../command.js';
import { authFacts, completeAuth } from '../auth-flow.js';
import { PLAINTEXT_DISALLOWED, plaintextRefused, SSL_REQUIRED, sslRequiredRefused, UNSUPPORTED_MECH, usableMechanisms } from '../login-policy.js';
import { argAstring } from '../proto/values.js';

function decodeB64(s: string): Buffer | undefined {
  if (s === '=') return Buffer.alloc(0);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

export const authenticateCommand: CommandSpec = {
  name: 'AUTHENTICATE',
  states: PRE_LOGIN,
  args: { required: ['atom'], optional: ['atom'] },
  sync: 'full',
  async run({ session, args }): Promise<Completion> {
    const name = argAstring(args[0])!.toUpperCase();
    const mech = usableMechanisms(session).find((m) => m.name === name);
    if (mech === undefined) return { status: 'NO', text: UNSUPPORTED_MECH };
    if (sslRequiredRefused(session)) return { status: 'NO', text: SSL_REQUIRED, code: { name: 'PRIVACYREQUIRED' } };
    if (mech.flags.includes('plaintext') && plaintextRefused(session)) {
      return { status: 'NO', text: PLAINTEXT_DISALLOWED, code: { name: 'PRIVACYREQUIRED' } };
    }
    let data: Buffer | undefined;
    if (args[1] !== undefined) {
      data = decodeB64(argAstring(args[1])!);
      if (data === undefined) return { status: 'BAD', text: 'Invalid base64 data in initial response' };
    }
    const sess = mech.start(session.deps.auth, authFacts(session, mech.name));
    for (;;) {
      const step = await sess.step(data);
      if (step.kind === 'done') return completeAuth(session, step.outcome, mech.name, undefined);
      session.write(`+ ${step.challenge.toString('base64')}\r\n`);
      const line = await session.io.readLine();
      if (line === undefined) return { status: 'NO', text: '', silent: true };
      if (line === null) return { status: 'BAD', text: 'Authentication failed: response too long' };
      session.stats.in += line.length + 2;
      if (line === '*') return { status: 'BAD', text: 'Authentication aborted by client.' };
      data = decodeB64(line);
      if (data === undefined) return { status: 'BAD', text: 'Invalid base64 data in continued response' };
    }
  },
};
