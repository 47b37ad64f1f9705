/*
 * Interop: every conversation in conversations.ts is replayed against a private real Postfix 3.7.11
 * (test/helpers/postfix-instance.ts) and against Postern's smtpd with the equivalent configuration;
 * every reply line must be identical once queue IDs are normalised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostfix } from '../../helpers/postfix-instance.js';
import { oracleSkip } from '../../helpers/oracle.js';
import { converse, normaliseIds, startOurs, type Step } from './harness.js';
import { CONVERSATIONS, SIZE_CONVERSATIONS } from './conversations.js';

const skip = process.getuid?.() === 0 ? oracleSkip('postfix') : 'needs root to start a private Postfix';

async function compare(t: import('node:test').TestContext, convs: Record<string, Step[]>, main: Record<string, string>): Promise<void> {
  const pf = await startPostfix(t, { main: { mydestination: 'test.example', local_recipient_maps: '', ...main } });
  const ours = await startOurs(t, main);
  for (const [name, steps] of Object.entries(convs)) {
    const theirs = (await converse(pf.port, steps)).map(normaliseIds);
    const mine = (await converse(ours.port, steps)).map(normaliseIds);
    assert.deepEqual(mine, theirs, `conversation "${name}"`);
  }
}

test('smtpd replies equal real Postfix 3.7.11 replies', { skip, timeout: 120_000 }, async (t) => {
  await compare(t, CONVERSATIONS, {});
});

test('smtpd size-limit replies equal real Postfix 3.7.11 replies', { skip, timeout: 120_000 }, async (t) => {
  await compare(t, SIZE_CONVERSATIONS, { message_size_limit: '1000' });
});

test('smtpd_forbid_unauth_pipelining and smtpd_forbid_bare_newline = reject as Postfix 3.7.11', { skip, timeout: 120_000 }, async (t) => {
  await compare(t, {
    'pipelining refused': [{ send: 'EHLO x\r\nMAIL FROM:<a@b.example>\r\n', replies: 1 }],
    'bare LF refused': ['EHLO x\r\n', 'NOOP\n'],
  }, { smtpd_forbid_unauth_pipelining: 'yes', smtpd_forbid_bare_newline: 'reject', smtpd_forbid_bare_newline_exclusions: '' });
});
