/* The smtp(8) log events added to mta/log-events.ts, against Postfix's line shapes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mtaEvents } from '../../../../mta/log-events.js';

test('smtp events', () => {
  const e = mtaEvents.smtp;
  assert.equal(e.tlsEstablished('Untrusted', 'mx.example.com[192.0.2.1]:25', 'TLSv1.3 with cipher TLS_AES_256_GCM_SHA384'),
    'Untrusted TLS connection established to mx.example.com[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384');
  assert.equal(e.sslConnectError('mx.example.com[192.0.2.1]:25', 'wrong version number'), 'SSL_connect error to mx.example.com[192.0.2.1]:25: wrong version number');
  assert.match(e.tlsFallback('mx[192.0.2.1]:25'), /^mx\[192\.0\.2\.1\]:25: TLS handshake failed; retrying the delivery without TLS/);
  assert.equal(e.tlsPolicyFailure('ABC', 'mx[192.0.2.1]:25', 'Server certificate not trusted'), 'ABC: TLS policy not met by mx[192.0.2.1]:25: Server certificate not trusted');
});
