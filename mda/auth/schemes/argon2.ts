/*
 * {ARGON2I} and {ARGON2ID}: the PHC string "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>"
 * (unpadded base64) that Dovecot writes through libsodium, computed with hash-wasm. Defaults match
 * Dovecot 2.3.19's output: ARGON2I m=32768,t=4,p=1; ARGON2ID m=65536,t=3,p=1; 16-byte salt,
 * 32-byte hash.
 *
 * Known gap: hash-wasm cannot hash an empty password, so an argon2 hash of "" never verifies.
 *
 * Distrusts the stored string: version 19 only, and memory
 * and passes are capped so a hostile passwd-file line cannot exhaust memory.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { argon2i, argon2id } from 'hash-wasm';

export type Argon2Variant = 'argon2i' | 'argon2id';

const MAX_MEMORY_KIB = 1024 * 1024;
const MAX_PASSES = 64;
const MAX_LANES = 16;

const DEFAULTS: Record<Argon2Variant, { m: number; t: number; p: number }> = {
  argon2i: { m: 32768, t: 4, p: 1 },
  argon2id: { m: 65536, t: 3, p: 1 },
};

interface Parsed {
  variant: Argon2Variant;
  m: number;
  t: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function b64(s: string): Buffer | undefined {
  return /^[A-Za-z0-9+/]+$/.test(s) ? Buffer.from(s, 'base64') : undefined;
}

export function parseArgon2(stored: string): Parsed | undefined {
  const m = /^\$(argon2id|argon2i)\$v=19\$m=([0-9]{1,10}),t=([0-9]{1,10}),p=([0-9]{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
  if (!m) return undefined;
  const parsed = {
    variant: m[1] as Argon2Variant, m: Number(m[2]), t: Number(m[3]), p: Number(m[4]),
    salt: b64(m[5]!), hash: b64(m[6]!),
  };
  if (!parsed.salt || !parsed.hash || parsed.salt.length < 8 || parsed.hash.length < 4) return undefined;
  if (parsed.m > MAX_MEMORY_KIB || parsed.t < 1 || parsed.t > MAX_PASSES || parsed.p < 1 || parsed.p > MAX_LANES) return undefined;
  if (parsed.m < 8 * parsed.p) return undefined;
  return parsed as Parsed;
}

async function compute(variant: Argon2Variant, password: Uint8Array, salt: Uint8Array, m: number, t: number, p: number, len: number): Promise<Uint8Array> {
  const opts = { password, salt, memorySize: m, iterations: t, parallelism: p, hashLength: len, outputType: 'binary' as const };
  return variant === 'argon2i' ? argon2i(opts) : argon2id(opts);
}

/**
 * Verifies against the variant named inside the string, not the scheme: libsodium's verifier
 * dispatches on the prefix, so Dovecot's {ARGON2I} accepts an "$argon2id$" hash (observed).
 */
export async function argon2Check(stored: string, password: Uint8Array): Promise<boolean> {
  const p = parseArgon2(stored);
  // hash-wasm refuses an empty password; no login may use one anyway.
  if (!p || password.length === 0) return false;
  const got = await compute(p.variant, password, p.salt, p.m, p.t, p.p, p.hash.length);
  return got.length === p.hash.length && timingSafeEqual(got, p.hash);
}

/** A new hash; `passes` overrides t (doveadm pw -r). */
export async function argon2Generate(variant: Argon2Variant, password: Uint8Array, passes?: number): Promise<string> {
  const d = DEFAULTS[variant];
  const t = passes ?? d.t;
  const salt = randomBytes(16);
  const hash = await compute(variant, password, salt, d.m, t, d.p, 32);
  const enc = (b: Uint8Array): string => Buffer.from(b).toString('base64').replace(/=+$/, '');
  return `$${variant}$v=19$m=${d.m},t=${t},p=${d.p}$${enc(salt)}$${enc(hash)}`;
}
