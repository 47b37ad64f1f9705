/*
 * yescrypt ("$y$", Debian's default /etc/shadow hash since 11) and classic scrypt in crypt(3) form
 * ("$7$"), implemented from the yescrypt reference specification (openwall yescrypt-ref.c and
 * yescrypt-common.c, the code libxcrypt uses): the "$y$" parameter and salt encoding; HMAC-SHA256
 * pre-hashing of the password; PBKDF2-SHA256 into B; SMix with the pwxform block mix (S-boxes
 * filled by an SMix1 with Salsa20/8, 6 rounds, 4-way gather, 2-way simple, 12 KiB of S-boxes,
 * read-write V in SMix1 and the first part of SMix2); the ROM-less variant only; for large N a
 * pre-hash pass with N/64; and the SCRAM-style ClientKey/StoredKey finish.
 * Verification recomputes the string and compares it whole.
 *
 * Words are kept as 32-bit integers; pwxform's 32×32→64-bit multiply-add is done in two halves.
 * Deliberately simple: ~0.5 s for Debian's default (N=4096, r=32, 16 MiB) on one core, run on the
 * calling thread.
 *
 * Distrusts the stored string: unknown flavors, ROM ("NROM"), hash upgrades (g) and parameters
 * needing more than MAX_MEMORY bytes are not computed (the hash cannot match; the caller reports
 * a mismatch).
 */
import { createHash, createHmac, pbkdf2Sync, scryptSync } from 'node:crypto';
import { CRYPT_ALPHABET } from './crypt-base64.js';

const YESCRYPT_RW = 0x002;
const YESCRYPT_WORM = 1;
const YESCRYPT_RW_FLAVOR_MASK = 0x3fc;
const YESCRYPT_PREHASH = 0x10000000;
/** ROUNDS_6 | GATHER_4 | SIMPLE_2 | SBOX_12K: the only pwxform flavor the specification defines. */
const RW_DEFAULT_FLAVOR = 0x004 | 0x010 | 0x020 | 0x080;

const PWX_SIMPLE = 2;
const PWX_GATHER = 4;
const PWX_ROUNDS = 6;
const SWIDTH = 8;
const PWX_WORDS = (PWX_GATHER * PWX_SIMPLE * 8) / 4; // 16 words = 64 bytes
const S_WORDS = (3 * (1 << SWIDTH) * PWX_SIMPLE * 8) / 4; // 3072 words = 12 KiB
const S_MASK = ((1 << SWIDTH) - 1) * PWX_SIMPLE * 8; // byte offset mask 0xff0
const S_PART_WORDS = (1 << SWIDTH) * PWX_SIMPLE * 2; // 1024 words per S-box

/** Largest V (128·r·N bytes) we agree to allocate for one verification. */
export const YESCRYPT_MAX_MEMORY = 1024 * 1024 * 1024;

export interface YescryptParams {
  flags: number;
  N: number;
  r: number;
  p: number;
  t: number;
}

// ---------- encoding (yescrypt-common.c) ----------

function atoi64(ch: string | undefined): number {
  if (ch === undefined) return 64;
  const i = CRYPT_ALPHABET.indexOf(ch);
  return i < 0 ? 64 : i;
}

/** Variable-length integer: returns [value, next index] or undefined. */
function decodeUint32(s: string, pos: number, min: number): [number, number] | undefined {
  let start = 0;
  let end = 47;
  let chars = 1;
  let bits = 0;
  let c = atoi64(s[pos++]);
  if (c > 63) return undefined;
  let dst = min;
  while (c > end) {
    dst += (end + 1 - start) * 2 ** bits;
    start = end + 1;
    end = start + Math.floor((62 - end) / 2);
    chars++;
    bits += 6;
  }
  dst += (c - start) * 2 ** bits;
  while (--chars) {
    c = atoi64(s[pos++]);
    if (c > 63) return undefined;
    bits -= 6;
    dst += c * 2 ** bits;
  }
  return dst > 0xffffffff ? undefined : [dst, pos];
}

function decodeUint32Fixed(s: string, pos: number, dstbits: number): [number, number] | undefined {
  let dst = 0;
  for (let bits = 0; bits < dstbits; bits += 6) {
    const c = atoi64(s[pos++]);
    if (c > 63) return undefined;
    dst += c * 2 ** bits;
  }
  return [dst, pos];
}

