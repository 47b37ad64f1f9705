/*
 * ssl_min_protocol, ssl_cipher_list and ssl_prefer_server_ciphers on the IMAP and POP3 TLS listeners
 * (mda/tls-context.ts), as Dovecot 2.3.19 applies them:
 *  - unit: Dovecot's words (case-insensitive; ANY/SSLv3 are TLSv1 on OpenSSL 3, LATEST is TLSv1.3), TLS_
 *    names dropped from the cipher list, Dovecot's error texts for an unknown protocol and an empty or
 *    unmatched list;
 *  - server: imaps, STARTTLS, pop3s and STLS take the settings (a TLSv1.2-only client is refused under
 *    ssl_min_protocol = TLSv1.3 on every one of them);
 *  - interop (root, real Dovecot installed): the same handshakes against a private real Dovecot's imaps and
 *    Postern's give the same outcome (refused, or the protocol and cipher negotiated).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type SecureVersion } from 'node:tls';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { minTlsVersion, tlsContextOptions, tlsServerOptions, type TlsSettings } from '../../mda/tls-context.js';
import { settingDefault } from '../../mda/settings.js';
import { startPop3Server } from '../../mda/pop3/server.js';
import { pop3SettingsFromText } from '../../mda/pop3/settings.js';
import { makeSelfSigned } from '../../shared/tls/selfsigned.js';
import { startDovecot } from '../helpers/dovecot-daemon.js';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/tmp.js';
import { oracleSkip } from '../helpers/oracle.js';
import { startTestServer, TestClient } from './imap/server/harness.js';
import { loggedInAuth, logCollector } from './pop3/helpers.js';

const DEFAULTS: TlsSettings = {
  ssl_min_protocol: settingDefault('ssl_min_protocol'),
  ssl_cipher_list: settingDefault('ssl_cipher_list'),
  ssl_prefer_server_ciphers: false,
};
let cert: { keyPem: string; certPem: string } | undefined;
const creds = () => {
  cert ??= makeSelfSigned({ commonName: 'localhost', bits: 2048 });
  return { key: [cert.keyPem], cert: [cert.certPem] };
};

test('ssl_min_protocol words map to Node minVersion as Dovecot reads them', () => {
  const table: [string, SecureVersion | undefined][] = [
    ['ANY', 'TLSv1'], ['SSLv3', 'TLSv1'], ['TLSv1', 'TLSv1'], ['TLSv1.1', 'TLSv1.1'], ['TLSv1.2', 'TLSv1.2'],
    ['tlsv1.2', 'TLSv1.2'], ['TLSv1.3', 'TLSv1.3'], ['LATEST', 'TLSv1.3'], ['bogus', undefined], ['', undefined],
  ];
  for (const [word, v] of table) assert.equal(minTlsVersion(word), v, word);
  assert.deepEqual(tlsContextOptions(DEFAULTS), { minVersion: 'TLSv1.2', ciphers: DEFAULTS.ssl_cipher_list, honorCipherOrder: false });
  assert.deepEqual(tlsContextOptions({ ...DEFAULTS, ssl_cipher_list: 'TLS_AES_128_GCM_SHA256:HIGH !aNULL', ssl_prefer_server_ciphers: true }),
    { minVersion: 'TLSv1.2', ciphers: 'HIGH:!aNULL', honorCipherOrder: true });
  assert.throws(() => tlsContextOptions({ ...DEFAULTS, ssl_min_protocol: 'bogus' }),
    { message: "Failed to initialize SSL server context: Unknown ssl_min_protocol setting 'bogus'" });
});

test('a cipher list OpenSSL cannot use is Dovecot\'s error', () => {
  assert.throws(() => tlsServerOptions(creds(), { ...DEFAULTS, ssl_cipher_list: '' }),
    { message: "Failed to initialize SSL server context: Can't set cipher list to '' (ssl_cipher_list setting): error:0A0000B9:SSL routines::no cipher match" });
  assert.throws(() => tlsServerOptions(creds(), { ...DEFAULTS, ssl_cipher_list: 'NOSUCH' }),
    /^Error: Failed to initialize SSL server context: Can't set cipher list to 'NOSUCH' \(ssl_cipher_list setting\): .*no cipher match/);
  assert.throws(() => tlsServerOptions(creds(), { ...DEFAULTS, ssl_cipher_list: 'TLS_AES_128_GCM_SHA256' }), /no cipher match/);
  assert.equal(tlsServerOptions(creds(), DEFAULTS).minVersion, 'TLSv1.2');
});

interface Probe {
  readonly min: SecureVersion;
  readonly max: SecureVersion;
  readonly ciphers?: string;
}

/** A TLS handshake: `TLSv1.2 ECDHE-…` as negotiated, or `refused`. */
function handshake(port: number, p: Probe, socket?: import('node:net').Socket): Promise<string> {
  return new Promise((resolve) => {
    const o: ConnectionOptions = { rejectUnauthorized: false, minVersion: p.min, maxVersion: p.max, ...(p.ciphers !== undefined ? { ciphers: p.ciphers } : {}) };
    const s = tlsConnect(socket !== undefined ? { ...o, socket } : { ...o, host: '127.0.0.1', port }, () => {
      resolve(`${s.getProtocol()} ${s.getCipher().name}`);
      s.destroy();
    });
    s.on('error', () => resolve('refused'));
    s.setTimeout(5000, () => {
      resolve('timeout');
      s.destroy();
    });
  });
}

