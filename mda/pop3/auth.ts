/*
 * What the POP3 login side needs from authentication, as one small interface, and its adapter over the MDA's
 * AuthService (mda/auth). The login code never sees passdbs: it starts SASL mechanisms (PLAIN, LOGIN, … as
 * enabled by auth_mechanisms), and for APOP (RFC 1939 §7) asks for the plaintext password, which only a passdb
 * holding one (PLAIN scheme) can give: with any other scheme APOP fails like a wrong password, as in Dovecot.
 * APOP is off unless auth_mechanisms lists `apop`.
 *
 * Distrusts: nothing here comes from the client directly; the mechanisms distrust their data.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthOutcome, AuthService, RequestFacts } from '../auth/auth-service.js';
import { enabledMechanisms } from '../auth/mech/registry.js';
import type { MechSession } from '../auth/mech/types.js';

export type { AuthOutcome, RequestFacts, MechSession };

export interface Pop3Mechanism {
  readonly name: string;
  /** Sends the password in the clear: hidden from insecure peers when disable_plaintext_auth = yes. */
  readonly plaintext: boolean;
}

export interface Pop3Auth {
  /** The enabled SASL mechanisms, in auth_mechanisms order (APOP is not one). */
  mechanisms(): readonly Pop3Mechanism[];
  /** Starts a SASL exchange, or undefined for a mechanism that is not enabled. */
  start(mech: string, facts: RequestFacts): MechSession | undefined;
  /** Whether APOP is enabled (auth_mechanisms contains apop). */
  readonly apopEnabled: boolean;
  /** Checks an APOP digest: MD5(challenge + plaintext password) in lower-case hex. */
  apop(user: string, challenge: string, digest: Buffer, facts: RequestFacts): Promise<AuthOutcome>;
  /** auth_failure_delay in milliseconds. */
  readonly failureDelayMs: number;
}

/** Adapts the MDA's auth service. */
export function authServicePop3Auth(service: AuthService): Pop3Auth {
  const names = service.settings.auth_mechanisms.map((m) => m.toUpperCase());
  const mechs = enabledMechanisms(names.filter((n) => n !== 'APOP'));
  return {
    mechanisms: () => mechs.map((m) => ({ name: m.name, plaintext: m.flags.includes('plaintext') })),
    start(mech, facts) {
      const m = mechs.find((x) => x.name === mech.toUpperCase());
      return m?.start(service, facts);
    },
    apopEnabled: names.includes('APOP'),
    async apop(user, challenge, digest, facts) {
      const cred = await service.lookupCredentials(user, 'PLAIN', { ...facts, mech: 'APOP' });
      if (cred.kind === 'fail') return cred;
      const want = createHash('md5').update(challenge).update(cred.secret).digest();
      if (digest.length !== want.length || !timingSafeEqual(digest, want)) {
        return { kind: 'fail', user: cred.user, temp: false, nodelay: false };
      }
      return { kind: 'ok', user: cred.user, passdbExtra: cred.passdbExtra };
    },
    failureDelayMs: service.settings.auth_failure_delay,
  };
}