/** The little-endian 6-bit decoding of salts and hashes; undefined for non-canonical input. */
export function yescryptDecode64(s: string): Buffer | undefined {
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    let value = 0;
    let bits = 0;
    while (i < s.length && bits < 24) {
      const c = atoi64(s[i]);
      if (c > 63) return undefined;
      i++;
      value += c * 2 ** bits;
      bits += 6;
    }
    if (bits < 12) return undefined;
    while (bits >= 8) {
      out.push(value & 0xff);
      value = Math.floor(value / 256);
      bits -= 8;
    }
    if (value !== 0) return undefined;
  }
  return Buffer.from(out);
}

export function yescryptEncode64(src: Uint8Array): string {
  let out = '';
  for (let i = 0; i < src.length; ) {
    let value = 0;
    let bits = 0;
    do {
      value += src[i++]! * 2 ** bits;
      bits += 8;
    } while (bits < 24 && i < src.length);
    for (let b = 0; b < bits; b += 6) {
      out += CRYPT_ALPHABET[value & 0x3f];
      value = Math.floor(value / 64);
    }
  }
  return out;
}

interface Setting {
  params: YescryptParams;
  /** The setting up to and including the salt (what the output repeats). */
  prefix: string;
  salt: Buffer;
}

/** Parses "$y$…$salt[$hash]" or "$7$…salt[$hash]"; undefined when malformed or unsupported. */
export function parseYescryptSetting(setting: string): Setting | undefined {
  if (setting[0] !== '$' || (setting[1] !== '7' && setting[1] !== 'y') || setting[2] !== '$') return undefined;
  let pos = 3;
  const params: YescryptParams = { flags: 0, N: 0, r: 0, p: 1, t: 0 };
  if (setting[1] === '7') {
    const nLog2 = atoi64(setting[pos++]);
    if (nLog2 < 1 || nLog2 > 63) return undefined;
    params.N = 2 ** nLog2;
    const r = decodeUint32Fixed(setting, pos, 30);
    if (!r) return undefined;
    const p = decodeUint32Fixed(setting, r[1], 30);
    if (!p) return undefined;
    [params.r, params.p, pos] = [r[0], p[0], p[1]];
  } else {
    const flavor = decodeUint32(setting, pos, 0);
    if (!flavor) return undefined;
    if (flavor[0] < YESCRYPT_RW) params.flags = flavor[0];
    else if (flavor[0] <= YESCRYPT_RW + (YESCRYPT_RW_FLAVOR_MASK >> 2)) params.flags = YESCRYPT_RW + ((flavor[0] - YESCRYPT_RW) << 2);
    else return undefined;
    const nLog2 = decodeUint32(setting, flavor[1], 1);
    if (!nLog2 || nLog2[0] > 63) return undefined;
    params.N = 2 ** nLog2[0];
    const r = decodeUint32(setting, nLog2[1], 1);
    if (!r) return undefined;
    params.r = r[0];
    pos = r[1];
    if (setting[pos] !== '$') {
      const have = decodeUint32(setting, pos, 1);
      if (!have) return undefined;
      pos = have[1];
      if (have[0] & 1) {
        const v = decodeUint32(setting, pos, 2);
        if (!v) return undefined;
        [params.p, pos] = v;
      }
      if (have[0] & 2) {
        const v = decodeUint32(setting, pos, 1);
        if (!v) return undefined;
        [params.t, pos] = v;
      }
      // g (hash upgrades) and NROM (ROM) are not supported by libxcrypt's crypt either.
      if (have[0] & ~3) return undefined;
    }
    if (setting[pos++] !== '$') return undefined;
  }
  const rest = setting.slice(pos);
  const dollar = rest.lastIndexOf('$');
  const saltStr = dollar >= 0 ? rest.slice(0, dollar) : rest;
  let salt: Buffer;
  if (setting[1] === '7') salt = Buffer.from(saltStr, 'latin1');
  else {
    const d = yescryptDecode64(saltStr);
    if (d === undefined || d.length > 64) return undefined;
    salt = d;
  }
  return { params, prefix: setting.slice(0, pos) + saltStr, salt };
}

// ---------- the KDF (yescrypt-ref.c) ----------

