/*
 * The password-scheme table and the two public operations, following Dovecot 2.3's
 * password-scheme.c: a stored password is "{SCHEME[.ENC]}data" (scheme names case-insensitive,
 * ".hex", ".b64", ".base64" choose the encoding), "$1$salt$hash" alone means MD5-CRYPT, and
 * anything else uses the passdb's default scheme (CRYPT). Schemes with a fixed raw length guess
 * hex vs base64 by the text length, as password_decode does.
 *
 * Distrusts stored passwords: an unknown scheme or undecodable data throws PasswordSchemeError
 * (Dovecot turns that into an internal failure, not a mismatch). Never logs plaintext.
 */
import { PasswordSchemeError } from '../errors.js';
import { cryptVerify } from './crypt.js';
import { md5Crypt, md5CryptGenerate } from './md5-crypt.js';
import { shaCryptGenerate } from './sha-crypt.js';
import { bcryptGenerate, BCRYPT_DEFAULT_COST } from './bcrypt.js';
import { argon2Check, argon2Generate } from './argon2.js';
import { desCryptGenerate } from './des-crypt.js';
import { digest, sameBytes, saltedGenerate, saltedVerify, digestMd5Secret, plainTruncVerify, type DigestAlgo } from './digests.js';
import { scramGenerate, scramVerify } from './scram.js';
import { pbkdf2Generate, pbkdf2Verify } from './pbkdf2.js';
import { cramMd5Context, CRAM_MD5_CONTEXT_LEN } from './cram-md5.js';

export type PasswordEncoding = 'none' | 'base64' | 'hex';

export interface SchemeParams {
  /** The login name; DIGEST-MD5 needs it. */
  user?: string;
  /** Rounds/cost (doveadm pw -r): SHA-crypt rounds, bcrypt cost, argon2 passes, SCRAM/PBKDF2 iterations. */
  rounds?: number;
}

