/*
 * Loads TLS server credentials as the two configuration languages name them:
 *  - Postfix: smtpd_tls_chain_files (3.4+, preferred: key and certificate chain in one or more PEM
 *    files, in order), else smtpd_tls_cert_file + smtpd_tls_key_file (key defaults to the cert file),
 *    plus the RSA/ECDSA (`smtpd_tls_eccert_file`) pair when given.
 *  - Dovecot: `ssl_cert = </path` and `ssl_key = </path` arrive from the config parser already read
 *    (the `<` form), so they are PEM text, not paths; ssl_key_password for an encrypted key.
 * Files are read here (thin I/O); PEM splitting is pure. A missing or unparsable file is a typed
 * TlsConfigError naming the file, the way Postfix says "cannot load certificate".
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { strerror } from '../errors/config-error.js';

export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}

export interface ServerCredentials {
  /** PEM private keys, one per algorithm (RSA, ECDSA …). */
  key: string[];
  /** PEM certificate chains, matching `key` by index. */
  cert: string[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----\r?\n?/g;

export interface PemBlock {
  label: string;
  pem: string;
}

/** Splits PEM text into its blocks, in order; text between blocks is ignored as OpenSSL does. */
export function splitPem(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const pem = m[0].endsWith('\n') ? m[0] : `${m[0]}\n`;
    out.push({ label: m[1] ?? '', pem });
  }
  return out;
}

const isKey = (label: string) => /PRIVATE KEY$/.test(label);
const isCert = (label: string) => label === 'CERTIFICATE' || label === 'TRUSTED CERTIFICATE';

function readPem(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new TlsConfigError(`cannot load certificate file ${file}: ${strerror(err)}`);
  }
}

/**
 * Groups a chain-files sequence as Postfix does: each private key starts a new group, the
 * certificates that follow are its chain (leaf first).
 */
export function credentialsFromChainPem(pemText: string, source: string): ServerCredentials {
  const key: string[] = [];
  const cert: string[] = [];
  let current = -1;
  for (const b of splitPem(pemText)) {
    if (isKey(b.label)) {
      key.push(b.pem);
      cert.push('');
      current = key.length - 1;
    } else if (isCert(b.label)) {
      if (current < 0) throw new TlsConfigError(`${source}: certificate before its private key in chain file`);
      cert[current] += b.pem;
    }
  }
  if (key.length === 0) throw new TlsConfigError(`${source}: no private key found`);
  cert.forEach((c, i) => {
    if (c === '') throw new TlsConfigError(`${source}: private key ${i + 1} has no certificate`);
  });
  return { key, cert };
}

export interface PostfixTlsFiles {
  chainFiles: string[];
  certFile: string;
  keyFile: string;
  eccertFile?: string;
  eckeyFile?: string;
}

/** Loads smtpd_tls_* / smtp_tls_* credentials. Returns undefined when nothing is configured. */
export function loadPostfixCredentials(f: PostfixTlsFiles): ServerCredentials | undefined {
  if (f.chainFiles.length > 0) {
    const text = f.chainFiles.map(readPem).join('\n');
    return checked(credentialsFromChainPem(text, f.chainFiles.join(', ')));
  }
  const out: ServerCredentials = { key: [], cert: [] };
  const addPair = (certFile: string, keyFile: string) => {
    const certText = readPem(certFile);
    const keyText = readPem(keyFile || certFile);
    const keys = splitPem(keyText).filter((b) => isKey(b.label));
    const certs = splitPem(certText).filter((b) => isCert(b.label));
    if (keys.length === 0) throw new TlsConfigError(`cannot load private key from ${keyFile || certFile}`);
    if (certs.length === 0) throw new TlsConfigError(`cannot load certificate from ${certFile}`);
    out.key.push(keys[0]!.pem);
    out.cert.push(certs.map((c) => c.pem).join(''));
  };
  if (f.certFile) addPair(f.certFile, f.keyFile);
  if (f.eccertFile) addPair(f.eccertFile, f.eckeyFile ?? '');
  return out.key.length > 0 ? checked(out) : undefined;
}

/** Dovecot: ssl_cert / ssl_key values are PEM text already (the `<file` form was read by the parser). */
export function loadDovecotCredentials(sslCert: string, sslKey: string, keyPassword = ''): ServerCredentials | undefined {
  if (sslCert === '' && sslKey === '') return undefined;
  const certs = splitPem(sslCert).filter((b) => isCert(b.label));
  const keys = splitPem(sslKey).filter((b) => isKey(b.label));
  if (certs.length === 0) throw new TlsConfigError("ssl_cert: no certificate found (use ssl_cert = </path/to/cert.pem)");
  if (keys.length === 0) throw new TlsConfigError('ssl_key: no private key found (use ssl_key = </path/to/key.pem)');
  let keyPem = keys[0]!.pem;
  if (keyPassword !== '') {
    keyPem = createPrivateKey({ key: keyPem, passphrase: keyPassword }).export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  return checked({ key: [keyPem], cert: [certs.map((c) => c.pem).join('')] });
}

/** Verifies that each key matches the first certificate of its chain, so a mismatch fails at start-up. */
function checked(c: ServerCredentials): ServerCredentials {
  c.key.forEach((k, i) => {
    const leaf = splitPem(c.cert[i] ?? '')[0];
    if (!leaf) throw new TlsConfigError(`certificate ${i + 1}: missing`);
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(leaf.pem);
    } catch (err) {
      throw new TlsConfigError(`certificate ${i + 1}: cannot parse: ${(err as Error).message}`);
    }
    let priv;
    try {
      priv = createPrivateKey(k);
    } catch (err) {
      throw new TlsConfigError(`private key ${i + 1}: cannot parse: ${(err as Error).message}`);
    }
    if (!x509.checkPrivateKey(priv)) throw new TlsConfigError(`private key ${i + 1} does not match its certificate`);
  });
  return c;
}
