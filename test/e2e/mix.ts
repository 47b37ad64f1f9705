/*
 * One e2e mix: an MTA (real Postfix or postern-mta) and an MDA (real Dovecot or postern-mda) on
 * the example configuration (config-rewrite.ts), the MDA started first because it creates the
 * Postfix-facing sockets. Runs the whole scenario (scenario.ts) and the log-tooling checks
 * (log-tools.ts) on the logs the run produced; then mail that cannot be delivered (undeliverable.ts:
 * one deferral, one bounce with its notice) and pflogsumm's counts and detail sections for it. The
 * real+real mix is the reference: it proves the scenario's expectations are Postfix's and
 * Dovecot's own behaviour.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { oracleSkip } from '../helpers/oracle.js';
import { prepareExamples, type ExampleSetup } from './config-rewrite.js';
import { startPosternMda, startPosternMta, startRealDovecot, startRealPostfix, type Daemon } from './daemons.js';
import { checkRefusals, failedLogins, readFlagMoveDelete, submitMail } from './scenario.js';
import { checkFail2banDovecot, checkFail2banPostfix, checkPflogsumm, checkPflogsummUndeliverable } from './log-tools.js';
import { deferAndBounce, type Undeliverable } from './undeliverable.js';

export type MtaKind = 'postfix' | 'postern';
export type MdaKind = 'dovecot' | 'postern';

export interface MixRun {
  setup: ExampleSetup;
  mta: Daemon;
  mda: Daemon;
}

/** The skip reason for a mix: real programs missing (outside CI), or not root. */
export function mixSkip(mta: MtaKind, mda: MdaKind): false | string {
  const needs = ['python3', 'pflogsumm', 'fail2ban-regex'];
  if (mta === 'postfix') needs.push('postfix');
  if (mda === 'dovecot') needs.push('dovecot');
  const missing = oracleSkip(...needs);
  if (missing) return missing;
  return process.getuid?.() === 0 ? false : 'needs root (Postfix, Dovecot and the MDA privilege drop)';
}

export async function startMix(t: TestContext, mtaKind: MtaKind, mdaKind: MdaKind): Promise<MixRun> {
  const setup = await prepareExamples(t);
  const mda = mdaKind === 'dovecot' ? await startRealDovecot(t, setup) : await startPosternMda(t, setup);
  const mta = mtaKind === 'postfix' ? await startRealPostfix(t, setup) : await startPosternMta(t, setup);
  return { setup, mta, mda };
}

export async function runMix(t: TestContext, mtaKind: MtaKind, mdaKind: MdaKind): Promise<void> {
  const m = await startMix(t, mtaKind, mdaKind);
  const diag = () => `--- ${m.mta.name} ---\n${m.mta.log()}\n--- ${m.mda.name} ---\n${m.mda.log()}`;
  await t.test('submission with AUTH reaches the INBOXes', async () => submitMail(m.setup, diag));
  await t.test('read over POP3 and IMAP, flagged, moved, deleted', async () => readFlagMoveDelete(m.setup));
  await t.test('unknown user and relay refused at RCPT; wrong SMTP password refused', async () => checkRefusals(m.setup));
  await t.test('wrong IMAP and POP3 passwords refused', async () => failedLogins(m.setup));
  await t.test('pflogsumm counts the MTA log', async () => checkPflogsumm(m.mta.log));
  await t.test('fail2ban postfix filter matches the MTA log', async () => checkFail2banPostfix(m.setup.maillog));
  await t.test('fail2ban dovecot filter matches the MDA log', async () => checkFail2banDovecot(m.setup.dovecotLog));
  let undeliverable: Undeliverable | undefined;
  await t.test('a deferral and a bounce (notice back to the sender)', async (st) => {
    undeliverable = await deferAndBounce(st, m.setup, diag);
  });
  await t.test('pflogsumm counts and lists the deferral and the bounce', async () => {
    assert.ok(undeliverable, 'the undeliverable step ran');
    await checkPflogsummUndeliverable(m.mta.log, undeliverable);
  });
}
