/*
 * {BLF-CRYPT} and the "$2a$ / $2b$ / $2y$" forms accepted by {CRYPT}: bcrypt through the
 * hash-wasm package. Dovecot generates "$2y$" with cost 5 (observed `doveadm pw -s BLF-CRYPT`);
 * "$2a$", "$2b$" and "$2y$" are the same computation for passwords up to 72 bytes, so all three
 * verify. "$2x$" (the old sign-extension bug) is not supported.
 *
 * Distrusts the stored string: it must match the exact 60-character shape, cost 4…31,
 * before any work is done.
 */
import { randomBytes } from 'node:crypto';
import { bcrypt, bcryptVerify } from 'hash-wasm';

const SHAPE = /^\$2([aby])\$([0-9]{2})\$[./A-Za-z0-9]{53}$/;

export const BCRYPT_DEFAULT_COST = 5;

/* bcrypt uses at most 72 key bytes; longer passwords are truncated, as crypt_blowfish does. */
const MAX_KEY = 72;

/** True when the string looks like a bcrypt hash this module can verify. */
export function isBcryptHash(stored: string): boolean {
  const m = SHAPE.exec(stored);
  if (!m) return false;
  const cost = Number(m[2]);
  return cost >= 4 && cost <= 31;
}

export async function bcryptCheck(stored: string, password: Uint8Array): Promise<boolean> {
  if (!isBcryptHash(stored)) return false;
  try {
    return await bcryptVerify({ password: password.subarray(0, MAX_KEY), hash: `$2a$${stored.slice(4)}` });
  } catch {
    return false;
  }
}

/** A new "$2y$NN$…" hash with a random 16-byte salt. */
export async function bcryptGenerate(password: Uint8Array, cost = BCRYPT_DEFAULT_COST): Promise<string> {
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) throw new RangeError(`bcrypt cost ${cost} outside 4..31`);
  const encoded = await bcrypt({ password: password.subarray(0, MAX_KEY), salt: randomBytes(16), costFactor: cost, outputType: 'encoded' });
  return `$2y$${encoded.slice(4)}`;
}
