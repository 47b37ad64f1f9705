/*
 * The crypt(3) base-64 alphabet ("./0-9A-Za-z") and the little-endian 24-bit grouping that
 * MD5-crypt, SHA-crypt and DES crypt use for their output, plus salt generation with the same
 * alphabet (Dovecot's password_generate_salt). Pure; no I/O except the CSPRNG.
 */
import { randomBytes } from 'node:crypto';

export const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Appends `n` characters encoding the 24-bit value b2:b1:b0, least significant 6 bits first. */
export function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = ((b2 & 0xff) << 16) | ((b1 & 0xff) << 8) | (b0 & 0xff);
  let out = '';
  for (let i = 0; i < n; i++) {
    out += CRYPT_ALPHABET[w & 0x3f];
    w >>>= 6;
  }
  return out;
}

/** Encodes a digest as groups of three byte indices (the per-algorithm permutation table). */
export function encodePermuted(digest: Uint8Array, groups: readonly (readonly [number, number, number, number])[]): string {
  let out = '';
  for (const [a, b, c, n] of groups) {
    out += b64From24(a < 0 ? 0 : digest[a]!, b < 0 ? 0 : digest[b]!, digest[c]!, n);
  }
  return out;
}

/** Index of a character in the crypt alphabet, or -1. */
export function cryptCharValue(ch: string): number {
  return CRYPT_ALPHABET.indexOf(ch);
}

/** A random salt of `len` characters from the crypt alphabet. */
export function randomCryptSalt(len: number): string {
  const bytes = randomBytes(len);
  let s = '';
  for (let i = 0; i < len; i++) s += CRYPT_ALPHABET[bytes[i]! % 64];
  return s;
}
