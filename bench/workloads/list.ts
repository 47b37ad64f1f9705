/* The workloads of `make bench`, in the order they run (the MDA ones first, then CLI, then SMTP). */
import type { Workload } from '../workload.js';
import { lmtpWorkload } from './lmtp.js';

export const WORKLOADS: readonly Workload[] = [lmtpWorkload];