function R(a: number, b: number): number {
  return (a << b) | (a >>> (32 - b));
}

function salsa20(B: Uint32Array, off: number, rounds: number, x: Uint32Array): void {
  for (let i = 0; i < 16; i++) x[(i * 5) % 16] = B[off + i]!;
  for (let i = 0; i < rounds; i += 2) {
    x[4]! ^= R((x[0]! + x[12]!) | 0, 7); x[8]! ^= R((x[4]! + x[0]!) | 0, 9);
    x[12]! ^= R((x[8]! + x[4]!) | 0, 13); x[0]! ^= R((x[12]! + x[8]!) | 0, 18);
    x[9]! ^= R((x[5]! + x[1]!) | 0, 7); x[13]! ^= R((x[9]! + x[5]!) | 0, 9);
    x[1]! ^= R((x[13]! + x[9]!) | 0, 13); x[5]! ^= R((x[1]! + x[13]!) | 0, 18);
    x[14]! ^= R((x[10]! + x[6]!) | 0, 7); x[2]! ^= R((x[14]! + x[10]!) | 0, 9);
    x[6]! ^= R((x[2]! + x[14]!) | 0, 13); x[10]! ^= R((x[6]! + x[2]!) | 0, 18);
    x[3]! ^= R((x[15]! + x[11]!) | 0, 7); x[7]! ^= R((x[3]! + x[15]!) | 0, 9);
    x[11]! ^= R((x[7]! + x[3]!) | 0, 13); x[15]! ^= R((x[11]! + x[7]!) | 0, 18);
    x[1]! ^= R((x[0]! + x[3]!) | 0, 7); x[2]! ^= R((x[1]! + x[0]!) | 0, 9);
    x[3]! ^= R((x[2]! + x[1]!) | 0, 13); x[0]! ^= R((x[3]! + x[2]!) | 0, 18);
    x[6]! ^= R((x[5]! + x[4]!) | 0, 7); x[7]! ^= R((x[6]! + x[5]!) | 0, 9);
    x[4]! ^= R((x[7]! + x[6]!) | 0, 13); x[5]! ^= R((x[4]! + x[7]!) | 0, 18);
    x[11]! ^= R((x[10]! + x[9]!) | 0, 7); x[8]! ^= R((x[11]! + x[10]!) | 0, 9);
    x[9]! ^= R((x[8]! + x[11]!) | 0, 13); x[10]! ^= R((x[9]! + x[8]!) | 0, 18);
    x[12]! ^= R((x[15]! + x[14]!) | 0, 7); x[13]! ^= R((x[12]! + x[15]!) | 0, 9);
    x[14]! ^= R((x[13]! + x[12]!) | 0, 13); x[15]! ^= R((x[14]! + x[13]!) | 0, 18);
  }
  for (let i = 0; i < 16; i++) B[off + i] = (B[off + i]! + x[(i * 5) % 16]!) | 0;
}

function blockmixSalsa8(B: Uint32Array, Y: Uint32Array, r: number, x: Uint32Array): void {
  const X = B.slice((2 * r - 1) * 16, 2 * r * 16);
  for (let i = 0; i < 2 * r; i++) {
    for (let k = 0; k < 16; k++) X[k]! ^= B[i * 16 + k]!;
    salsa20(X, 0, 8, x);
    Y.set(X, i * 16);
  }
  for (let i = 0; i < r; i++) B.set(Y.subarray(i * 2 * 16, i * 2 * 16 + 16), i * 16);
  for (let i = 0; i < r; i++) B.set(Y.subarray((i * 2 + 1) * 16, (i * 2 + 1) * 16 + 16), (i + r) * 16);
}

interface PwxCtx {
  S: Uint32Array;
  /** Word offsets of S0, S1, S2 in S. */
  s0: number;
  s1: number;
  s2: number;
  /** Write position in S2, in 64-bit units. */
  w: number;
}

/** The high 32 bits of a·b for 32-bit unsigned a, b. */
function mulHi(a: number, b: number): number {
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const mid = aL * bH + aH * bL; // < 2^33, exact
  const low = aL * bL + (mid % 65536) * 65536; // < 2^33, exact
  return (aH * bH + Math.floor(mid / 65536) + Math.floor(low / 4294967296)) >>> 0;
}

