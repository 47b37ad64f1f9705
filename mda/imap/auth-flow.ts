/*
 * The end of an authentication (LOGIN or AUTHENTICATE), as imap-login answers it:
 *  - success: the session logs in and the reply is `OK [CAPABILITY <post-login list>] Logged in`;
 *  - failure: held back auth_failure_delay (unless the passdb said nodelay), then
 *    `NO [AUTHENTICATIONFAILED] Authentication failed.`; an internal auth failure is
 *    `NO [UNAVAILABLE] Temporary authentication failure.`;
 *  - mail_max_userip_connections exceeded: `* BYE Maximum number of connections from user+IP
 *    exceeded (mail_max_userip_connections=N)` and the connection closes.
 * Never sees a password: only the outcome.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuthOutcome } from '../auth/auth-service.js';
import { postLoginCapability } from './capabilities.js';
import type { Completion } from './command.js';
import { AUTH_FAILED, AUTH_TEMPFAIL } from './login-policy.js';
import type { ImapSession } from './session.js';

export async function completeAuth(session: ImapSession, outcome: AuthOutcome, method: string, rawUser: string | undefined): Promise<Completion> {
  session.lastAuthMethod = method;
  if (rawUser !== undefined) session.lastAuthUser = rawUser;
  if (outcome.kind === 'ok') {
    const r = await session.login(outcome.user, method);
    if (!r.ok) {
      session.untagged(`BYE ${r.bye}`);
      session.state = 'logout';
      return { status: 'NO', text: '', silent: true };
    }
    if (r.handOff !== undefined) return { status: 'OK', text: '', handOff: r.handOff };
    return { status: 'OK', text: 'Logged in', code: { name: 'CAPABILITY', args: postLoginCapability(session.settings) } };
  }
  session.authAttempts++;
  if (outcome.user !== undefined) session.lastAuthUser = outcome.user;
  const delay = session.deps.auth.settings.auth_failure_delay;
  if (!outcome.nodelay && delay > 0) await sleep(delay);
  if (outcome.temp) return { status: 'NO', text: AUTH_TEMPFAIL, code: { name: 'UNAVAILABLE' } };
  return { status: 'NO', text: AUTH_FAILED, code: { name: 'AUTHENTICATIONFAILED' } };
}

/** The facts the auth service logs and checks (allow_nets etc.). */
export function authFacts(session: ImapSession, mech: string) {
  return {
    service: 'imap',
    mech,
    rip: session.io.remoteIp,
    lip: session.io.localIp,
    rport: String(session.io.remotePort),
    lport: String(session.io.localPort),
    session: session.id,
    secured: session.secured,
  };
}
