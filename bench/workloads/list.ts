/* The workloads of `make bench`, in the order they run (the MDA ones first, then CLI, then SMTP). */
import type { BenchSettings } from '../settings.js';
import type { Workload } from '../workload.js';
import { cliWorkload } from './cli.js';
import { idleWorkload } from './idle.js';
import { imapWorkload } from './imap.js';
import { lmtpWorkload } from './lmtp.js';
import { e2eWorkload, smtpWorkload } from './smtp.js';

export function workloadsFor(s: BenchSettings): Workload[] {
  return [lmtpWorkload, imapWorkload(s.imapClients), idleWorkload, cliWorkload, smtpWorkload, e2eWorkload];
}
