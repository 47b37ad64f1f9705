/*
 * Dovecot's {PBKDF2}: "$1$<16-char salt>$<rounds>$<hex PBKDF2-HMAC-SHA1, 20 bytes>" with 5000
 * rounds by default (password-scheme-pbkdf2.c, observed `doveadm pw -s PBKDF2`). The salt is used
 * as its ASCII text.
 *
 * Distrusts the stored string: exact shape, rounds 1…10,000,000.
 */
import { pbkdf2Sync } from 'node:crypto';
import { PasswordSchemeError } from '../errors.js';
import { randomCryptSalt } from './crypt-base64.js';
import { sameBytes } from './digests.js';

export function pbkdf2Verify(stored: string, plain: Uint8Array): boolean {
  const m = /^\$1\$([^$]*)\$([0-9]{1,8})\$([0-9a-fA-F]{40})$/.exec(stored);
  if (!m) throw new PasswordSchemeError('PBKDF2', 'Invalid PBKDF2 password');
  const rounds = Number(m[2]);
  if (rounds < 1) throw new PasswordSchemeError('PBKDF2', 'Invalid PBKDF2 rounds');
  const got = pbkdf2Sync(plain, Buffer.from(m[1]!, 'utf8'), rounds, 20, 'sha1');
  return sameBytes(got, Buffer.from(m[3]!, 'hex'));
}

export function pbkdf2Generate(plain: Uint8Array, rounds = 5000): string {
  const salt = randomCryptSalt(16);
  const key = pbkdf2Sync(plain, Buffer.from(salt, 'utf8'), rounds, 20, 'sha1');
  return `$1$${salt}$${rounds}$${key.toString('hex')}`;
}
