/*
 * The TLS policy of one delivery, pure (Postfix TLS_README "Client-side TLS security levels",
 * smtp_tls_policy_maps in postconf(5)):
 *   none     no STARTTLS
 *   may      STARTTLS when offered, no authentication; a failed handshake is retried in plaintext
 *   encrypt  STARTTLS required, no authentication (smtp_tls_mandatory_protocols apply)
 *   verify   + a certificate chain trusted by smtp_tls_CAfile/CApath, name per smtp_tls_verify_cert_match
 *   secure   + the name per smtp_tls_secure_cert_match (nexthop, dot-nexthop)
 *   fingerprint  the leaf certificate's digest (smtp_tls_fingerprint_digest) in match=
 * `dane`/`dane-only` need DNSSEC, which Node's resolver does not validate: as Postfix does without a
 * validating resolver, dane falls back to may and dane-only to encrypt (documented difference).
 * The legacy smtp_use_tls / smtp_enforce_tls apply when smtp_tls_security_level is empty.
 * Distrusts: policy table values (unknown levels or attributes are errors the caller defers on).
 */

export type TlsLevel = 'none' | 'may' | 'encrypt' | 'verify' | 'secure' | 'fingerprint';

export interface TlsPolicy {
  level: TlsLevel;
  /** Mandatory protocol range (encrypt and above), as Node minVersion/maxVersion. */
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** Name patterns for verify/secure (`hostname`, `nexthop`, `dot-nexthop`, or literal names), fingerprints for fingerprint. */
  match: string[];
}

export class TlsPolicyError extends Error {
  override readonly name = 'TlsPolicyError';
}

const VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type Version = (typeof VERSIONS)[number];

/**
 * smtp_tls_mandatory_protocols / protocols= syntax: `>=TLSv1.2`, `<=TLSv1.2`, or exclusions
 * `!SSLv2, !SSLv3, !TLSv1`. Returns the allowed range; SSLv2/3 are never offered by Node anyway.
 */
export function parseProtocols(text: string): { min?: Version; max?: Version } {
  const items = text.split(/[\s,:]+/).filter((s) => s !== '');
  let lo = 0;
  let hi = VERSIONS.length - 1;
  const excluded = new Set<string>();
  const idx = (v: string): number => VERSIONS.findIndex((x) => x.toLowerCase() === v.toLowerCase());
  for (const it of items) {
    if (it.startsWith('>=')) {
      const i = idx(it.slice(2));
      if (i >= 0) lo = Math.max(lo, i);
      else if (!/^SSLv[23]$/i.test(it.slice(2))) throw new TlsPolicyError(`invalid TLS protocol version: ${it}`);
    } else if (it.startsWith('<=')) {
      const i = idx(it.slice(2));
      if (i < 0) throw new TlsPolicyError(`invalid TLS protocol version: ${it}`);
      hi = Math.min(hi, i);
    } else if (it.startsWith('!')) {
      excluded.add(it.slice(1).toLowerCase());
    } else {
      // A positive list: allow exactly the named versions (range from lowest to highest named).
      const i = idx(it);
      if (i < 0 && !/^SSLv[23]$/i.test(it)) throw new TlsPolicyError(`invalid TLS protocol version: ${it}`);
    }
  }
  while (lo <= hi && excluded.has(VERSIONS[lo]!.toLowerCase())) lo++;
  while (hi >= lo && excluded.has(VERSIONS[hi]!.toLowerCase())) hi--;
  if (lo > hi) throw new TlsPolicyError(`no TLS protocol versions left: ${text}`);
  return { ...(lo > 0 ? { min: VERSIONS[lo]! } : { min: 'TLSv1' as const }), ...(hi < VERSIONS.length - 1 ? { max: VERSIONS[hi]! } : {}) };
}

export interface TlsDefaults {
  securityLevel: string;
  useTls: boolean;
  enforceTls: boolean;
  enforcePeername: boolean;
  mandatoryProtocols: string;
  verifyCertMatch: string[];
  secureCertMatch: string[];
}

