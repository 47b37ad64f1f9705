/*
 * The one place where delivery outcomes become LMTP replies (Dovecot lmtp-local.c
 * lmtp_local_rcpt_reply_overquota / lmtp_local_deliver): NOQUOTA → `552 5.2.2 <rcpt> Quota
 * exceeded (mailbox for user is full)` (`452 4.2.2` with quota_full_tempfail = yes), disk full →
 * 452 4.3.1, a request the storage can never satisfy (NOTPOSSIBLE/PARAMS) → 554 5.2.0
 * with the storage's client text, anything else (permissions included: an administrator can fix them) → `451 4.2.0 <rcpt> <Dovecot's internal error>`.
 * Unknown means temporary. Pure.
 */
import type { DeliveryOutcome } from '../deliver/types.js';
import { REPLIES, type LmtpReply } from './replies.js';

export function outcomeReply(address: string, id: string, outcome: DeliveryOutcome, quotaFullTempfail: boolean): LmtpReply {
  if (outcome.kind === 'saved') return REPLIES.saved(address, id);
  const err = outcome.error;
  switch (err.kind) {
    case 'NOQUOTA':
      return err.clientText === 'Not enough disk space' ? REPLIES.diskFull(address) : REPLIES.overQuota(address, quotaFullTempfail);
    case 'NOTPOSSIBLE':
    case 'PARAMS':
      return REPLIES.dataPermFail(address, err.clientText);
    default:
      return REPLIES.dataTempFail(address, err.clientText);
  }
}
