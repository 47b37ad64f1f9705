/*
 * GETQUOTA (RFC 2087 §4.2) as Dovecot 2.3's imap_quota answers it: the root name is matched exactly
 * (case-sensitive); an unknown one, or no quota root at all, is `NO Quota root doesn't exist.`; a
 * root without limits is `OK Getquota completed.` with no `* QUOTA` line.
 * Distrusts: the root name (only compared).
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { quotaCommandMissing, quotaLine, rootName, sessionQuota, stringArgs } from './quota-support.js';

export const getQuotaCommand: CommandSpec = {
  name: 'GETQUOTA',
  states: AUTHENTICATED,
  args: { required: [], rest: true },
  sync: 'full',
  async run({ session, name, args }) {
    const missing = quotaCommandMissing(session, name);
    if (missing !== undefined) return missing;
    const a = stringArgs(args, 1, name);
    if (!Array.isArray(a)) return a;
    const qc = await sessionQuota(session);
    if (qc === undefined || a[0] !== rootName(qc)) return { status: 'NO', text: "Quota root doesn't exist." };
    const line = await quotaLine(session, qc);
    if (line !== undefined) session.untagged(line);
    return OK('Getquota completed.');
  },
};
