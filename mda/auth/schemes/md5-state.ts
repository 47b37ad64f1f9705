/*
 * A small MD5 (RFC 1321) whose chaining state can be exported and resumed. Node's crypto
 * cannot do that, and Dovecot's {CRAM-MD5} stored form is exactly the HMAC-MD5 inner and outer
 * states after the key block (hmac-cram-md5.c), so both generating that form and answering a
 * CRAM-MD5 challenge from it need the state. Used only for that; everything else uses crypto.
 */

const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);
const R = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

export type Md5State = [number, number, number, number];

export const MD5_INIT: Md5State = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

/** Applies the MD5 compression function to one 64-byte block. */
export function md5Compress(state: Md5State, block: Uint8Array, off = 0): Md5State {
  const M = new Array<number>(16);
  for (let i = 0; i < 16; i++) {
    const p = off + i * 4;
    M[i] = (block[p]! | (block[p + 1]! << 8) | (block[p + 2]! << 16) | (block[p + 3]! << 24)) >>> 0;
  }
  let [a, b, c, d] = state;
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) { f = (b & c) | (~b & d); g = i; }
    else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
    else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
    else { f = c ^ (b | ~d); g = (7 * i) % 16; }
    const tmp = d;
    d = c;
    c = b;
    const x = (a + f + K[i]! + M[g]!) >>> 0;
    b = (b + ((x << R[i]!) | (x >>> (32 - R[i]!)))) >>> 0;
    a = tmp;
  }
  return [(state[0] + a) >>> 0, (state[1] + b) >>> 0, (state[2] + c) >>> 0, (state[3] + d) >>> 0];
}

/**
 * Finishes an MD5 that resumes from `state` after `prefixLen` bytes (a multiple of 64) were
 * already compressed, over the remaining `data`.
 */
export function md5Resume(state: Md5State, prefixLen: number, data: Uint8Array): Buffer {
  const total = prefixLen + data.length;
  const padLen = ((data.length + 8) >>> 6) * 64 + 64;
  const buf = Buffer.alloc(padLen);
  buf.set(data);
  buf[data.length] = 0x80;
  const bits = BigInt(total) * 8n;
  buf.writeBigUInt64LE(bits & 0xffffffffffffffffn, padLen - 8);
  let s = state;
  for (let off = 0; off < padLen; off += 64) s = md5Compress(s, buf, off);
  return stateToBytes(s);
}

/** The state words as 16 little-endian bytes (also the MD5 digest of a finished hash). */
export function stateToBytes(s: Md5State): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) out.writeUInt32LE(s[i]!, i * 4);
  return out;
}

export function bytesToState(b: Uint8Array, off = 0): Md5State {
  const v = Buffer.from(b.buffer, b.byteOffset + off, 16);
  return [v.readUInt32LE(0), v.readUInt32LE(4), v.readUInt32LE(8), v.readUInt32LE(12)];
}
