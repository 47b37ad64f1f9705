/*
 * Session set-up with one server (smtp_proto.c smtp_helo): greeting, EHLO (HELO when EHLO is
 * refused or smtp_never_send_ehlo), STARTTLS per the TLS policy, EHLO again, SASL AUTH when a
 * password is known for this server. Returns the open session with the server's EHLO keywords,
 * or a Failure (plus `retryPlain` when an opportunistic handshake failed and Postfix would
 * reconnect without TLS).
 * Greeting: 4xx and (with smtp_skip_5xx_greeting = yes) 5xx mean "try the next server".
 */
import { mtaEvents } from '../../log-events.js';
import type { Log } from '../../../shared/log/logger.js';
import { replyString, parseEhlo, type ServerReply } from './reply-parser.js';
import { STAGE, localFailure, refusedFailure, soft, streamFailure, type Failure, type Stage } from './reasons.js';
import { answerChallenge, chooseMechanism, initialCommand, type SaslCredentials } from './sasl-client.js';
import { SessionError, SmtpSession } from './session.js';
import type { SmtpSettings } from './settings.js';
import { describeCipher, judgePeer, tlsOptions } from './tls-client.js';
import type { TlsPolicy } from './tls-policy.js';

export interface Peer {
  host: string;
  addr: string;
  port: number;
}

export const namaddrOf = (p: Peer): string => `${p.host}[${p.addr}]`;
export const relayOf = (p: Peer): string => `${p.host}[${p.addr}]:${p.port}`;

export interface Established {
  session: SmtpSession;
  /** EHLO keywords; undefined after a HELO session. */
  ehlo: Map<string, string> | undefined;
  tls: boolean;
}

export type HandshakeResult = { ok: true; value: Established } | { ok: false; failure: Failure; retryPlain?: boolean; session?: SmtpSession };

export interface HandshakeContext {
  settings: SmtpSettings;
  policy: TlsPolicy;
  /** Plain session forced after a failed opportunistic handshake. */
  noTls: boolean;
  trustAnchors: readonly string[];
  nexthopHost: string;
  queueId: string;
  /** Looks up SASL credentials for this server (undefined: do not authenticate). */
  credentials: (peer: Peer) => SaslCredentials | undefined;
  log: Log;
}

class Fail {
  constructor(readonly failure: Failure, readonly retryPlain = false) {}
}

async function exchange(s: SmtpSession, cmd: string, timeout: number, namaddr: string, stage: Stage): Promise<ServerReply> {
  try {
    await s.write(`${cmd}\r\n`, timeout);
    return await s.read(timeout);
  } catch (err) {
    if (err instanceof SessionError) throw new Fail(streamFailure(err, namaddr, stage));
    throw err;
  }
}

async function hello(s: SmtpSession, ctx: HandshakeContext, namaddr: string): Promise<Map<string, string> | undefined> {
  const t = ctx.settings.timeouts.helo;
  if (!ctx.settings.neverSendEhlo) {
    const r = await exchange(s, `EHLO ${ctx.settings.heloName}`, t, namaddr, STAGE.ehlo);
    if (r.code >= 200 && r.code < 300) return parseEhlo(r);
  }
  const r = await exchange(s, `HELO ${ctx.settings.heloName}`, t, namaddr, STAGE.helo);
  if (r.code >= 200 && r.code < 300) return undefined;
  throw new Fail(refusedFailure(namaddr, r, r.code >= 500));
}

