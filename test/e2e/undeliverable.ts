/*
 * The e2e step that leaves mail undelivered, so that the log tooling sees deferrals and bounces
 * as an administrator's log has them, without any test-only entry in conf/examples: alice submits
 * (AUTH on 587) one message to an address literal where nothing listens on port 25
 * (`nobody@[127.0.0.3]`: connection refused, deferred and left in the queue; its next try is
 * minimal_backoff_time away) and one to an address literal whose server refuses the recipient
 * with 550 at RCPT (a scripted server on 127.0.77.x:25: bounced, and the non-delivery notice
 * reaches alice's INBOX over LMTP). Runs after the scenario's own steps and log checks, whose
 * counts it would otherwise change.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { startFakeSmtp, type FakeSmtpServer } from '../helpers/smtp-sink.js';
import { EXAMPLE_PASSWORDS, type ExampleSetup } from './config-rewrite.js';
import { mailFiles, message, send, submission, waitForMail } from './scenario.js';

/** Nothing listens on port 25 here (connection refused → deferral). */
export const UNREACHABLE = '127.0.0.3';

export interface Undeliverable {
  deferredTo: string;
  bouncedTo: string;
  /** The refusing server's address. */
  refuser: string;
  /** Its RCPT reply. */
  refusal: string;
}

/** A scripted server on <some 127.0.77.x>:25 that refuses every recipient (mixes may run in parallel). */
async function refusingServer(t: TestContext): Promise<{ srv: FakeSmtpServer; refusal: (rcpt: string) => string }> {
  const refusal = (rcpt: string): string => `550 5.1.1 ${rcpt}: Recipient address rejected: User unknown in relay recipient table`;
  let last: unknown;
  for (let i = 0; i < 20; i++) {
    const host = `127.0.77.${10 + Math.floor(Math.random() * 240)}`;
    try {
      const srv = await startFakeSmtp(t, { host, port: 25, rcpt: (args) => refusal(/<[^>]*>/.exec(args)?.[0] ?? '<>') });
      return { srv, refusal };
    } catch (err) {
      last = err;
    }
  }
  throw new Error(`no free 127.0.77.x:25 for the refusing server: ${String(last)}`);
}

export async function deferAndBounce(t: TestContext, s: ExampleSetup, diag: () => string): Promise<Undeliverable> {
  const { srv, refusal } = await refusingServer(t);
  const deferredTo = `nobody@[${UNREACHABLE}]`;
  const bouncedTo = `nobody@[${srv.host}]`;
  const before = mailFiles(s, 'alice@example.com').length;
  const c = await submission(s, 'alice@example.com', EXAMPLE_PASSWORDS['alice@example.com']!);
  try {
    await send(c, 'alice@example.com', [deferredTo], message('e2e deferred', deferredTo, 'nobody answers there'));
    await send(c, 'alice@example.com', [bouncedTo], message('e2e bounced', bouncedTo, 'refused at RCPT'));
    await c.cmd('QUIT');
  } finally {
    c.close();
  }
  // The non-delivery notice for the bounced message comes back to alice.
  await waitForMail(s, 'alice@example.com', before + 1, diag);
  const notices = mailFiles(s, 'alice@example.com').map((f) => readFileSync(f, 'latin1'));
  const dsn = notices.find((m) => /^Subject: Undelivered Mail Returned to Sender$/m.test(m));
  assert.ok(dsn, `a non-delivery notice in alice's INBOX\n${notices.join('\n----\n')}`);
  assert.match(dsn, /^Content-Type: multipart\/report; report-type=delivery-status;/m);
  assert.ok(dsn.includes(`Final-Recipient: rfc822; ${bouncedTo}`), dsn);
  assert.ok(srv.commands.some((l) => l.startsWith('RCPT TO:<nobody@[')), 'the refusing server was asked');
  return { deferredTo, bouncedTo, refuser: srv.host, refusal: refusal(`<${bouncedTo}>`) };
}
