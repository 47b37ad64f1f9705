/*
 * The TLS server context of the IMAP and POP3 listeners (imaps/pop3s and STARTTLS/STLS), from ssl_cert/ssl_key
 * and the TLS settings Dovecot 2.3's login processes apply (lib-ssl-iostream), under the protocol's filter:
 *  - ssl_min_protocol: SSL_CTX_set_min_proto_version. Dovecot's words, case-insensitive as Dovecot matches
 *    them (`tlsv1.2` works): ANY and SSLv3 (Node's OpenSSL has no SSLv3, so TLSv1 is the floor, as on a
 *    Debian OpenSSL 3 build), TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, LATEST (TLSv1.3). Another word is Dovecot's
 *    error `Unknown ssl_min_protocol setting 'X'`.
 *  - ssl_cipher_list: SSL_CTX_set_cipher_list, i.e. Node's `ciphers` (words without a TLS_ prefix only reach
 *    the TLSv1.2-and-older list, TLS_ names are skipped as OpenSSL skips them; TLSv1.3 keeps OpenSSL's default
 *    suites, as with Dovecot's empty ssl_cipher_suites). An empty or unmatched list is Dovecot's `Can't set cipher list to '…'` error.
 *    Dovecot's default list is applied, not Node's; `@SECLEVEL=0` in it is what lets TLSv1/TLSv1.1 through
 *    on OpenSSL 3, for both.
 *  - ssl_prefer_server_ciphers = yes: SSL_OP_CIPHER_SERVER_PREFERENCE, Node's honorCipherOrder.
 * Observed on Dovecot 2.3.19 (test/mda/tls-settings.test.ts). Dovecot starts with a bad value and fails every
 * TLS connection with the error (`imap-login: Error: Failed to initialize SSL server context: …`, STARTTLS
 * then `* BYE [UNAVAILABLE] TLS initialization failed.`); Postern refuses to start with the same text.
 */
import { createSecureContext, type SecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import type { ServerCredentials } from '../shared/tls/credentials.js';

export interface TlsSettings {
  readonly ssl_min_protocol: string;
  readonly ssl_cipher_list: string;
  readonly ssl_prefer_server_ciphers: boolean;
}

const MIN_PROTOCOLS: Readonly<Record<string, SecureVersion>> = {
  any: 'TLSv1', sslv3: 'TLSv1', tlsv1: 'TLSv1', 'tlsv1.1': 'TLSv1.1', 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3', latest: 'TLSv1.3',
};

/** Node's minVersion for a Dovecot ssl_min_protocol word; undefined for a word Dovecot does not know. */
export function minTlsVersion(protocol: string): SecureVersion | undefined {
  return Object.hasOwn(MIN_PROTOCOLS, protocol.toLowerCase()) ? MIN_PROTOCOLS[protocol.toLowerCase()] : undefined;
}

/** Node's createSecureContext options for the settings; throws Dovecot's error text for a bad value. */
export function tlsContextOptions(s: TlsSettings): { minVersion: SecureVersion; ciphers: string; honorCipherOrder: boolean } {
  const minVersion = minTlsVersion(s.ssl_min_protocol);
  if (minVersion === undefined) throw new Error(`Failed to initialize SSL server context: Unknown ssl_min_protocol setting '${s.ssl_min_protocol}'`);
  // OpenSSL's list separators; TLS_ names are TLSv1.3 suites, which SSL_CTX_set_cipher_list skips (Node would apply them).
  const ciphers = s.ssl_cipher_list.split(/[:, ]+/).filter((w) => w !== '' && !w.startsWith('TLS_')).join(':');
  return { minVersion, ciphers, honorCipherOrder: s.ssl_prefer_server_ciphers };
}

/**
 * createSecureContext / tls.createServer options for ssl_cert/ssl_key with the settings applied, checked by
 * building a context once (a bad value: Dovecot's error text). tls.createServer ignores a `secureContext`
 * option, so the implicit-TLS listeners take these options rather than the context.
 */
export function tlsServerOptions(creds: ServerCredentials, s: TlsSettings): SecureContextOptions {
  const options: SecureContextOptions = { key: creds.key, cert: creds.cert, ...tlsContextOptions(s) };
  // Node ignores an empty list (OpenSSL refuses it); an unmatched one is OpenSSL's own error.
  const refused = (detail: string): never => {
    throw new Error(`Failed to initialize SSL server context: Can't set cipher list to '${s.ssl_cipher_list}' (ssl_cipher_list setting): ${detail}`);
  };
  if (options.ciphers === '') refused('error:0A0000B9:SSL routines::no cipher match');
  try {
    createSecureContext(options);
  } catch (err) {
    if (/cipher/i.test((err as Error).message)) refused((err as Error).message);
    throw err;
  }
  return options;
}

/** The server context for STARTTLS/STLS (see tlsServerOptions). */
export function tlsServerContext(creds: ServerCredentials, s: TlsSettings): SecureContext {
  return createSecureContext(tlsServerOptions(creds, s));
}
