/*
 * The workloads of `make bench`, in the order they run: the MDA ones, SMTP, end-to-end, and CLI
 * last. CLI writes two 100,000-message maildirs and 10,000 queued messages and removes them; in
 * every full run up to the seventh session, Postfix's first smtp round after it ran at about twice
 * its usual CPU per message (3.2-3.6 ms against 1.5-1.9) although the runner syncs and waits for a
 * quiet machine, and run K (smtp alone) had no such round.
 */
import type { BenchSettings } from '../settings.js';
import type { Workload } from '../workload.js';
import { cliWorkload } from './cli.js';
import { idleWorkload } from './idle.js';
import { imapWorkload } from './imap.js';
import { lmtpWorkload } from './lmtp.js';
import { e2eWorkload, smtpWorkload } from './smtp.js';

export function workloadsFor(s: BenchSettings): Workload[] {
  return [lmtpWorkload, imapWorkload(s.imapClients), idleWorkload, smtpWorkload, e2eWorkload, cliWorkload];
}
