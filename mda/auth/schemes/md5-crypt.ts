/*
 * MD5-crypt ("$1$salt$hash"), the FreeBSD/Poul-Henning Kamp algorithm used by Dovecot's
 * {MD5-CRYPT} and {MD5} schemes and by crypt(3). Written from the algorithm's description:
 * an initial digest mixed with an alternate digest of password+salt+password, then 1000
 * rounds alternating password, salt and the previous digest.
 *
 * Distrusts the stored string: the salt is cut at 8 characters or the first '$', as the
 * reference does, so malformed input yields a non-matching hash, never an exception.
 */
import { createHash } from 'node:crypto';
import { encodePermuted, randomCryptSalt } from './crypt-base64.js';

const MAGIC = '$1$';

const GROUPS = [
  [0, 6, 12, 4], [1, 7, 13, 4], [2, 8, 14, 4], [3, 9, 15, 4], [4, 10, 5, 4], [-1, -1, 11, 2],
] as const;

function md5(...parts: Uint8Array[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Extracts the salt the way md5_crypt does: skip "$1$", stop at '$' or 8 characters. */
export function md5CryptSalt(setting: string): string {
  let s = setting.startsWith(MAGIC) ? setting.slice(MAGIC.length) : setting;
  const dollar = s.indexOf('$');
  if (dollar >= 0) s = s.slice(0, dollar);
  return s.slice(0, 8);
}

/** Computes "$1$<salt>$<22 chars>" for a password and a setting (a salt or a whole hash). */
export function md5Crypt(password: Uint8Array, setting: string): string {
  const salt = md5CryptSalt(setting);
  const saltB = Buffer.from(salt, 'latin1');
  const pw = Buffer.from(password);
  const alt = md5(pw, saltB, pw);
  const ctx = createHash('md5');
  ctx.update(pw).update(MAGIC).update(saltB);
  for (let pl = pw.length; pl > 0; pl -= 16) ctx.update(alt.subarray(0, Math.min(pl, 16)));
  const zero = Buffer.alloc(1);
  for (let i = pw.length; i !== 0; i >>>= 1) ctx.update((i & 1) !== 0 ? zero : pw.subarray(0, 1));
  let fin = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash('md5');
    c.update((i & 1) !== 0 ? pw : fin);
    if (i % 3 !== 0) c.update(saltB);
    if (i % 7 !== 0) c.update(pw);
    c.update((i & 1) !== 0 ? fin : pw);
    fin = c.digest();
  }
  return `${MAGIC}${salt}$${encodePermuted(fin, GROUPS)}`;
}

/** A new MD5-crypt hash with an 8-character random salt (Dovecot's md5_crypt_generate). */
export function md5CryptGenerate(password: Uint8Array): string {
  return md5Crypt(password, randomCryptSalt(8));
}
