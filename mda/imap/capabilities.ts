/*
 * CAPABILITY strings, as Dovecot 2.3 builds them (reference dovecot.md §3.1):
 *  - pre-login (imap-login): `IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+`, then
 *    `STARTTLS` when TLS is configured and not yet active, then `LOGINDISABLED` when plaintext auth
 *    is refused on this connection, then `AUTH=` for every mechanism usable on it (plaintext
 *    mechanisms are hidden on an insecure connection with disable_plaintext_auth = yes);
 *  - post-login: Dovecot's default list in Dovecot's order, restricted to what Postern implements
 *    completely (docs/imap-capabilities.md lists the rest). LITERAL+ keeps its second position at the
 *    end as in Dovecot's string (once only: the duplicate is a Dovecot quirk clients ignore);
 *  - `QUOTA` (RFC 2087) last, when the imap_quota plugin is loaded: Dovecot 2.3 advertises it whenever
 *    `mail_plugins` for imap has imap_quota (which needs quota), whether or not a quota root is set
 *    (observed: `… NOTIFY QUOTA`; with more plugins `… SPECIAL-USE COMPRESS=DEFLATE QUOTA ACL`).
 *
 * `imap_capability` (observed on Dovecot 2.3.19, test/mda/imap/capability-setting.test.ts): empty keeps the lists
 * above. `+TEXT` appends TEXT, with one space, to the built-in part of both lists: pre-login before `LITERAL+`
 * (`… IDLE XFOO LITERAL+ STARTTLS AUTH=PLAIN`), post-login before `LITERAL+` and what Dovecot adds after it
 * (`… SAVEDATE XFOO LITERAL+ NOTIFY`); a bare `+` leaves a double space, as Dovecot's concatenation does.
 * Any other value replaces both lists whole: pre-login it is followed only by STARTTLS, LOGINDISABLED and
 * `AUTH=` (no LITERAL+), post-login it is the entire list (no LITERAL+, SPECIAL-USE or QUOTA: Dovecot's
 * client_add_capability leaves an explicit list alone). The greeting, CAPABILITY and the login reply's
 * `OK [CAPABILITY …]` all use it.
 */

export interface PreLoginFacts {
  /** A TLS certificate is configured (ssl != no). */
  readonly tlsConfigured: boolean;
  readonly tlsActive: boolean;
  /** TLS, or remote IP == local IP (Dovecot's "secured"). */
  readonly secured: boolean;
  readonly disablePlaintextAuth: boolean;
  /** auth_mechanisms, upper case, with whether each is a plaintext mechanism. */
  readonly mechanisms: readonly { name: string; plaintext: boolean }[];
  /** `imap_capability` under `protocol imap` ('' when omitted). */
  readonly imapCapability?: string;
}

const PRE_LOGIN_BANNER = 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE';

/** The built-in part of a list with `imap_capability` applied, and whether it is explicit (a full replacement). */
function withOverride(builtIn: string, imapCapability: string): { caps: string; explicit: boolean } {
  if (imapCapability === '') return { caps: builtIn, explicit: false };
  if (!imapCapability.startsWith('+')) return { caps: imapCapability, explicit: true };
  return { caps: `${builtIn} ${imapCapability.slice(1)}`, explicit: false };
}

/** Plaintext auth is refused on this connection. */
export function plaintextDisabled(f: Pick<PreLoginFacts, 'secured' | 'disablePlaintextAuth'>): boolean {
  return f.disablePlaintextAuth && !f.secured;
}

export function preLoginCapability(f: PreLoginFacts): string {
  const base = withOverride(PRE_LOGIN_BANNER, f.imapCapability ?? '');
  const caps = [base.caps];
  if (!base.explicit) caps.push('LITERAL+');
  if (f.tlsConfigured && !f.tlsActive) caps.push('STARTTLS');
  const noPlain = plaintextDisabled(f);
  if (noPlain) caps.push('LOGINDISABLED');
  for (const m of f.mechanisms) {
    if (m.plaintext && noPlain) continue;
    caps.push(`AUTH=${m.name}`);
  }
  return caps.join(' ');
}

/**
 * Dovecot 2.3's post-login list with every capability we do not implement completely removed.
 * The full Dovecot list, for reference: IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT
 * SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE
 * UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT
 * SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW
 * STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE.
 */
export const POST_LOGIN_CAPABILITIES: readonly string[] = [
  'IMAP4rev1', 'SASL-IR', 'LOGIN-REFERRALS', 'ID', 'ENABLE', 'IDLE', 'SORT', 'SORT=DISPLAY',
  'THREAD=REFERENCES', 'THREAD=REFS', 'THREAD=ORDEREDSUBJECT',
  'MULTIAPPEND', 'UNSELECT', 'CHILDREN', 'NAMESPACE', 'UIDPLUS', 'LIST-EXTENDED', 'I18NLEVEL=1',
  'CONDSTORE', 'QRESYNC', 'ESEARCH', 'ESORT', 'SEARCHRES', 'WITHIN', 'CONTEXT=SEARCH',
  'LIST-STATUS', 'BINARY', 'MOVE', 'STATUS=SIZE', 'SAVEDATE', 'LITERAL+', 'SPECIAL-USE',
];

/** imap_quota is loaded (Dovecot refuses to load it without quota, so both must be listed). */
export function imapQuotaLoaded(mailPlugins: readonly string[]): boolean {
  return mailPlugins.includes('imap_quota') && mailPlugins.includes('quota');
}

/**
 * The post-login list; `s` is the ImapSettings (`mail_plugins` for imap_quota, `imap_capability`, the
 * namespace mailboxes), defaults when omitted. SPECIAL-USE is advertised only when some mailbox has a
 * `special_use` (Dovecot's imap client_create: "only if there are actually some SPECIAL-USE flags in mailbox
 * configuration"), which Debian's stock 15-mailboxes.conf has and Dovecot's built-in defaults do not.
 */
export function postLoginCapability(s?: {
  readonly mail_plugins: readonly string[];
  readonly imap_capability?: string;
  readonly mailboxes?: readonly { readonly specialUse?: string | undefined }[];
}): string {
  const at = POST_LOGIN_CAPABILITIES.indexOf('LITERAL+');
  const base = withOverride(POST_LOGIN_CAPABILITIES.slice(0, at).join(' '), s?.imap_capability ?? '');
  if (base.explicit) return base.caps;
  const specialUse = (s?.mailboxes ?? []).some((m) => m.specialUse !== undefined);
  const caps = [base.caps, ...POST_LOGIN_CAPABILITIES.slice(at).filter((c) => c !== 'SPECIAL-USE' || specialUse)];
  if (s !== undefined && imapQuotaLoaded(s.mail_plugins)) caps.push('QUOTA');
  return caps.join(' ');
}

/** ENABLE-able extensions (RFC 5161) that we implement. */
export const ENABLEABLE: readonly string[] = ['CONDSTORE', 'QRESYNC'];
