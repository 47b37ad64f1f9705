/*
 * GETQUOTAROOT (RFC 2087 §4.3) as Dovecot 2.3's imap_quota answers it: `* QUOTAROOT <mailbox as the
 * client wrote it> "<root>"` then `* QUOTA "<root>" (…)` and `OK Getquotaroot completed.`. Every
 * mailbox has the user's one root, whether it exists or not (Dovecot does not open it); without a
 * quota root, or a root without limits, the reply is just `OK No quota.`. A name that is not valid
 * modified UTF-7 is `NO Mailbox name is not valid mUTF-7` (no response code, as Dovecot here).
 * Distrusts: the mailbox name (checked, then only echoed).
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { formatAstring } from '../proto/formatter.js';
import { decodeMutf7 } from '../proto/mutf7.js';
import { quotaCommandMissing, quotaLine, rootName, sessionQuota, stringArgs } from './quota-support.js';

export const getQuotaRootCommand: CommandSpec = {
  name: 'GETQUOTAROOT',
  states: AUTHENTICATED,
  // Checked in the handler: without imap_quota the command must not exist, whatever its arguments.
  args: { required: [], rest: true },
  sync: 'full',
  async run({ session, name, args }) {
    const missing = quotaCommandMissing(session, name);
    if (missing !== undefined) return missing;
    const a = stringArgs(args, 1, name);
    if (!Array.isArray(a)) return a;
    const mailbox = a[0]!;
    // Dovecot's mUTF-7 check also refuses control characters (a literal with a line break).
    if (decodeMutf7(mailbox) === undefined || /[\x00-\x1f]/.test(mailbox)) {
      return { status: 'NO', text: 'Mailbox name is not valid mUTF-7' };
    }
    const qc = await sessionQuota(session);
    const line = qc === undefined ? undefined : await quotaLine(session, qc);
    if (qc === undefined || line === undefined) return OK('No quota.');
    session.untagged(`QUOTAROOT ${formatAstring(mailbox)} ${formatAstring(rootName(qc))}`);
    session.untagged(line);
    return OK('Getquotaroot completed.');
  },
};
