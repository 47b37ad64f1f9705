/*
 * STARTTLS for the smtp(8) client: Node TLS options from the policy, the trust anchors from
 * smtp_tls_CAfile / smtp_tls_CApath (no system CAs unless one of them is set, as Postfix with
 * tls_append_default_CA = no), and the verdict on the peer certificate that verify, secure and
 * fingerprint levels require. Opportunistic (may) sessions accept any certificate and any protocol
 * Node can speak (`@SECLEVEL=0`): weak encryption still beats plaintext, the stated intent of `may`.
 * Logs Postfix's "… TLS connection established to host[addr]:port: TLSv1.3 with cipher …" line.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { ConnectionOptions, PeerCertificate, TLSSocket } from 'node:tls';
import { expectedNames, nameMatches, type TlsPolicy } from './tls-policy.js';

/** PEM certificates from a CA file and every file in a CA directory (hash links included once). */
export function loadTrustAnchors(caFile: string, caPath: string): string[] {
  const out = new Set<string>();
  const add = (text: string): void => {
    for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) out.add(m[0]);
  };
  if (caFile !== '') add(readFileSync(caFile, 'utf8'));
  if (caPath !== '') {
    for (const name of readdirSync(caPath)) {
      const p = join(caPath, name);
      try {
        if (statSync(p).isFile()) add(readFileSync(p, 'utf8'));
      } catch {
        /* dangling link or unreadable: skipped, as OpenSSL's lookup would */
      }
    }
  }
  return [...out];
}

export function tlsOptions(policy: TlsPolicy, host: string, ca: readonly string[]): ConnectionOptions {
  // Names are checked by judgePeer against the policy's match list, not by Node.
  const o: ConnectionOptions = { rejectUnauthorized: false, checkServerIdentity: () => undefined };
  if (isIP(host) === 0) o.servername = host;
  if (ca.length > 0) o.ca = [...ca];
  if (policy.level === 'may') {
    o.minVersion = 'TLSv1';
    o.ciphers = 'DEFAULT:@SECLEVEL=0';
  } else {
    o.minVersion = policy.minVersion ?? 'TLSv1';
    if (policy.maxVersion) o.maxVersion = policy.maxVersion;
    if (o.minVersion === 'TLSv1' || o.minVersion === 'TLSv1.1') o.ciphers = 'DEFAULT:@SECLEVEL=0';
  }
  return o;
}

export type Trust = 'Anonymous' | 'Untrusted' | 'Trusted' | 'Verified';

export interface PeerVerdict {
  trust: Trust;
  /** Set when the policy is not met: Postfix's reason text. */
  failure?: string;
}

function certNames(cert: PeerCertificate): string[] {
  const names: string[] = [];
  for (const part of (cert.subjectaltname ?? '').split(/,\s*/)) if (part.startsWith('DNS:')) names.push(part.slice(4));
  const cn = cert.subject?.CN;
  if (names.length === 0 && typeof cn === 'string') names.push(cn);
  return names;
}

const normFp = (s: string): string => s.replace(/:/g, '').toLowerCase();

/** Judges the peer after the handshake against the policy level. */
export function judgePeer(ts: TLSSocket, policy: TlsPolicy, ctx: { mxHost: string; nexthop: string; haveAnchors: boolean }): PeerVerdict {
  const cert = ts.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) {
    return policy.level === 'may' || policy.level === 'encrypt' ? { trust: 'Anonymous' } : { trust: 'Anonymous', failure: 'Server certificate not trusted' };
  }
  if (policy.level === 'fingerprint') {
    const digest = normFp(createHash('sha256').update(cert.raw).digest('hex'));
    const ok = policy.match.some((m) => normFp(m) === digest);
    return ok ? { trust: 'Verified' } : { trust: 'Untrusted', failure: 'Server certificate not verified' };
  }
  const trusted = ctx.haveAnchors && ts.authorized;
  const want = expectedNames(policy.match, ctx);
  const named = certNames(cert).some((n) => nameMatches(n, want));
  const trust: Trust = trusted ? (named ? 'Verified' : 'Trusted') : 'Untrusted';
  if (policy.level === 'verify' || policy.level === 'secure') {
    if (!trusted) return { trust, failure: 'Server certificate not trusted' };
    if (!named) return { trust, failure: 'Server certificate not verified' };
  }
  return { trust };
}

/** `TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)`. */
export function describeCipher(ts: TLSSocket): string {
  const c = ts.getCipher();
  const bits = (c as { bits?: number } | undefined)?.bits;
  const b = typeof bits === 'number' ? ` (${bits}/${bits} bits)` : '';
  return `${ts.getProtocol() ?? 'TLS'} with cipher ${c?.standardName ?? c?.name ?? 'unknown'}${b}`;
}
