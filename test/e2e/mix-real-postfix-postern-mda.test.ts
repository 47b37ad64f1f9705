/*
 * E2E mix (a): real Postfix + postern-mda: the whole scenario (scenario.ts) and the log-tooling checks
 * (log-tools.ts) on conf/examples with only paths and ports rewritten (config-rewrite.ts).
 */
import { test } from 'node:test';
import { mixSkip, runMix } from './mix.js';

test('mix (a): real Postfix + postern-mda on the example configuration', { skip: mixSkip('postfix', 'postern'), timeout: 600_000 }, async (t) => {
  await runMix(t, 'postfix', 'postern');
});
