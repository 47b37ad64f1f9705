/*
 * E2E mix (c): postern-mta + real Dovecot (LMTP and SASL through Dovecot sockets): the whole scenario (scenario.ts) and the log-tooling checks
 * (log-tools.ts) on conf/examples with only paths and ports rewritten (config-rewrite.ts).
 */
import { test } from 'node:test';
import { mixSkip, runMix } from './mix.js';

test('mix (c): postern-mta + real Dovecot (LMTP and SASL through Dovecot sockets) on the example configuration', { skip: mixSkip('postern', 'dovecot'), timeout: 600_000 }, async (t) => {
  await runMix(t, 'postern', 'dovecot');
});