function pwxform(B: Uint32Array, off: number, ctx: PwxCtx): void {
  const S = ctx.S;
  const s0 = ctx.s0;
  const s1 = ctx.s1;
  const s2 = ctx.s2;
  let w = ctx.w;
  for (let i = 0; i < PWX_ROUNDS; i++) {
    const store = i !== 0 && i !== PWX_ROUNDS - 1;
    for (let j = 0; j < PWX_GATHER; j++) {
      const base = off + j * PWX_SIMPLE * 2;
      const p0 = s0 + (B[base]! & S_MASK) / 4;
      const p1 = s1 + (B[base + 1]! & S_MASK) / 4;
      for (let k = 0; k < PWX_SIMPLE; k++) {
        const xl = B[base + 2 * k]! >>> 0;
        const xh = B[base + 2 * k + 1]! >>> 0;
        let lo = Math.imul(xh, xl) >>> 0;
        let hi = mulHi(xh, xl);
        const addLo = lo + (S[p0 + 2 * k]! >>> 0);
        lo = addLo >>> 0;
        hi = (hi + (S[p0 + 2 * k + 1]! >>> 0) + (addLo > 0xffffffff ? 1 : 0)) >>> 0;
        lo ^= S[p1 + 2 * k]!;
        hi ^= S[p1 + 2 * k + 1]!;
        B[base + 2 * k] = lo;
        B[base + 2 * k + 1] = hi;
        if (store) {
          S[s2 + 2 * w] = lo;
          S[s2 + 2 * w + 1] = hi;
          w++;
        }
      }
    }
  }
  ctx.s0 = s2;
  ctx.s1 = s0;
  ctx.s2 = s1;
  ctx.w = w & ((1 << SWIDTH) * PWX_SIMPLE - 1);
}

function blockmixPwxform(B: Uint32Array, ctx: PwxCtx, r: number, x: Uint32Array): void {
  const r1 = (128 * r) / (PWX_WORDS * 4);
  const X = B.slice((r1 - 1) * PWX_WORDS, r1 * PWX_WORDS);
  for (let i = 0; i < r1; i++) {
    if (r1 > 1) for (let k = 0; k < PWX_WORDS; k++) X[k]! ^= B[i * PWX_WORDS + k]!;
    pwxform(X, 0, ctx);
    B.set(X, i * PWX_WORDS);
  }
  let i = ((r1 - 1) * PWX_WORDS * 4) / 64;
  salsa20(B, i * 16, 2, x);
  for (i++; i < 2 * r; i++) {
    for (let k = 0; k < 16; k++) B[i * 16 + k]! ^= B[(i - 1) * 16 + k]!;
    salsa20(B, i * 16, 2, x);
  }
}

/** Integerify's low 32 bits (N ≤ 2^31 here, so the high word never matters for `& (N-1)` and wrap). */
function integerifyLo(X: Uint32Array, r: number): number {
  return X[(2 * r - 1) * 16]! >>> 0;
}

function p2floor(x: number): number {
  let y = 1;
  while (y * 2 <= x) y *= 2;
  return y;
}

function wrap(x: number, i: number): number {
  const n = p2floor(i);
  return (x & (n - 1)) + (i - n);
}

/** X (shuffled working copy) from / to B's words at `off`. */
function shuffleIn(B: Uint32Array, off: number, X: Uint32Array, r: number): void {
  for (let k = 0; k < 2 * r; k++) for (let i = 0; i < 16; i++) X[k * 16 + i] = B[off + k * 16 + ((i * 5) % 16)]!;
}

function shuffleOut(B: Uint32Array, off: number, X: Uint32Array, r: number): void {
  for (let k = 0; k < 2 * r; k++) for (let i = 0; i < 16; i++) B[off + k * 16 + ((i * 5) % 16)] = X[k * 16 + i]!;
}

function mix(X: Uint32Array, Y: Uint32Array, ctx: PwxCtx | undefined, r: number, x: Uint32Array): void {
  if (ctx) blockmixPwxform(X, ctx, r, x);
  else blockmixSalsa8(X, Y, r, x);
}

