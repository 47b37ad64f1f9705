/*
 * What GETQUOTAROOT, GETQUOTA and SETQUOTA share (RFC 2087 as Dovecot 2.3's imap_quota plugin answers
 * it, observed on 2.3.19):
 *  - without imap_quota in `mail_plugins` the commands do not exist: `BAD Error in IMAP command X:
 *    Unknown command`, before any argument check, as for any unknown name;
 *  - arguments are read like Dovecot's client_read_string_args: too few is `Missing arguments`, a list
 *    where a string belongs is `Invalid arguments`, NIL counts as a string, extra arguments are ignored;
 *  - the quota root is the user's one `plugin { quota = maildir|count:<name> }` with its `*` rule
 *    (mda/deliver/quota-rules.ts; userdb fields override the plugin settings, so the user is looked up
 *    once per session, as Dovecot's mail process has the userdb reply); usage comes from the storage
 *    API's openQuota, the same numbers LMTP enforces and `doveadm quota get` prints;
 *  - `* QUOTA "<root>" (STORAGE <used KiB> <limit KiB> MESSAGE <used> <limit>)` lists only the
 *    resources with a limit, both KiB figures rounded up; a root without any limit gets no QUOTA line.
 * Distrusts: the client's strings (echoed with Dovecot's astring rules only).
 */
import { quotaConfig, quotaRootOf, type QuotaConfig } from '../../deliver/quota-rules.js';
import { INTERNAL_ERROR_TEXT, openQuota, StorageError } from '../../storage/api.js';
import { imapQuotaLoaded } from '../capabilities.js';
import type { Completion } from '../command.js';
import { formatAstring, type ByteString } from '../proto/formatter.js';
import { COMMAND_TEXT, commandErrorText } from '../proto/errors.js';
import type { ImapArg } from '../proto/values.js';
import type { ImapSession } from '../session.js';

/** The refusal when imap_quota is not loaded; undefined when the command exists. */
export function quotaCommandMissing(session: ImapSession, name: string): Completion | undefined {
  if (imapQuotaLoaded(session.settings.mail_plugins)) return undefined;
  return { status: 'BAD', text: commandErrorText('Unknown command', name, true) };
}

/** Dovecot's client_read_string_args: the first `count` arguments as raw strings, or the BAD reply. */
export function stringArgs(args: readonly ImapArg[], count: number, name: string): ByteString[] | Completion {
  if (args.length < count) return { status: 'BAD', text: commandErrorText('Missing arguments', name, true) };
  const out: ByteString[] = [];
  for (const a of args.slice(0, count)) {
    if (a.type === 'atom') out.push(a.value);
    else if (a.type === 'quoted' || a.type === 'literal') out.push(a.bytes.toString('latin1'));
    else if (a.type === 'nil') out.push('NIL');
    else return { status: 'BAD', text: commandErrorText(COMMAND_TEXT.invalidArguments, name, true) };
  }
  return out;
}

const configs = new WeakMap<ImapSession, QuotaConfig | null>();

/** The session user's quota configuration (undefined: no quota root); the userdb is asked once. */
export async function sessionQuota(session: ImapSession): Promise<QuotaConfig | undefined> {
  const known = configs.get(session);
  if (known !== undefined) return known ?? undefined;
  const user = session.user!;
  const r = await session.deps.auth.userLookup(user, {
    service: 'imap', rip: session.io.remoteIp, lip: session.io.localIp, session: session.id,
  });
  if (r.kind !== 'found') {
    throw new StorageError('TEMP', INTERNAL_ERROR_TEXT, r.kind === 'fail' ? `quota: userdb lookup failed: ${r.reason}` : `quota: User no longer exists: ${user}`);
  }
  const qc = quotaConfig(session.settings.mail_plugins, session.settings.plugin, r.fields);
  configs.set(session, qc ?? null);
  return qc;
}

const kib = (bytes: number): number => Math.ceil(bytes / 1024);

/** The `* QUOTA` line's text for the root, or undefined when no resource has a limit. */
export async function quotaLine(session: ImapSession, qc: QuotaConfig): Promise<ByteString | undefined> {
  if (qc.root.bytes <= 0 && qc.root.messages <= 0) return undefined;
  const usage = await openQuota(session.store!, quotaRootOf(qc)).usage();
  const res: string[] = [];
  if (qc.root.bytes > 0) res.push(`STORAGE ${kib(usage.bytes)} ${kib(qc.root.bytes)}`);
  if (qc.root.messages > 0) res.push(`MESSAGE ${usage.count} ${qc.root.messages}`);
  return `QUOTA ${formatAstring(rootName(qc))} (${res.join(' ')})`;
}

/** The root name as the client sees it (UTF-8 bytes, as Dovecot sends its setting text). */
export function rootName(qc: QuotaConfig): ByteString {
  return Buffer.from(qc.name, 'utf8').toString('latin1');
}
