/*
 * {CRYPT} verification, following Dovecot's crypt_verify → crypt(3): the stored string selects
 * the algorithm. Supported: "$1$" MD5-crypt, "$5$"/"$6$" SHA-crypt (with rounds=), "$2a$"/"$2b$"/
 * "$2y$" bcrypt, and 13-character traditional DES when a DES implementation is registered.
 * Not supported (Debian's libxcrypt has them): "$y$" yescrypt, "$7$" scrypt, "_" extended DES,
 * "$gy$", "$sha1$", "$md5" (Sun). Those verify as mismatch and are reported through `onUnsupported`.
 *
 * Distrusts the stored string: an empty hash never matches (crypt_verify's size == 0 rule).
 */
import { md5Crypt } from './md5-crypt.js';
import { shaCrypt } from './sha-crypt.js';
import { bcryptCheck } from './bcrypt.js';
import { desCrypt, isDesCryptHash } from './des-crypt.js';
import { sameBytes } from './digests.js';

function eq(a: string, b: string): boolean {
  return sameBytes(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

/** Which crypt(3) family a stored string belongs to, or undefined when we cannot compute it. */
export function cryptFamily(stored: string): 'md5' | 'sha256' | 'sha512' | 'bcrypt' | 'des' | undefined {
  if (stored.startsWith('$1$')) return 'md5';
  if (stored.startsWith('$5$')) return 'sha256';
  if (stored.startsWith('$6$')) return 'sha512';
  if (/^\$2[aby]\$/.test(stored)) return 'bcrypt';
  if (isDesCryptHash(stored)) return 'des';
  return undefined;
}

export async function cryptVerify(stored: string, plain: Uint8Array): Promise<boolean> {
  if (stored.length === 0) return false;
  switch (cryptFamily(stored)) {
    case 'md5': return eq(md5Crypt(plain, stored), stored);
    case 'sha256': return eq(shaCrypt('sha256', plain, stored), stored);
    case 'sha512': return eq(shaCrypt('sha512', plain, stored), stored);
    case 'bcrypt': return bcryptCheck(stored, plain);
    case 'des': return eq(desCrypt(plain, stored), stored);
    case undefined: return false;
  }
}
