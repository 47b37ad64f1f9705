/*
 * Makes a self-signed certificate with node-forge, for the demo set-up (`make run`) and for tests.
 * Not for production: the README tells administrators to point smtpd_tls_chain_files / ssl_cert at
 * real certificates. The key is RSA 2048 (forge uses Node's native key generation when present).
 */
import forge from 'node-forge';

export interface SelfSignedOptions {
  commonName: string;
  /** DNS names and IP addresses for subjectAltName; the common name is always included. */
  altNames?: string[];
  days?: number;
  bits?: number;
}

export interface SelfSigned {
  keyPem: string;
  certPem: string;
}

const IP_LIKE = /^[0-9.]+$|:/;

export function makeSelfSigned(o: SelfSignedOptions): SelfSigned {
  const keys = forge.pki.rsa.generateKeyPair({ bits: o.bits ?? 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + (o.days ?? 365) * 86_400_000);
  const attrs = [{ name: 'commonName', value: o.commonName }, { name: 'organizationName', value: 'Postern demo' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  const names = [o.commonName, ...(o.altNames ?? [])].filter((n, i, a) => a.indexOf(n) === i);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: names.map((n) => (IP_LIKE.test(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { keyPem: forge.pki.privateKeyToPem(keys.privateKey), certPem: forge.pki.certificateToPem(cert) };
}
