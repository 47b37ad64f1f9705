/*
 * The pop3-login half: running a SASL exchange (RFC 5034; USER/PASS is PLAIN underneath, as in Dovecot), the
 * failure replies with RFC 3206 codes, and the hand-over to the mail side — pop3_lock_session, opening INBOX
 * (dropping \Recent unless pop3_no_flag_updates), taking the maildrop snapshot — before `+OK Logged in.`.
 *
 * Replies (Dovecot 2.3.19, observed): `+ <base64>` challenges; `-ERR Authentication aborted by client.`;
 * `-ERR [AUTH] Invalid base64 data in initial response` / `-ERR [AUTH] Invalid base64 in response`;
 * `-ERR [AUTH] Authentication failed.` (after auth_failure_delay); `-ERR [SYS/TEMP] Temporary authentication
 * failure.`; a passdb `reason=` replaces the text.
 * pop3_lock_session has two halves: this daemon's sessions wait in line in-process (session-lock.ts), then the
 * store's file lock (`dovecot-pop3-session.lock`, the one real Dovecot's pop3 takes) is taken with what is left
 * of postern_pop3_lock_timeout. Held elsewhere: `-ERR [IN-USE] Mailbox is locked by another POP3 session.`;
 * not creatable: `-ERR [SYS/TEMP] Failed to create POP3 session lock.`; found taken over while held:
 * `-ERR [SYS/TEMP] Couldn't update POP3 session lock.` and the session ends (all Dovecot's texts).
 * Distrusts: base64 from the client (strict alphabet); never logs or keeps the decoded data.
 */
import { isStorageError } from '../storage/api.js';
import { pop3ErrorFrom, lockedError, Pop3Error } from './errors.js';
import { Maildrop } from './maildrop.js';
import type { AuthOutcome } from './auth.js';
import type { Pop3Session } from './session.js';
import type { RouteUser } from '../worker/route.js';

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Strict base64 (padding optional); undefined when invalid. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!B64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** Starts mechanism `mech` with an optional initial response (already decoded). */
export async function startSasl(s: Pop3Session, mech: string, initial: Buffer | undefined): Promise<void> {
  const facts = {
    service: 'pop3', rip: s.conn.rip, lip: s.conn.lip, rport: String(s.conn.rport), lport: String(s.conn.lport),
    session: s.sessionId, secured: s.secured,
  };
  const ms = s.deps.auth.start(mech, facts);
  if (ms === undefined) {
    s.triedUnsupportedMech = true;
    await s.reply('-ERR [AUTH] Unsupported authentication mechanism.');
    return;
  }
  s.authAttempts++;
  s.method = mech.toUpperCase();
  s.sasl = { mech: s.method, session: ms };
  await step(s, initial);
}

async function step(s: Pop3Session, data: Buffer | undefined): Promise<void> {
  const current = s.sasl;
  if (current === undefined) return;
  let r;
  try {
    r = await current.session.step(data);
  } catch (err) {
    s.log.error(`auth: ${err instanceof Error ? err.message : String(err)}`);
    r = { kind: 'done', outcome: { kind: 'fail', temp: true, nodelay: false } } as const;
  }
  if (r.kind === 'continue') {
    await s.reply(`+ ${r.challenge.toString('base64')}`);
    return;
  }
  s.sasl = undefined;
  await finishAuth(s, r.outcome, current.mech);
}

/** A line while a SASL exchange waits for the client. */
export async function saslContinue(s: Pop3Session, line: string): Promise<void> {
  if (line === '*') {
    s.sasl = undefined;
    await s.reply('-ERR Authentication aborted by client.');
    return;
  }
  const data = decodeBase64(line);
  if (data === undefined) {
    s.sasl = undefined;
    await s.reply('-ERR [AUTH] Invalid base64 in response');
    return;
  }
  await step(s, data);
}

export async function finishAuth(s: Pop3Session, outcome: AuthOutcome, method: string): Promise<void> {
  if (outcome.kind === 'fail') {
    if (outcome.user !== undefined) s.triedUser = outcome.user;
    if (!outcome.nodelay && s.deps.auth.failureDelayMs > 0) await s.sleep(s.deps.auth.failureDelayMs);
    if (outcome.reason !== undefined && outcome.reason !== '') await s.reply(`-ERR [AUTH] ${outcome.reason}`);
    else if (outcome.temp) await s.reply('-ERR [SYS/TEMP] Temporary authentication failure.');
    else await s.reply('-ERR [AUTH] Authentication failed.');
    return;
  }
  s.triedUser = outcome.user;
  if (s.deps.route !== undefined) {
    await handOff(s, s.deps.route, outcome.user, method);
    return;
  }
  s.logLogin(outcome.user, method);
  await openMaildrop(s, outcome.user);
}

