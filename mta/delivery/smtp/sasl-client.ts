/*
 * SASL client for relays (Postfix SASL_README "Enabling SASL authentication in the Postfix SMTP
 * client"), pure parts:
 *  - smtp_sasl_password_maps keys, in smtp_sasl_glue.c's order: the sender and `@domain` (only with
 *    smtp_sender_dependent_authentication), the remote host name, then the next hop as written
 *    (`[mail.isp.example]:587`: with brackets the table must use the same form);
 *  - the value `username:password`;
 *  - mechanism choice from the server's AUTH list, filtered by smtp_sasl_mechanism_filter and by
 *    smtp_sasl_security_options (noplaintext drops PLAIN and LOGIN, noanonymous drops ANONYMOUS);
 *  - PLAIN, LOGIN and CRAM-MD5 exchanges (Postern's built-in client; Postfix uses Cyrus SASL).
 * Passwords never reach a log line or a reason text.
 */
import { createHmac } from 'node:crypto';

export interface SaslCredentials {
  username: string;
  password: string;
}

export function passwordKeys(o: { sender: string; senderDependent: boolean; host: string; nexthopText: string }): string[] {
  const keys: string[] = [];
  if (o.senderDependent && o.sender !== '') {
    keys.push(o.sender);
    const at = o.sender.lastIndexOf('@');
    if (at >= 0) keys.push(o.sender.slice(at));
  }
  keys.push(o.host, o.nexthopText);
  return keys.filter((k, i) => keys.indexOf(k) === i);
}

/** `user:pass` (split at the first colon; a value without one is a user with an empty password). */
export function parseCredentials(value: string): SaslCredentials {
  const c = value.indexOf(':');
  return c < 0 ? { username: value, password: '' } : { username: value.slice(0, c), password: value.slice(c + 1) };
}

export type Mechanism = 'CRAM-MD5' | 'PLAIN' | 'LOGIN';
const SUPPORTED: readonly Mechanism[] = ['CRAM-MD5', 'PLAIN', 'LOGIN'];
const PLAINTEXT = new Set<string>(['PLAIN', 'LOGIN']);

/** Picks the first supported mechanism (ours in preference order) the server offers and the options allow. */
export function chooseMechanism(offered: readonly string[], securityOptions: readonly string[], filter: readonly string[]): Mechanism | undefined {
  const opts = new Set(securityOptions.map((s) => s.toLowerCase()));
  const offer = new Set(offered.map((s) => s.toUpperCase()));
  const allow = new Set(filter.map((s) => s.toUpperCase()));
  for (const m of SUPPORTED) {
    if (!offer.has(m)) continue;
    if (allow.size > 0 && !allow.has(m)) continue;
    if (opts.has('noplaintext') && PLAINTEXT.has(m)) continue;
    return m;
  }
  return undefined;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** The AUTH command line with initial response, where the mechanism has one. */
export function initialCommand(mech: Mechanism, c: SaslCredentials): string {
  if (mech === 'PLAIN') return `AUTH PLAIN ${b64(`\0${c.username}\0${c.password}`)}`;
  return `AUTH ${mech}`;
}

/** Answer to a 334 challenge (base64 text after `334 `); undefined when the exchange is confused. */
export function answerChallenge(mech: Mechanism, step: number, challengeB64: string, c: SaslCredentials): string | undefined {
  const challenge = Buffer.from(challengeB64.trim(), 'base64').toString('utf8');
  if (mech === 'LOGIN') {
    if (step === 0) return b64(c.username);
    if (step === 1) return b64(c.password);
    return undefined;
  }
  if (mech === 'CRAM-MD5' && step === 0) {
    const digest = createHmac('md5', c.password).update(challenge).digest('hex');
    return b64(`${c.username} ${digest}`);
  }
  return undefined;
}