async function startTls(s: SmtpSession, ehlo: Map<string, string> | undefined, ctx: HandshakeContext, peer: Peer): Promise<boolean> {
  const level = ctx.policy.level;
  const namaddr = namaddrOf(peer);
  if (level === 'none' || ctx.noTls) return false;
  const mandatory = level !== 'may';
  if (!ehlo?.has('STARTTLS')) {
    if (!mandatory) return false;
    throw new Fail(localFailure('4.7.4', `TLS is required, but was not offered by host ${namaddr}`));
  }
  const r = await exchange(s, 'STARTTLS', ctx.settings.timeouts.starttls, namaddr, STAGE.starttls);
  if (r.code < 200 || r.code >= 300) {
    if (!mandatory) return false;
    throw new Fail(localFailure(soft(r.enhanced ?? '4.7.5'), `TLS is required, but host ${namaddr} refused to start TLS: ${replyString(r)}`));
  }
  let ts;
  try {
    ts = await s.startTls(tlsOptions(ctx.policy, peer.host, ctx.trustAnchors), ctx.settings.timeouts.starttls);
  } catch (err) {
    if (!(err instanceof SessionError)) throw err;
    ctx.log.info(mtaEvents.smtp.sslConnectError(relayOf(peer), err.detail));
    if (!mandatory) {
      ctx.log.warn(mtaEvents.smtp.tlsFallback(relayOf(peer)));
      throw new Fail(localFailure('4.7.5', `Cannot start TLS: handshake failure`), true);
    }
    throw new Fail(localFailure('4.7.5', 'Cannot start TLS: handshake failure'));
  }
  const verdict = judgePeer(ts, ctx.policy, { mxHost: peer.host, nexthop: ctx.nexthopHost, haveAnchors: ctx.trustAnchors.length > 0 });
  ctx.log.info(mtaEvents.smtp.tlsEstablished(verdict.trust, relayOf(peer), describeCipher(ts)));
  if (verdict.failure !== undefined) {
    ctx.log.warn(mtaEvents.smtp.tlsPolicyFailure(ctx.queueId, relayOf(peer), verdict.failure));
    throw new Fail(localFailure('4.7.5', verdict.failure));
  }
  return true;
}

async function authenticate(s: SmtpSession, ehlo: Map<string, string> | undefined, tls: boolean, ctx: HandshakeContext, peer: Peer): Promise<void> {
  const sasl = ctx.settings.sasl;
  if (!sasl.enable || ehlo === undefined) return;
  const creds = ctx.credentials(peer);
  if (creds === undefined) return;
  const offered = ehlo.get('AUTH');
  if (offered === undefined) return; // Postfix goes on unauthenticated when the server offers no AUTH.
  const namaddr = namaddrOf(peer);
  const mech = chooseMechanism(offered.split(/\s+/), tls ? sasl.tlsSecurityOptions : sasl.securityOptions, sasl.mechanismFilter);
  const dsnOf = (d: string): string => (sasl.softBounce ? soft(d) : d);
  if (mech === undefined) {
    throw new Fail(localFailure(dsnOf('5.7.0'), `SASL authentication failed; cannot authenticate to server ${namaddr}: no mechanism available`, !sasl.softBounce));
  }
  const t = ctx.settings.timeouts.helo;
  let r = await exchange(s, initialCommand(mech, creds), t, namaddr, STAGE.auth);
  for (let step = 0; r.code === 334 && step < 5; step++) {
    const answer = answerChallenge(mech, step, r.lines[0]!.slice(4), creds);
    r = await exchange(s, answer ?? '*', t, namaddr, STAGE.auth);
  }
  if (r.code >= 200 && r.code < 300) return;
  const dsn = dsnOf(r.enhanced ?? `${Math.floor(r.code / 100)}.7.0`);
  throw new Fail(localFailure(dsn, `SASL authentication failed; server ${namaddr} said: ${replyString(r)}`, dsn.startsWith('5')));
}

/** Connects (the session is given) and runs the set-up dialogue. */
export async function handshake(s: SmtpSession, peer: Peer, ctx: HandshakeContext): Promise<HandshakeResult> {
  const namaddr = namaddrOf(peer);
  try {
    let greeting: ServerReply;
    try {
      greeting = await s.read(ctx.settings.timeouts.helo);
    } catch (err) {
      if (err instanceof SessionError) throw new Fail(streamFailure(err, namaddr, STAGE.greeting));
      throw err;
    }
    if (greeting.code < 200 || greeting.code >= 300) {
      throw new Fail(refusedFailure(namaddr, greeting, greeting.code >= 500 && !ctx.settings.skip5xxGreeting));
    }
    let ehlo = await hello(s, ctx, namaddr);
    const tls = await startTls(s, ehlo, ctx, peer);
    if (tls) ehlo = await hello(s, ctx, namaddr);
    await authenticate(s, ehlo, tls, ctx, peer);
    return { ok: true, value: { session: s, ehlo, tls } };
  } catch (err) {
    if (err instanceof Fail) return { ok: false, failure: err.failure, retryPlain: err.retryPlain, session: s };
    throw err;
  }
}

