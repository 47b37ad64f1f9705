/*
 * E2E the reference: real Postfix + real Dovecot: the whole scenario (scenario.ts) and the log-tooling checks
 * (log-tools.ts) on conf/examples with only paths and ports rewritten (config-rewrite.ts).
 */
import { test } from 'node:test';
import { mixSkip, runMix } from './mix.js';

test('the reference: real Postfix + real Dovecot on the example configuration', { skip: mixSkip('postfix', 'dovecot'), timeout: 600_000 }, async (t) => {
  await runMix(t, 'postfix', 'dovecot');
});