/**
 * Per-uid mail workers: the userdb lookup picks the worker, the login is logged with its pid, and
 * the connection moves there (the worker runs openMaildrop and answers `+OK Logged in.`).
 */
async function handOff(s: Pop3Session, route: RouteUser, user: string, method: string): Promise<void> {
  let r;
  try {
    r = await route(user, { service: 'pop3', rip: s.conn.rip, lip: s.conn.lip, session: s.sessionId });
  } catch (err) {
    const e = pop3ErrorFrom(err);
    s.log.error(e.logDetail);
    await s.reply(e.reply);
    await s.closeLogin('Couldn\'t open INBOX');
    return;
  }
  const io = s.io.handOff;
  if (io === undefined) throw new Error('this connection cannot be handed over');
  s.logLogin(user, method, r.mpid);
  s.closed = true;
  await r.transfer({ protocol: 'pop3', session: s.sessionId, method, tag: '' }, io.call(s.io), () => undefined);
}

/** In a mail worker: the login side authenticated `user`; open the maildrop as Dovecot's pop3 process starts. */
export function resumeLogin(s: Pop3Session, user: string): Promise<void> {
  return openMaildrop(s, user);
}

/** The pop3 process start: session lock, INBOX, snapshot; `+OK Logged in.` or an error and disconnect. */
async function openMaildrop(s: Pop3Session, user: string): Promise<void> {
  s.enterTransaction(user);
  const lock = s.settings.pop3_lock_session;
  const started = Date.now();
  let phase: 'lock' | 'open' = 'lock';
  try {
    if (lock) {
      const release = await s.deps.locks.acquire(user, s.settings.postern_pop3_lock_timeout);
      if (release === undefined) throw lockedError();
      s.releaseLock = release;
    }
    phase = 'open';
    const facts = { service: 'pop3', rip: s.conn.rip, lip: s.conn.lip, session: s.sessionId, secured: s.secured };
    s.store = await s.deps.openStore(user, facts);
    if (lock) {
      phase = 'lock';
      await lockFile(s, Math.max(0, s.settings.postern_pop3_lock_timeout - (Date.now() - started)));
      phase = 'open';
    }
    const view = await s.store.openMailbox('INBOX', { readOnly: false, dropRecent: !s.settings.pop3_no_flag_updates });
    s.maildrop = await Maildrop.open(view, s.settings);
  } catch (err) {
    const e = pop3ErrorFrom(err);
    if (e.code !== 'IN-USE') s.log.error(phase === 'lock' ? e.logDetail : `Couldn't open INBOX: ${e.logDetail}`);
    await s.reply(e.reply);
    await s.closeMail(phase === 'lock' ? 'Couldn\'t lock POP3 session' : 'Couldn\'t open INBOX');
    return;
  }
  await s.reply('+OK Logged in.');
}

/** The cross-process half of pop3_lock_session; its release is chained before the in-process one. */
async function lockFile(s: Pop3Session, timeoutMs: number): Promise<void> {
  const store = s.store!;
  if (store.lockPop3Session === undefined) return;
  let lock;
  try {
    lock = await store.lockPop3Session({ timeoutMs, onLost: () => void lockLost(s) });
  } catch (err) {
    const detail = isStorageError(err) ? err.logDetail : String(err);
    throw new Pop3Error('SYS/TEMP', 'Failed to create POP3 session lock.', detail, { cause: err });
  }
  if (lock === undefined) throw lockedError();
  const held = lock;
  const inProcess = s.releaseLock;
  s.releaseLock = () => {
    void held.release().catch(() => undefined).finally(() => inProcess?.());
  };
}

async function lockLost(s: Pop3Session): Promise<void> {
  if (s.closed) return;
  await s.reply('-ERR [SYS/TEMP] Couldn\'t update POP3 session lock.');
  await s.closeMail('Couldn\'t lock POP3 session');
}