/** A plaintext connection upgraded with `upgrade` (IMAP STARTTLS, POP3 STLS), then the handshake. */
async function upgraded(port: number, command: string, ok: RegExp, p: Probe): Promise<string> {
  const sock = netConnect(port, '127.0.0.1');
  let buf = '';
  const onData = (d: Buffer) => (buf += d.toString('latin1'));
  sock.on('data', onData);
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 200 && !re.test(buf); i++) await new Promise((r) => setTimeout(r, 10));
  };
  await waitFor(/\r\n/);
  sock.write(`${command}\r\n`);
  await waitFor(ok);
  sock.off('data', onData);
  return handshake(port, p, sock);
}

const TLS12: Probe = { min: 'TLSv1.2', max: 'TLSv1.2' };
const TLS13: Probe = { min: 'TLSv1.3', max: 'TLSv1.3' };

test('imaps, STARTTLS, pop3s and STLS take the protocol floor', async (t) => {
  const imap = await startTestServer(t, { tls: true, settings: { ssl_min_protocol: 'TLSv1.3' } });
  assert.equal(await handshake(imap.tlsPort!, TLS12), 'refused');
  assert.match(await handshake(imap.tlsPort!, TLS13), /^TLSv1\.3 /);
  assert.equal(await upgraded(imap.port, 'a STARTTLS', /a OK/, TLS12), 'refused');
  assert.match(await upgraded(imap.port, 'a STARTTLS', /a OK/, TLS13), /^TLSv1\.3 /);
  const c = await TestClient.connect(imap.tlsPort!, { tls: true });
  assert.match(c.greeting, /^\* OK /);
  c.close();
  const log = logCollector();
  const pop3 = await startPop3Server({
    settings: pop3SettingsFromText({ ssl_min_protocol: 'TLSv1.3' }),
    listeners: [{ name: 'pop3', address: '127.0.0.1', port: 0, ssl: false }, { name: 'pop3s', address: '127.0.0.1', port: 0, ssl: true }],
    auth: loggedInAuth('u1'),
    openStore: () => Promise.reject(new Error('not used')),
    log: log.factory,
    tls: creds(),
  });
  t.after(() => pop3.close());
  const [plain, secure] = pop3.listeners.map((l) => l.boundPort);
  assert.equal(await handshake(secure!, TLS12), 'refused');
  assert.match(await handshake(secure!, TLS13), /^TLSv1\.3 /);
  assert.equal(await upgraded(plain!, 'STLS', /\+OK Begin TLS/, TLS12), 'refused');
  assert.match(await upgraded(plain!, 'STLS', /\+OK Begin TLS/, TLS13), /^TLSv1\.3 /);
});

