/*
 * Dovecot's {SCRAM-SHA-1} / {SCRAM-SHA-256} stored form (RFC 5802 / RFC 7677 keys):
 * "<iterations>,<b64 salt>,<b64 StoredKey>,<b64 ServerKey>". Generated with 4096 iterations and a
 * 16-byte salt, as `doveadm pw` does. Verifying a plaintext recomputes both keys.
 *
 * Distrusts the stored string: four fields, iterations 1…10,000,000 (a larger count would let a
 * bad line stall the auth process), key lengths equal to the hash length.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { PasswordSchemeError } from '../errors.js';
import { sameBytes } from './digests.js';

export type ScramAlgo = 'sha1' | 'sha256';

const HLEN: Record<ScramAlgo, number> = { sha1: 20, sha256: 32 };
const MAX_ITER = 10_000_000;
export const SCRAM_DEFAULT_ITERATIONS = 4096;

export interface ScramKeys {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function scramKeys(algo: ScramAlgo, plain: Uint8Array, salt: Buffer, iterations: number): ScramKeys {
  const salted = pbkdf2Sync(plain, salt, iterations, HLEN[algo], algo);
  const clientKey = createHmac(algo, salted).update('Client Key').digest();
  return {
    iterations,
    salt,
    storedKey: createHash(algo).update(clientKey).digest(),
    serverKey: createHmac(algo, salted).update('Server Key').digest(),
  };
}

export function parseScram(scheme: string, algo: ScramAlgo, stored: string): ScramKeys {
  const f = stored.split(',');
  if (f.length !== 4) throw new PasswordSchemeError(scheme, 'Invalid SCRAM credentials');
  const iterations = Number(f[0]);
  if (!/^[0-9]{1,8}$/.test(f[0]!) || iterations < 1 || iterations > MAX_ITER) {
    throw new PasswordSchemeError(scheme, 'Invalid SCRAM iteration count');
  }
  const b64 = (s: string): Buffer => {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new PasswordSchemeError(scheme, 'Invalid SCRAM base64');
    return Buffer.from(s, 'base64');
  };
  const keys = { iterations, salt: b64(f[1]!), storedKey: b64(f[2]!), serverKey: b64(f[3]!) };
  if (keys.storedKey.length !== HLEN[algo] || keys.serverKey.length !== HLEN[algo]) {
    throw new PasswordSchemeError(scheme, 'Invalid SCRAM key length');
  }
  return keys;
}

export function scramVerify(scheme: string, algo: ScramAlgo, stored: string, plain: Uint8Array): boolean {
  const k = parseScram(scheme, algo, stored);
  const got = scramKeys(algo, plain, k.salt, k.iterations);
  return sameBytes(got.storedKey, k.storedKey) && sameBytes(got.serverKey, k.serverKey);
}

export function scramGenerate(algo: ScramAlgo, plain: Uint8Array, iterations = SCRAM_DEFAULT_ITERATIONS): string {
  const k = scramKeys(algo, plain, randomBytes(16), iterations);
  return `${k.iterations},${k.salt.toString('base64')},${k.storedKey.toString('base64')},${k.serverKey.toString('base64')}`;
}
