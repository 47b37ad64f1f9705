/*
 * Traditional crypt(3) DES ("ssHHHHHHHHHHH", 13 characters) as Dovecot's {CRYPT} and
 * {DES-CRYPT} verify through libc: the first 8 password bytes (7 bits each) form the key, the two
 * salt characters (12 bits) swap expansion outputs i and i+24, and a zero block is enciphered 25
 * times. A straightforward bit-array DES: slow but only 400 rounds per check.
 *
 * Distrusts the stored string: exactly 13 characters of the crypt alphabet, else not DES.
 */
import { CRYPT_ALPHABET, cryptCharValue, randomCryptSalt } from './crypt-base64.js';
import { IP, FP, PC1_C, PC1_D, SHIFTS, PC2, E, S, P } from './des-tables.js';

export function isDesCryptHash(stored: string): boolean {
  return /^[./0-9A-Za-z]{13}$/.test(stored);
}

function keySchedule(key: number[]): number[][] {
  let c = PC1_C.map((p) => key[p - 1]!);
  let d = PC1_D.map((p) => key[p - 1]!);
  const out: number[][] = [];
  for (const s of SHIFTS) {
    c = [...c.slice(s), ...c.slice(0, s)];
    d = [...d.slice(s), ...d.slice(0, s)];
    const cd = [...c, ...d];
    out.push(PC2.map((p) => cd[p - 1]!));
  }
  return out;
}

function encipher(block: number[], ks: number[][], e: number[]): number[] {
  const ip = IP.map((p) => block[p - 1]!);
  let l = ip.slice(0, 32);
  let r = ip.slice(32);
  for (let round = 0; round < 16; round++) {
    const k = ks[round]!;
    const x = e.map((p, j) => r[p - 1]! ^ k[j]!);
    const f = new Array<number>(32);
    for (let b = 0; b < 8; b++) {
      const o = b * 6;
      const row = (x[o]! << 1) | x[o + 5]!;
      const col = (x[o + 1]! << 3) | (x[o + 2]! << 2) | (x[o + 3]! << 1) | x[o + 4]!;
      const v = S[b]![row * 16 + col]!;
      for (let j = 0; j < 4; j++) f[b * 4 + j] = (v >> (3 - j)) & 1;
    }
    const nr = P.map((p, j) => l[j]! ^ f[p - 1]!);
    l = r;
    r = nr;
  }
  const pre = [...r, ...l];
  return FP.map((p) => pre[p - 1]!);
}

/** crypt(password, setting) for a 2-character salt (a longer setting is cut to 2). */
export function desCrypt(password: Uint8Array, setting: string): string {
  const salt = setting.slice(0, 2);
  const key = new Array<number>(64).fill(0);
  for (let i = 0; i < 8 && i < password.length && password[i] !== 0; i++) {
    const c = password[i]!;
    for (let j = 0; j < 7; j++) key[i * 8 + j] = (c >> (6 - j)) & 1;
  }
  const e = [...E];
  for (let i = 0; i < 2; i++) {
    const v = Math.max(0, cryptCharValue(salt[i] ?? '.'));
    for (let j = 0; j < 6; j++) {
      if (((v >> j) & 1) !== 0) {
        const a = 6 * i + j;
        const t = e[a]!;
        e[a] = e[a + 24]!;
        e[a + 24] = t;
      }
    }
  }
  const ks = keySchedule(key);
  let block = new Array<number>(64).fill(0);
  for (let i = 0; i < 25; i++) block = encipher(block, ks, e);
  let out = salt;
  for (let i = 0; i < 11; i++) {
    let c = 0;
    for (let j = 0; j < 6; j++) c = (c << 1) | (block[6 * i + j] ?? 0);
    out += CRYPT_ALPHABET[c];
  }
  return out;
}

export function desCryptGenerate(password: Uint8Array): string {
  return desCrypt(password, randomCryptSalt(2));
}
