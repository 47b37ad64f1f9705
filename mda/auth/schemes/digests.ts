/*
 * The plain-digest schemes of Dovecot's password-scheme.c, as raw-byte functions (encoding is
 * the registry's job): SHA/SHA1, SHA256, SHA512, PLAIN-MD5, LDAP-MD5 (digests); SSHA, SSHA256,
 * SSHA512, SMD5 (digest ‖ salt, 4-byte salt when generating, any salt length when verifying);
 * DIGEST-MD5 (MD5 of "user:realm:password", realm = after the last '@'); PLAIN-TRUNC.
 *
 * Distrusts stored bytes: salted forms shorter than the digest are rejected with the same
 * message Dovecot logs ("SSHA password is too short").
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { PasswordSchemeError } from '../errors.js';

export type DigestAlgo = 'sha1' | 'sha256' | 'sha512' | 'md5';

export const DIGEST_LEN: Record<DigestAlgo, number> = { sha1: 20, sha256: 32, sha512: 64, md5: 16 };

export function digest(algo: DigestAlgo, ...parts: Uint8Array[]): Buffer {
  const h = createHash(algo);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Constant-time equality that is false (not an exception) for different lengths. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function saltedGenerate(algo: DigestAlgo, plain: Uint8Array): Buffer {
  const salt = randomBytes(4);
  return Buffer.concat([digest(algo, plain, salt), salt]);
}

export function saltedVerify(scheme: string, algo: DigestAlgo, plain: Uint8Array, raw: Uint8Array): boolean {
  const n = DIGEST_LEN[algo];
  if (raw.length <= n) throw new PasswordSchemeError(scheme, `${scheme} password is too short`);
  return sameBytes(digest(algo, plain, raw.subarray(n)), raw.subarray(0, n));
}

/** DIGEST-MD5's stored secret: MD5("user:realm:pass"); "user@domain@realm" keeps "user@domain". */
export function digestMd5Secret(user: string, plain: Uint8Array): Buffer {
  const at = user.lastIndexOf('@');
  const name = at >= 0 ? user.slice(0, at) : user;
  const realm = at >= 0 ? user.slice(at + 1) : '';
  return digest('md5', Buffer.from(`${name}:${realm}:`, 'utf8'), plain);
}

/** PLAIN-TRUNC: "<len>-<password>"; a stored value of exactly <len> bytes matches any longer input with that prefix. */
export function plainTruncVerify(plain: Uint8Array, raw: Uint8Array): boolean {
  const s = Buffer.from(raw);
  const m = /^([0-9]+)-/.exec(s.toString('latin1'));
  if (!m) throw new PasswordSchemeError('PLAIN-TRUNC', 'PLAIN-TRUNC missing length: prefix');
  const truncLen = Number(m[1]);
  const stored = s.subarray(m[0].length);
  const p = Buffer.from(plain);
  if (stored.length === truncLen && p.length >= truncLen) return sameBytes(stored, p.subarray(0, truncLen));
  return sameBytes(stored, p);
}
