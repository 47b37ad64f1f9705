import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { makeSelfSigned } from '../../../shared/tls/selfsigned.js';
import {
  credentialsFromChainPem,
  loadDovecotCredentials,
  loadPostfixCredentials,
  splitPem,
  TlsConfigError,
} from '../../../shared/tls/credentials.js';
import { tempDir } from '../../helpers/tmp.js';

const a = makeSelfSigned({ commonName: 'mx.example.test', altNames: ['127.0.0.1'], bits: 1024 });
const b = makeSelfSigned({ commonName: 'other.example.test', bits: 1024 });

test('self-signed certificate carries the names asked for and loads into a TLS context', () => {
  const x = new X509Certificate(a.certPem);
  assert.match(x.subject, /CN=mx\.example\.test/);
  assert.equal(x.subjectAltName, 'DNS:mx.example.test, IP Address:127.0.0.1');
  assert.doesNotThrow(() => createSecureContext({ key: a.keyPem, cert: a.certPem }));
});

test('splitPem keeps order and ignores text between blocks', () => {
  const blocks = splitPem(`junk\n${a.keyPem}comment\n${a.certPem}`);
  assert.deepEqual(blocks.map((x) => x.label), ['RSA PRIVATE KEY', 'CERTIFICATE']);
});

test('smtpd_tls_chain_files: a key starts a group, its certificates follow', () => {
  const c = credentialsFromChainPem(a.keyPem + a.certPem + b.keyPem + b.certPem, 'chain.pem');
  assert.equal(c.key.length, 2);
  assert.equal(c.cert[1], b.certPem);
  assert.throws(() => credentialsFromChainPem(a.certPem + a.keyPem, 'x.pem'), TlsConfigError);
  assert.throws(() => credentialsFromChainPem(a.keyPem, 'x.pem'), /has no certificate/);
});

test('Postfix files: chain files win; cert+key pair; key defaults to the cert file; mismatch refused', (t) => {
  const dir = tempDir(t);
  const p = (n: string) => join(dir, n);
  writeFileSync(p('chain.pem'), a.keyPem + a.certPem);
  writeFileSync(p('cert.pem'), b.certPem);
  writeFileSync(p('key.pem'), b.keyPem);
  writeFileSync(p('both.pem'), b.certPem + b.keyPem);
  writeFileSync(p('wrongkey.pem'), a.keyPem);
  assert.equal(loadPostfixCredentials({ chainFiles: [p('chain.pem')], certFile: p('cert.pem'), keyFile: p('key.pem') })?.cert[0], a.certPem);
  assert.equal(loadPostfixCredentials({ chainFiles: [], certFile: p('cert.pem'), keyFile: p('key.pem') })?.key[0], b.keyPem);
  assert.equal(loadPostfixCredentials({ chainFiles: [], certFile: p('both.pem'), keyFile: '' })?.key[0], b.keyPem);
  assert.equal(loadPostfixCredentials({ chainFiles: [], certFile: '', keyFile: '' }), undefined);
  assert.throws(() => loadPostfixCredentials({ chainFiles: [], certFile: p('cert.pem'), keyFile: p('wrongkey.pem') }), /does not match/);
  assert.throws(() => loadPostfixCredentials({ chainFiles: [p('nope.pem')], certFile: '', keyFile: '' }), /No such file or directory/);
});

test('Dovecot ssl_cert/ssl_key arrive as PEM text', () => {
  assert.equal(loadDovecotCredentials(a.certPem, a.keyPem)?.cert[0], a.certPem);
  assert.equal(loadDovecotCredentials('', ''), undefined);
  assert.throws(() => loadDovecotCredentials('/etc/ssl/cert.pem', a.keyPem), /use ssl_cert = </);
});
