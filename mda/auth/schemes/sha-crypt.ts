/*
 * SHA-256-crypt ("$5$") and SHA-512-crypt ("$6$"), implemented from Ulrich Drepper's
 * specification "Unix crypt using SHA-256 and SHA-512": digests B (key+salt+key), A (key, salt,
 * B-derived bytes), DP/P (key repeated), DS/S (salt repeated 16+A[0] times), then `rounds`
 * rounds (default 5000, clamped to 1000…999999999; "rounds=N$" kept in the output when given).
 *
 * Distrusts the stored string: salt cut at 16 characters or '$', a malformed rounds= is treated
 * as part of the salt exactly as the specification says (strtoul must consume digits up to '$').
 */
import { createHash } from 'node:crypto';
import { encodePermuted, randomCryptSalt } from './crypt-base64.js';

export type ShaCryptVariant = 'sha256' | 'sha512';

const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;
const SALT_MAX = 16;

type Group = readonly [number, number, number, number];

const SHA256_GROUPS: readonly Group[] = [
  [0, 10, 20, 4], [21, 1, 11, 4], [12, 22, 2, 4], [3, 13, 23, 4], [24, 4, 14, 4],
  [15, 25, 5, 4], [6, 16, 26, 4], [27, 7, 17, 4], [18, 28, 8, 4], [9, 19, 29, 4], [-1, 31, 30, 3],
];

const SHA512_GROUPS: readonly Group[] = [
  [0, 21, 42, 4], [22, 43, 1, 4], [44, 2, 23, 4], [3, 24, 45, 4], [25, 46, 4, 4],
  [47, 5, 26, 4], [6, 27, 48, 4], [28, 49, 7, 4], [50, 8, 29, 4], [9, 30, 51, 4],
  [31, 52, 10, 4], [53, 11, 32, 4], [12, 33, 54, 4], [34, 55, 13, 4], [56, 14, 35, 4],
  [15, 36, 57, 4], [37, 58, 16, 4], [59, 17, 38, 4], [18, 39, 60, 4], [40, 61, 19, 4],
  [62, 20, 41, 4], [-1, -1, 63, 2],
];

interface Setting {
  salt: string;
  rounds: number;
  custom: boolean;
}

function parseSetting(magic: string, setting: string): Setting {
  let s = setting.startsWith(magic) ? setting.slice(magic.length) : setting;
  let rounds = ROUNDS_DEFAULT;
  let custom = false;
  const m = /^rounds=([0-9]+)\$/.exec(s);
  if (m) {
    const n = Number(m[1]);
    rounds = Math.max(ROUNDS_MIN, Math.min(ROUNDS_MAX, Number.isFinite(n) ? n : ROUNDS_MAX));
    custom = true;
    s = s.slice(m[0].length);
  }
  const dollar = s.indexOf('$');
  if (dollar >= 0) s = s.slice(0, dollar);
  return { salt: s.slice(0, SALT_MAX), rounds, custom };
}

function repeatTo(block: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let off = 0; off < len; off += block.length) block.copy(out, off, 0, Math.min(block.length, len - off));
  return out;
}

/** Computes a SHA-crypt string for a password and a setting (salt, "$6$salt", or a whole hash). */
export function shaCrypt(variant: ShaCryptVariant, password: Uint8Array, setting: string): string {
  const magic = variant === 'sha256' ? '$5$' : '$6$';
  const hlen = variant === 'sha256' ? 32 : 64;
  const { salt, rounds, custom } = parseSetting(magic, setting);
  const key = Buffer.from(password);
  const saltB = Buffer.from(salt, 'latin1');
  const H = (): ReturnType<typeof createHash> => createHash(variant);

  const B = H().update(key).update(saltB).update(key).digest();
  const a = H().update(key).update(saltB);
  let cnt = key.length;
  for (; cnt > hlen; cnt -= hlen) a.update(B);
  a.update(B.subarray(0, cnt));
  for (cnt = key.length; cnt > 0; cnt >>>= 1) a.update((cnt & 1) !== 0 ? B : key);
  const A = a.digest();

  const dp = H();
  for (let i = 0; i < key.length; i++) dp.update(key);
  const P = repeatTo(dp.digest(), key.length);

  const ds = H();
  for (let i = 0; i < 16 + A[0]!; i++) ds.update(saltB);
  const S = repeatTo(ds.digest(), saltB.length);

  let C = A;
  for (let i = 0; i < rounds; i++) {
    const c = H();
    c.update((i & 1) !== 0 ? P : C);
    if (i % 3 !== 0) c.update(S);
    if (i % 7 !== 0) c.update(P);
    c.update((i & 1) !== 0 ? C : P);
    C = c.digest();
  }
  const encoded = encodePermuted(C, variant === 'sha256' ? SHA256_GROUPS : SHA512_GROUPS);
  return `${magic}${custom ? `rounds=${rounds}$` : ''}${salt}$${encoded}`;
}

/** A new hash with a 16-character salt; `rounds` other than the default is written out. */
export function shaCryptGenerate(variant: ShaCryptVariant, password: Uint8Array, rounds?: number): string {
  const salt = randomCryptSalt(SALT_MAX);
  const setting = rounds !== undefined && rounds !== ROUNDS_DEFAULT ? `rounds=${rounds}$${salt}` : salt;
  return shaCrypt(variant, password, setting);
}