function smix1(B: Uint32Array, off: number, r: number, N: number, rw: boolean, V: Uint32Array, vOff: number, X: Uint32Array, Y: Uint32Array, ctx: PwxCtx | undefined, x: Uint32Array): void {
  const s = 32 * r;
  shuffleIn(B, off, X, r);
  for (let i = 0; i < N; i++) {
    V.set(X.subarray(0, s), vOff + i * s);
    if (rw && i > 1) {
      const j = wrap(integerifyLo(X, r), i);
      for (let k = 0; k < s; k++) X[k]! ^= V[vOff + j * s + k]!;
    }
    mix(X, Y, ctx, r, x);
  }
  shuffleOut(B, off, X, r);
}

function smix2(B: Uint32Array, off: number, r: number, N: number, nloop: number, rw: boolean, V: Uint32Array, vOff: number, X: Uint32Array, Y: Uint32Array, ctx: PwxCtx | undefined, x: Uint32Array): void {
  const s = 32 * r;
  shuffleIn(B, off, X, r);
  for (let i = 0; i < nloop; i++) {
    const j = integerifyLo(X, r) & (N - 1);
    const vj = vOff + j * s;
    for (let k = 0; k < s; k++) X[k]! ^= V[vj + k]!;
    if (rw) V.set(X.subarray(0, s), vj);
    mix(X, Y, ctx, r, x);
  }
  shuffleOut(B, off, X, r);
}

function wordsLE(buf: Buffer): Uint32Array {
  const out = new Uint32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readUInt32LE(i * 4);
  return out;
}

function bytesLE(words: Uint32Array, from = 0, to = words.length): Buffer {
  const out = Buffer.alloc((to - from) * 4);
  for (let i = from; i < to; i++) out.writeUInt32LE(words[i]! >>> 0, (i - from) * 4);
  return out;
}

const hmac = (key: Uint8Array, data: Uint8Array): Buffer => createHmac('sha256', key).update(data).digest();

function smix(B: Uint32Array, r: number, N: number, p: number, t: number, flags: number, V: Uint32Array, ctxs: PwxCtx[], passwd: { key: Buffer }): void {
  const s = 32 * r;
  const rw = (flags & YESCRYPT_RW) !== 0;
  let nchunk = Math.floor(N / p);
  let nloopAll = nchunk;
  if (rw) {
    if (t <= 1) {
      if (t) nloopAll *= 2;
      nloopAll = Math.floor((nloopAll + 2) / 3);
    } else nloopAll *= t - 1;
  } else if (t) {
    if (t === 1) nloopAll += Math.floor((nloopAll + 1) / 2);
    nloopAll *= t;
  }
  let nloopRw = rw ? Math.floor(nloopAll / p) : 0;
  nchunk -= nchunk % 2;
  nloopAll += nloopAll % 2;
  nloopRw += nloopRw % 2;
  const X = new Uint32Array(s);
  const Y = new Uint32Array(s);
  const x = new Uint32Array(16);
  for (let i = 0, vchunk = 0; i < p; i++, vchunk += nchunk) {
    const np = i < p - 1 ? nchunk : N - vchunk;
    const bOff = i * s;
    let ctx: PwxCtx | undefined;
    if (rw) {
      ctx = ctxs[i]!;
      // S-boxes: SMix1 with r = 1 over the first 128 bytes of B_i, Salsa20/8, no flags.
      const X1 = new Uint32Array(32);
      const Y1 = new Uint32Array(32);
      smix1(B, bOff, 1, S_WORDS / 32, false, ctx.S, 0, X1, Y1, undefined, x);
      ctx.s2 = 0;
      ctx.s1 = S_PART_WORDS;
      ctx.s0 = 2 * S_PART_WORDS;
      ctx.w = 0;
      if (i === 0) passwd.key = hmac(bytesLE(B, bOff + s - 16, bOff + s), passwd.key);
    }
    smix1(B, bOff, r, np, rw, V, vchunk * s, X, Y, ctx, x);
    smix2(B, bOff, r, p2floor(np), nloopRw, rw, V, vchunk * s, X, Y, ctx, x);
  }
  for (let i = 0; i < p; i++) {
    smix2(B, i * s, r, N, nloopAll - nloopRw, false, V, 0, X, Y, rw ? ctxs[i] : undefined, x);
  }
}

