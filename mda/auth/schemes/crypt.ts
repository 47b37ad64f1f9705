/*
 * {CRYPT} verification, following Dovecot's crypt_verify → crypt(3): the stored string selects
 * the algorithm. Supported: "$1$" MD5-crypt, "$5$"/"$6$" SHA-crypt (with rounds=), "$2a$"/"$2b$"/
 * "$2y$" bcrypt, "$y$" yescrypt and "$7$" scrypt (yescrypt.ts, on a worker thread), and 13-character traditional DES.
 * Not supported (Debian's libxcrypt has them): "_" extended DES, "$gy$", "$sha1$", "$md5" (Sun),
 * and yescrypt with a ROM. Those verify as mismatch.
 *
 * Distrusts the stored string: an empty hash never matches (crypt_verify's size == 0 rule).
 */
import { md5Crypt } from './md5-crypt.js';
import { shaCrypt } from './sha-crypt.js';
import { bcryptCheck } from './bcrypt.js';
import { desCrypt, isDesCryptHash } from './des-crypt.js';
import { sameBytes } from './digests.js';
import { yescryptCryptAsync } from './yescrypt-thread.js';

function eq(a: string, b: string): boolean {
  return sameBytes(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

/** Which crypt(3) family a stored string belongs to, or undefined when we cannot compute it. */
export function cryptFamily(stored: string): 'md5' | 'sha256' | 'sha512' | 'bcrypt' | 'yescrypt' | 'des' | undefined {
  if (stored.startsWith('$1$')) return 'md5';
  if (stored.startsWith('$5$')) return 'sha256';
  if (stored.startsWith('$6$')) return 'sha512';
  if (/^\$2[aby]\$/.test(stored)) return 'bcrypt';
  if (stored.startsWith('$y$') || stored.startsWith('$7$')) return 'yescrypt';
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
    case 'yescrypt': {
      const out = await yescryptCryptAsync(plain, stored);
      return out !== undefined && eq(out, stored);
    }
    case 'des': return eq(desCrypt(plain, stored), stored);
    case undefined: return false;
  }
}
