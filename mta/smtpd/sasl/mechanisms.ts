/*
 * Which SASL mechanisms smtpd offers, from the ones the Dovecot auth server announced, as Postfix's
 * xsasl_dovecot_server.c decides: mechanisms flagged `private` are never offered, and
 * smtpd_sasl_security_options (noplaintext, noactive, nodictionary, noanonymous, mutual_auth,
 * forward_secrecy) removes the ones whose flags conflict. smtpd_sasl_tls_security_options applies
 * instead once TLS is active. Pure.
 */
import type { MechFlag } from '../../../shared/proto/dovecot-auth-client.js';

export interface AnnouncedMech {
  name: string;
  flags: readonly MechFlag[];
}

export type SaslSecurityOption = 'noplaintext' | 'noactive' | 'nodictionary' | 'noanonymous' | 'mutual_auth' | 'forward_secrecy';

const KNOWN: readonly string[] = ['noplaintext', 'noactive', 'nodictionary', 'noanonymous', 'mutual_auth', 'forward_secrecy'];

/** Parses smtpd_sasl_security_options; unknown words are returned for the caller to warn about. */
export function parseSecurityOptions(words: readonly string[]): { options: SaslSecurityOption[]; unknown: string[] } {
  const options: SaslSecurityOption[] = [];
  const unknown: string[] = [];
  for (const w of words) {
    const lw = w.toLowerCase();
    if (KNOWN.includes(lw)) options.push(lw as SaslSecurityOption);
    else unknown.push(w);
  }
  return { options, unknown };
}

export function offeredMechanisms(announced: readonly AnnouncedMech[], options: readonly SaslSecurityOption[]): string[] {
  const has = (o: SaslSecurityOption) => options.includes(o);
  return announced
    .filter((m) => {
      const f = (x: MechFlag) => m.flags.includes(x);
      if (f('private')) return false;
      if (has('noplaintext') && f('plaintext')) return false;
      if (has('noactive') && f('active')) return false;
      if (has('nodictionary') && f('dictionary')) return false;
      if (has('noanonymous') && f('anonymous')) return false;
      if (has('mutual_auth') && !f('mutual-auth')) return false;
      if (has('forward_secrecy') && !f('forward-secrecy')) return false;
      return true;
    })
    .map((m) => m.name.toUpperCase());
}
