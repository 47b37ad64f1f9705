/*
 * The mechanisms this auth service implements, looked up by the names in auth_mechanisms.
 * An enabled name we do not implement is a configuration error (Dovecot: "Unknown authentication
 * mechanism"), reported by enabledMechanisms.
 */
import type { Mechanism } from './types.js';
import { plainMech } from './plain.js';
import { loginMech } from './login.js';
import { cramMd5Mech } from './cram-md5.js';

const ALL: readonly Mechanism[] = [plainMech, loginMech, cramMd5Mech];

export function implementedMechanisms(): string[] {
  return ALL.map((m) => m.name);
}

/** The enabled mechanisms in auth_mechanisms order; throws for a name we do not implement. */
export function enabledMechanisms(names: readonly string[]): Mechanism[] {
  return names.map((n) => {
    const m = ALL.find((x) => x.name === n.toUpperCase());
    if (!m) throw new RangeError(`Unknown authentication mechanism '${n}'`);
    return m;
  });
}
