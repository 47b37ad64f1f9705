/*
 * E2E mix (b): one maildir shared by real Dovecot and postern-mda. Two copies of the example
 * setup share /var/vmail: A = real Postfix + real Dovecot, B = real Postfix + postern-mda (own
 * spool, sockets and ports). Direction 1: Dovecot delivers, Postern flags and moves, Dovecot sees
 * it and moves back, then Postern reads (POP3, IMAP), flags, moves and deletes everything.
 * Direction 2: postern-mda delivers, the same with the roles swapped. Refusals and failed logins
 * run against B, whose Postfix checks SASL through postern-mda's auth socket.
 */
import { test } from 'node:test';
import { prepareExamples } from './config-rewrite.js';
import { startPosternMda, startRealDovecot, startRealPostfix } from './daemons.js';
import { checkFail2banDovecot } from './log-tools.js';
import { mixSkip } from './mix.js';
import { checkRefusals, failedLogins, readFlagMoveDelete, submitMail } from './scenario.js';
import { crossFlagAndMove } from './shared-maildir.js';

test('mix (b): one maildir shared by real Dovecot and postern-mda', { skip: mixSkip('postfix', 'dovecot'), timeout: 600_000 }, async (t) => {
  const a = await prepareExamples(t);
  const b = await prepareExamples(t, { vmail: a.vmail });
  const dovecot = await startRealDovecot(t, a);
  const postfixA = await startRealPostfix(t, a);
  const ours = await startPosternMda(t, b);
  const postfixB = await startRealPostfix(t, b);
  const diag = () => [postfixA, dovecot, postfixB, ours].map((d) => `--- ${d.name} ---\n${d.log()}`).join('\n');

  await t.test('Dovecot delivers; Postern flags and moves; Dovecot sees it and moves back', async () => {
    await submitMail(a, diag);
    await crossFlagAndMove(b, a);
  });
  await t.test('Postern reads over POP3 and IMAP, flags, moves, deletes Dovecot-delivered mail', async () => readFlagMoveDelete(b));
  await t.test('postern-mda delivers; Dovecot flags and moves; Postern sees it and moves back', async () => {
    await submitMail(b, diag);
    await crossFlagAndMove(a, b);
  });
  await t.test('Dovecot reads over POP3 and IMAP, flags, moves, deletes Postern-delivered mail', async () => readFlagMoveDelete(a));
  await t.test('unknown user and relay refused; SASL through postern-mda refuses a wrong password', async () => checkRefusals(b));
  await t.test('wrong IMAP and POP3 passwords refused by postern-mda; fail2ban matches', async () => {
    await failedLogins(b);
    await checkFail2banDovecot(b.dovecotLog);
  });
});
