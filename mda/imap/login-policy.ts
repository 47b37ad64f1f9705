/*
 * Who may authenticate how on a connection, as Dovecot's login-common decides it:
 *  - plaintext mechanisms (PLAIN, LOGIN, the LOGIN command) are refused when disable_plaintext_auth
 *    = yes and the connection is not secured (TLS, or remote IP == local IP);
 *  - ssl = required refuses every authentication until TLS is active (loopback counts as secured);
 *  - the refusal texts are Dovecot 2.3's (reference dovecot.md §3.2).
 */
import { enabledMechanisms, implementedMechanisms } from '../auth/mech/registry.js';
import type { Mechanism } from '../auth/mech/types.js';
import { plaintextDisabled, preLoginCapability } from './capabilities.js';
import type { ImapSession } from './session.js';

export const PLAINTEXT_ALERT = 'Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.';
export const PLAINTEXT_DISALLOWED = 'Plaintext authentication disallowed on non-secure (SSL/TLS) connections.';
export const SSL_REQUIRED = 'Authentication not allowed until SSL/TLS is enabled.';
export const AUTH_FAILED = 'Authentication failed.';
export const AUTH_TEMPFAIL = 'Temporary authentication failure.';
export const UNSUPPORTED_MECH = 'Unsupported authentication mechanism.';

/** Mechanisms from auth_mechanisms that the auth service implements, in configured order. */
export function usableMechanisms(session: ImapSession): Mechanism[] {
  const impl = new Set(implementedMechanisms());
  return enabledMechanisms(session.deps.auth.settings.auth_mechanisms.filter((m) => impl.has(m.toUpperCase())));
}

export function preLoginCapabilityOf(session: ImapSession): string {
  return preLoginCapability({
    tlsConfigured: session.deps.tlsConfigured,
    tlsActive: session.io.tlsActive,
    secured: session.secured,
    disablePlaintextAuth: session.settings.disable_plaintext_auth,
    mechanisms: usableMechanisms(session).map((m) => ({ name: m.name, plaintext: m.flags.includes('plaintext') })),
    imapCapability: session.settings.imap_capability,
  });
}

export function plaintextRefused(session: ImapSession): boolean {
  return plaintextDisabled({ secured: session.secured, disablePlaintextAuth: session.settings.disable_plaintext_auth });
}

export function sslRequiredRefused(session: ImapSession): boolean {
  return session.settings.ssl === 'required' && !session.secured;
}
