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
}

const PRE_LOGIN_BASE = ['IMAP4rev1', 'SASL-IR', 'LOGIN-REFERRALS', 'ID', 'ENABLE', 'IDLE', 'LITERAL+'];

/** Plaintext auth is refused on this connection. */
export function plaintextDisabled(f: Pick<PreLoginFacts, 'secured' | 'disablePlaintextAuth'>): boolean {
  return f.disablePlaintextAuth && !f.secured;
}

export function preLoginCapability(f: PreLoginFacts): string {
  const caps = [...PRE_LOGIN_BASE];
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

/** The post-login list; `plugins` is `mail_plugins` for imap (ImapSettings), none when omitted. */
export function postLoginCapability(plugins?: { readonly mail_plugins: readonly string[] }): string {
  const caps = [...POST_LOGIN_CAPABILITIES];
  if (plugins !== undefined && imapQuotaLoaded(plugins.mail_plugins)) caps.push('QUOTA');
  return caps.join(' ');
}

/** ENABLE-able extensions (RFC 5161) that we implement. */
export const ENABLEABLE: readonly string[] = ['CONDSTORE', 'QRESYNC'];