test('a bad ssl_min_protocol stops the IMAP server from starting, with Dovecot\'s text', async (t) => {
  await assert.rejects(startTestServer(t, { tls: true, settings: { ssl_min_protocol: 'TLSv9' } }), /Unknown ssl_min_protocol setting 'TLSv9'/);
});

/** Settings to compare, each with the handshakes to try. */
const CASES: { conf: Record<string, string>; probes: Probe[] }[] = [
  { conf: {}, probes: [TLS12, TLS13, { min: 'TLSv1.1', max: 'TLSv1.1', ciphers: 'ALL:@SECLEVEL=0' }] },
  { conf: { ssl_min_protocol: 'TLSv1.3' }, probes: [TLS12, TLS13] },
  { conf: { ssl_min_protocol: 'LATEST' }, probes: [TLS12, TLS13] },
  { conf: { ssl_min_protocol: 'TLSv1.1', ssl_cipher_list: 'ALL:@SECLEVEL=0' }, probes: [{ min: 'TLSv1', max: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' }, { min: 'TLSv1.1', max: 'TLSv1.1', ciphers: 'ALL:@SECLEVEL=0' }] },
  { conf: { ssl_min_protocol: 'ANY' }, probes: [{ min: 'TLSv1', max: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' }, TLS12] },
  ...['no', 'yes'].map((prefer) => ({
    conf: { ssl_cipher_list: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384', ssl_prefer_server_ciphers: prefer },
    probes: [{ ...TLS12, ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256' }, { ...TLS12, ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' }],
  })),
];

async function posternOutcomes(t: TestContext, conf: Record<string, string>, probes: Probe[]): Promise<string[]> {
  const s = await startTestServer(t, { tls: true, settings: conf });
  const out: string[] = [];
  for (const p of probes) out.push(await handshake(s.tlsPort!, p));
  await s.server.close();
  return out;
}

async function dovecotOutcomes(t: TestContext, conf: Record<string, string>, probes: Probe[]): Promise<string[]> {
  const port = await freePort();
  // The same certificate as Postern's, in files Dovecot reads at start (`<path`).
  const files = tempDir(t, 'postern-tls-');
  const c = creds();
  writeFileSync(join(files, 'cert.pem'), c.cert[0]!);
  writeFileSync(join(files, 'key.pem'), c.key[0]!, { mode: 0o600 });
  const d = await startDovecot(t, [
    'protocols = imap',
    'listen = 127.0.0.1',
    'ssl = yes',
    `ssl_cert = <${files}/cert.pem`,
    `ssl_key = <${files}/key.pem`,
    ...Object.entries(conf).map(([k, v]) => `${k} = ${v}`),
    'passdb {\n  driver = static\n  args = nopassword\n}',
    `service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    port = ${port}\n  }\n}`,
  ].join('\n'), ['@DIR@/run/anvil']);
  const out: string[] = [];
  for (const p of probes) out.push(await handshake(port, p));
  await d.stop();
  return out;
}

const asRoot = process.getuid?.() === 0;
const skipReal = oracleSkip('dovecot') || (asRoot ? false : 'needs root to start a private Dovecot');

test('interop: real Dovecot 2.3 negotiates the same way under the same settings', { skip: skipReal, timeout: 120_000 }, async (t) => {
  for (const { conf, probes } of CASES) {
    const ours = await posternOutcomes(t, conf, probes);
    const theirs = await dovecotOutcomes(t, conf, probes);
    assert.deepEqual(ours, theirs, JSON.stringify(conf));
    t.diagnostic(`${JSON.stringify(conf)}: ${ours.join(", ")}`);
  }
});