interface SchemeDef {
  readonly encoding: PasswordEncoding;
  /** Expected decoded length; 0 = variable. */
  readonly rawLen: number;
  verify(plain: Buffer, raw: Buffer, p: SchemeParams): boolean | Promise<boolean>;
  generate(plain: Buffer, p: SchemeParams): Buffer | Promise<Buffer>;
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

function plainDef(): SchemeDef {
  return { encoding: 'none', rawLen: 0, verify: (pl, raw) => sameBytes(pl, raw), generate: (pl) => pl };
}

function digestDef(algo: DigestAlgo, encoding: PasswordEncoding, len: number): SchemeDef {
  return {
    encoding, rawLen: len,
    verify: (pl, raw) => sameBytes(digest(algo, pl), raw),
    generate: (pl) => digest(algo, pl),
  };
}

function saltedDef(name: string, algo: DigestAlgo): SchemeDef {
  return {
    encoding: 'base64', rawLen: 0,
    verify: (pl, raw) => saltedVerify(name, algo, pl, raw),
    generate: (pl) => saltedGenerate(algo, pl),
  };
}

function cryptDef(generate: (pl: Buffer, p: SchemeParams) => string | Promise<string>): SchemeDef {
  return {
    encoding: 'none', rawLen: 0,
    verify: (pl, raw) => cryptVerify(raw.toString('latin1'), pl),
    generate: async (pl, p) => text(await generate(pl, p)),
  };
}

const md5CryptDef: SchemeDef = {
  encoding: 'none', rawLen: 0,
  verify: (pl, raw) => {
    const stored = raw.toString('latin1');
    return sameBytes(text(md5Crypt(pl, stored)), raw);
  },
  generate: (pl) => text(md5CryptGenerate(pl)),
};

function userOf(p: SchemeParams): string {
  if (p.user === undefined) throw new PasswordSchemeError('DIGEST-MD5', 'username not given');
  return p.user;
}

const cramDef: SchemeDef = {
  encoding: 'hex', rawLen: CRAM_MD5_CONTEXT_LEN,
  verify: (pl, raw) => sameBytes(cramMd5Context(pl), raw),
  generate: (pl) => cramMd5Context(pl),
};

const SCHEMES: ReadonlyMap<string, SchemeDef> = new Map<string, SchemeDef>([
  ['PLAIN', plainDef()],
  ['CLEAR', plainDef()],
  ['CLEARTEXT', plainDef()],
  ['PLAIN-TRUNC', { encoding: 'none', rawLen: 0, verify: (pl, raw) => plainTruncVerify(pl, raw), generate: (pl) => pl /* as Dovecot: no length prefix */ }],
  ['CRYPT', cryptDef((pl, p) => bcryptGenerate(pl, p.rounds ?? BCRYPT_DEFAULT_COST))],
  ['DES-CRYPT', cryptDef((pl) => desCryptGenerate(pl))],
  ['MD5-CRYPT', md5CryptDef],
  ['MD5', md5CryptDef],
  ['SHA256-CRYPT', cryptDef((pl, p) => shaCryptGenerate('sha256', pl, p.rounds))],
  ['SHA512-CRYPT', cryptDef((pl, p) => shaCryptGenerate('sha512', pl, p.rounds))],
  ['BLF-CRYPT', cryptDef((pl, p) => bcryptGenerate(pl, p.rounds ?? BCRYPT_DEFAULT_COST))],
  ['ARGON2I', { encoding: 'none', rawLen: 0, verify: (pl, raw) => argon2Check(raw.toString('latin1'), pl), generate: async (pl, p) => text(await argon2Generate('argon2i', pl, p.rounds)) }],
  ['ARGON2ID', { encoding: 'none', rawLen: 0, verify: (pl, raw) => argon2Check(raw.toString('latin1'), pl), generate: async (pl, p) => text(await argon2Generate('argon2id', pl, p.rounds)) }],
  ['SHA', digestDef('sha1', 'base64', 20)],
  ['SHA1', digestDef('sha1', 'base64', 20)],
  ['SHA256', digestDef('sha256', 'base64', 32)],
  ['SHA512', digestDef('sha512', 'base64', 64)],
  ['SSHA', saltedDef('SSHA', 'sha1')],
  ['SSHA256', saltedDef('SSHA256', 'sha256')],
  ['SSHA512', saltedDef('SSHA512', 'sha512')],
  ['SMD5', saltedDef('SMD5', 'md5')],
  ['PLAIN-MD5', digestDef('md5', 'hex', 16)],
  ['LDAP-MD5', digestDef('md5', 'base64', 16)],
  ['DIGEST-MD5', {
    encoding: 'hex', rawLen: 16,
    verify: (pl, raw, p) => sameBytes(digestMd5Secret(userOf(p), pl), raw),
    generate: (pl, p) => digestMd5Secret(userOf(p), pl),
  }],
  ['CRAM-MD5', cramDef],
  ['HMAC-MD5', cramDef],
  ['SCRAM-SHA-1', { encoding: 'none', rawLen: 0, verify: (pl, raw) => scramVerify('SCRAM-SHA-1', 'sha1', raw.toString('latin1'), pl), generate: (pl, p) => text(scramGenerate('sha1', pl, p.rounds)) }],
  ['SCRAM-SHA-256', { encoding: 'none', rawLen: 0, verify: (pl, raw) => scramVerify('SCRAM-SHA-256', 'sha256', raw.toString('latin1'), pl), generate: (pl, p) => text(scramGenerate('sha256', pl, p.rounds)) }],
  ['PBKDF2', { encoding: 'none', rawLen: 0, verify: (pl, raw) => pbkdf2Verify(raw.toString('latin1'), pl), generate: (pl, p) => text(pbkdf2Generate(pl, p.rounds)) }],
]);

/** Every scheme name we know, upper case (for `doveadm pw -l`-style listings). */
export function schemeNames(): string[] {
  return [...SCHEMES.keys()];
}

interface Lookup {
  name: string;
  def: SchemeDef;
  encoding: PasswordEncoding;
  explicit: boolean;
}

/** Resolves "NAME[.ENC]" case-insensitively; undefined when unknown (also for an unknown ENC). */
function lookup(schemeSpec: string): Lookup | undefined {
  const dot = schemeSpec.indexOf('.');
  const name = (dot >= 0 ? schemeSpec.slice(0, dot) : schemeSpec).toUpperCase();
  const def = SCHEMES.get(name);
  if (!def) return undefined;
  if (dot < 0) return { name, def, encoding: def.encoding, explicit: false };
  const enc = schemeSpec.slice(dot + 1).toLowerCase();
  if (enc === 'b64' || enc === 'base64') return { name, def, encoding: 'base64', explicit: true };
  if (enc === 'hex') return { name, def, encoding: 'hex', explicit: true };
  return undefined;
}

export function isKnownScheme(schemeSpec: string): boolean {
  return lookup(schemeSpec) !== undefined;
}

/** Splits a stored password into scheme and data, as password_get_scheme does. */
export function splitStored(stored: string): { scheme: string | undefined; data: string } {
  if (stored.startsWith('$1$')) {
    const p = stored.indexOf('$', 3);
    if (p >= 0) {
      const end = stored.indexOf('$', p + 1);
      return { scheme: 'MD5-CRYPT', data: end >= 0 ? stored.slice(0, end) : stored };
    }
  }
  if (!stored.startsWith('{')) return { scheme: undefined, data: stored };
  const close = stored.indexOf('}');
  if (close < 0) return { scheme: undefined, data: stored };
  return { scheme: stored.slice(1, close), data: stored.slice(close + 1) };
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decode(l: Lookup, schemeSpec: string, data: string): Buffer {
  let encoding = l.encoding;
  const guessed = encoding !== 'none' && l.def.rawLen !== 0 && !l.explicit;
  if (guessed) encoding = data.length === l.def.rawLen * 2 ? 'hex' : 'base64';
  let raw: Buffer | undefined;
  if (encoding === 'none') raw = Buffer.from(data, 'utf8');
  if (encoding === 'hex') {
    if (HEX.test(data)) raw = Buffer.from(data, 'hex');
    else if (!guessed) throw new PasswordSchemeError(schemeSpec, "Input isn't valid HEX encoded data");
    else encoding = 'base64';
  }
  if (encoding === 'base64') {
    const compact = data.replace(/[\r\n\t ]/g, '');
    if (!B64.test(compact)) throw new PasswordSchemeError(schemeSpec, "Input isn't valid base64 encoded data");
    raw = Buffer.from(compact, 'base64');
  }
  if (raw === undefined) throw new PasswordSchemeError(schemeSpec, 'undecodable');
  if (l.def.rawLen !== 0 && raw.length !== l.def.rawLen) {
    throw new PasswordSchemeError(schemeSpec, `Input length isn't valid (${raw.length} instead of ${l.def.rawLen})`);
  }
  return raw;
}

function toBytes(p: string | Uint8Array): Buffer {
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p);
}

export interface VerifyOptions extends SchemeParams {
  /** Scheme for passwords without a "{SCHEME}" prefix (passdb `scheme=`; default CRYPT). */
  defaultScheme?: string;
}

/** The scheme a stored password would be checked with (upper case, without encoding). */
export function storedScheme(stored: string, defaultScheme = 'CRYPT'): string {
  const spec = splitStored(stored).scheme ?? defaultScheme;
  const dot = spec.indexOf('.');
  return (dot >= 0 ? spec.slice(0, dot) : spec).toUpperCase();
}

/**
 * True when `plaintext` matches `stored`. Throws PasswordSchemeError for an unknown scheme or
 * data that is not valid for its scheme (an internal failure in Dovecot's terms).
 */
export async function verify(stored: string, plaintext: string | Uint8Array, opts: VerifyOptions = {}): Promise<boolean> {
  const { scheme, data } = splitStored(stored);
  const spec = scheme ?? opts.defaultScheme ?? 'CRYPT';
  const l = lookup(spec);
  if (!l) throw new PasswordSchemeError(spec, 'Unknown scheme');
  const raw = decode(l, spec, data);
  return l.def.verify(toBytes(plaintext), raw, opts);
}

export interface GenerateOptions extends SchemeParams {
  /** Leave out the "{SCHEME}" prefix (doveadm pw -p without -s… the plain data only). */
  noPrefix?: boolean;
}

/** Generates a stored password, "{SCHEME}data" exactly as `doveadm pw -s SCHEME` prints it. */
export async function generate(schemeSpec: string, plaintext: string | Uint8Array, opts: GenerateOptions = {}): Promise<string> {
  const l = lookup(schemeSpec);
  if (!l) throw new PasswordSchemeError(schemeSpec, 'Unknown scheme');
  const raw = await l.def.generate(toBytes(plaintext), opts);
  const data = l.encoding === 'none' ? raw.toString('utf8') : l.encoding === 'hex' ? raw.toString('hex') : raw.toString('base64');
  return opts.noPrefix === true ? data : `{${schemeSpec}}${data}`;
}

/**
 * Raw secret for challenge mechanisms: the plaintext ("PLAIN" family) or the decoded stored form
 * of the given scheme, or undefined when the stored password cannot serve that mechanism.
 */
export function credentialsFor(stored: string, want: 'PLAIN' | 'CRAM-MD5', defaultScheme = 'CRYPT'): Buffer | undefined {
  const { scheme, data } = splitStored(stored);
  const spec = scheme ?? defaultScheme;
  const l = lookup(spec);
  if (!l) return undefined;
  const isPlain = l.name === 'PLAIN' || l.name === 'CLEAR' || l.name === 'CLEARTEXT';
  try {
    if (isPlain) {
      const pl = decode(l, spec, data);
      return want === 'PLAIN' ? pl : cramMd5Context(pl);
    }
    if (want === 'CRAM-MD5' && (l.name === 'CRAM-MD5' || l.name === 'HMAC-MD5')) return decode(l, spec, data);
  } catch {
    return undefined;
  }
  return undefined;
}