function normaliseLevel(level: string): TlsLevel {
  switch (level.toLowerCase()) {
    case 'none':
    case 'may':
    case 'encrypt':
    case 'verify':
    case 'secure':
    case 'fingerprint':
      return level.toLowerCase() as TlsLevel;
    case 'dane':
      return 'may';
    case 'dane-only':
      return 'encrypt';
    default:
      throw new TlsPolicyError(`invalid TLS security level: "${level}"`);
  }
}

function withLevel(level: TlsLevel, d: TlsDefaults, protocols: string, match: string[] | undefined): TlsPolicy {
  const p: TlsPolicy = { level, match: match ?? (level === 'verify' ? d.verifyCertMatch : level === 'secure' ? d.secureCertMatch : []) };
  if (level !== 'none' && level !== 'may') {
    const r = parseProtocols(protocols);
    if (r.min) p.minVersion = r.min;
    if (r.max) p.maxVersion = r.max;
  }
  return p;
}

/** The level from main.cf alone (smtp_tls_security_level, else the legacy booleans). */
export function defaultPolicy(d: TlsDefaults): TlsPolicy {
  let level: string = d.securityLevel.trim();
  if (level === '') level = d.enforceTls ? (d.enforcePeername ? 'verify' : 'encrypt') : d.useTls ? 'may' : 'none';
  return withLevel(normaliseLevel(level), d, d.mandatoryProtocols, undefined);
}

/** A smtp_tls_policy_maps value: `level [name=value …]` (protocols=, match=, ciphers= …). */
export function parsePolicyValue(value: string, d: TlsDefaults): TlsPolicy {
  const words = value.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) throw new TlsPolicyError('empty TLS policy');
  const level = normaliseLevel(words[0]!);
  let protocols = d.mandatoryProtocols;
  let match: string[] | undefined;
  for (const w of words.slice(1)) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new TlsPolicyError(`malformed TLS policy attribute: ${w}`);
    const name = w.slice(0, eq).toLowerCase();
    const val = w.slice(eq + 1);
    if (name === 'protocols') protocols = val;
    else if (name === 'match') match = level === 'fingerprint' ? val.split('|') : val.split(':');
    // ciphers, exclude, tafile, connection_reuse, servername…: accepted, Node's defaults apply.
  }
  return withLevel(level, d, protocols, match);
}

/** Policy table keys for a next hop: as written, then (for domains) parent-domain `.parent` keys. */
export function policyKeys(nexthopText: string, host: string, mx: boolean): string[] {
  const keys = [nexthopText];
  if (mx && !nexthopText.includes(':')) {
    const labels = host.split('.');
    for (let i = 1; i < labels.length; i++) keys.push(`.${labels.slice(i).join('.')}`);
  }
  return keys;
}

/** The names a verify/secure certificate must carry one of, from the match list. */
export function expectedNames(match: readonly string[], ctx: { mxHost: string; nexthop: string }): { exact: string[]; suffixes: string[] } {
  const exact: string[] = [];
  const suffixes: string[] = [];
  for (const m of match) {
    const x = m.toLowerCase();
    if (x === 'hostname') exact.push(ctx.mxHost.toLowerCase());
    else if (x === 'nexthop') exact.push(ctx.nexthop.toLowerCase());
    else if (x === 'dot-nexthop') suffixes.push(`.${ctx.nexthop.toLowerCase()}`);
    else if (x.startsWith('.')) suffixes.push(x);
    else exact.push(x);
  }
  return { exact, suffixes };
}

/** Whether a certificate name (a DNS SAN or CN, maybe `*.example.com`) satisfies the expected names. */
export function nameMatches(certName: string, want: { exact: string[]; suffixes: string[] }): boolean {
  const n = certName.toLowerCase().replace(/\.$/, '');
  for (const e of want.exact) {
    if (n === e) return true;
    if (n.startsWith('*.') && e.endsWith(n.slice(1)) && !e.slice(0, e.length - n.length + 1).includes('.')) return true;
  }
  for (const s of want.suffixes) if (n.endsWith(s) && !n.startsWith('*.')) return true;
  return false;
}