function kdfBody(passwdIn: Buffer, salt: Buffer, flags: number, N: number, r: number, p: number, t: number, dkLen: number): Buffer {
  const rw = (flags & YESCRYPT_RW) !== 0;
  let passwd = passwdIn;
  if (flags) passwd = hmac(Buffer.from((flags & YESCRYPT_PREHASH) !== 0 ? 'yescrypt-prehash' : 'yescrypt', 'latin1'), passwd);
  const B = wordsLE(pbkdf2Sync(passwd, salt, 1, 128 * r * p, 'sha256'));
  const key = { key: passwd };
  if (flags) key.key = bytesLE(B, 0, 8);
  const V = new Uint32Array(32 * r * N);
  if (rw) {
    const ctxs: PwxCtx[] = [];
    for (let i = 0; i < p; i++) ctxs.push({ S: new Uint32Array(S_WORDS), s0: 0, s1: 0, s2: 0, w: 0 });
    smix(B, r, N, p, t, flags, V, ctxs, key);
  } else {
    for (let i = 0; i < p; i++) {
      const Bi = B.subarray(32 * r * i, 32 * r * (i + 1));
      smix(Bi, r, N, 1, t, flags, V, [], key);
    }
  }
  const Bbytes = bytesLE(B);
  let out = pbkdf2Sync(key.key, Bbytes, 1, dkLen, 'sha256');
  if (flags && (flags & YESCRYPT_PREHASH) === 0) {
    const dk = dkLen >= 32 ? out.subarray(0, 32) : pbkdf2Sync(key.key, Bbytes, 1, 32, 'sha256');
    const clientKey = hmac(dk, Buffer.from('Client Key', 'latin1'));
    const storedKey = createHash('sha256').update(clientKey).digest();
    out = Buffer.from(out);
    storedKey.copy(out, 0, 0, Math.min(dkLen, 32));
  }
  return out;
}

function validParams(P: YescryptParams): boolean {
  const { flags, N, r, p, t } = P;
  const mode = flags & 3;
  if (mode === 0 && (flags !== 0 || t !== 0)) return false;
  if (mode === YESCRYPT_WORM && flags !== YESCRYPT_WORM) return false;
  if (mode === YESCRYPT_RW && (flags & YESCRYPT_RW_FLAVOR_MASK) !== RW_DEFAULT_FLAVOR) return false;
  if (mode === 3) return false;
  if (r * p >= 2 ** 30 || N <= 1 || r < 1 || p < 1 || N > 2 ** 31) return false;
  if (128 * r * N > YESCRYPT_MAX_MEMORY || 128 * r * p > YESCRYPT_MAX_MEMORY) return false;
  if (flags & YESCRYPT_RW && (Math.floor(N / p) <= 1 || r < 1)) return false;
  return true;
}

/** yescrypt_kdf: the optional pre-hash pass, then the main computation; 32 bytes. */
export function yescryptKdf(passwd: Uint8Array, salt: Uint8Array, P: YescryptParams, dkLen = 32): Buffer | undefined {
  if (!validParams(P)) return undefined;
  let pw: Buffer = Buffer.from(passwd);
  if (P.flags === 0) {
    // Classic scrypt: node's own implementation gives the same bytes, faster.
    return scryptSync(pw, Buffer.from(salt), dkLen, { N: P.N, r: P.r, p: P.p, maxmem: 2 * YESCRYPT_MAX_MEMORY });
  }
  if (P.flags & YESCRYPT_RW && P.p >= 1 && P.N / P.p >= 0x100 && (P.N / P.p) * P.r >= 0x20000) {
    pw = kdfBody(pw, Buffer.from(salt), P.flags | YESCRYPT_PREHASH, P.N / 64, P.r, P.p, 0, 32);
  }
  return kdfBody(pw, Buffer.from(salt), P.flags, P.N, P.r, P.p, P.t, dkLen);
}

/** crypt(3) for "$y$" and "$7$" settings; undefined when the setting is malformed or unsupported. */
export function yescryptCrypt(passwd: Uint8Array, setting: string): string | undefined {
  const s = parseYescryptSetting(setting);
  if (!s) return undefined;
  const hash = yescryptKdf(passwd, s.salt, s.params, 32);
  return hash === undefined ? undefined : `${s.prefix}$${yescryptEncode64(hash)}`;
}
