/*
 * The IMAP server's view of the MDA settings table (mda/settings.ts): the imap-login + imap settings of
 * Dovecot 2.3 as `protocol imap { }` sees them, the listeners of `service imap-login { inet_listener imap/imaps }`,
 * and the inbox namespace's `mailbox { special_use auto }` blocks. main.ts builds it with
 * imapSettingsFromConfig(); tests with imapSettingsFromText(). Declares no defaults of its own.
 *
 * Postern-only limits (postern_imap_*, declared in the table): the APPEND literal limit, the bad-command
 * limits Dovecot hard-codes (imap-login: 3, imap: 20) and the pre-/post-login idle timeouts.
 * Times are converted to milliseconds here, the unit the socket code uses. `mail_plugins` (split) and the
 * `plugin { }` section are kept for the imap_quota plugin (commands/quota-support.ts).
 * Distrusts: config text handed to imapSettingsFromText (a bad value is a RangeError naming the setting).
 */
import type { DovecotConfig } from '../../shared/config/dovecot/config.js';
import type { SpecialUse } from '../storage/api.js';
import {
  inboxNamespace, mdaValuesFromText, millis, readMdaSettings, serviceInetListeners, settingDefaults,
  type InetListener, type MdaSettings, type MdaValues,
} from '../settings.js';

export interface AutoMailbox {
  readonly name: string;
  readonly specialUse: SpecialUse | undefined;
  readonly auto: 'no' | 'create' | 'subscribe';
}

export type ImapListener = InetListener;

export interface ImapSettings {
  login_greeting: string;
  /** Bytes of one command line outside literals (imap_max_line_length = 64 k). */
  imap_max_line_length: number;
  /** ms between `* OK Still here` in IDLE. */
  imap_idle_notify_interval: number;
  /**
   * ms between IDLE's own checks of the selected mailbox, behind fs.watch and Postern's writers; at
   * least IDLE_CHECK_FLOOR_MS (0 would be a check per event-loop turn per session in IDLE).
   */
  mailbox_idle_check_interval: number;
  disable_plaintext_auth: boolean;
  ssl: 'no' | 'yes' | 'required';
  /** TLS protocol floor, cipher list and order for imaps and STARTTLS (mda/tls-context.ts). */
  ssl_min_protocol: string;
  ssl_cipher_list: string;
  ssl_prefer_server_ciphers: boolean;
  /** '' = the built-in lists, `+EXTRA` appends, anything else replaces (capabilities.ts). */
  imap_capability: string;
  /** 0 = unlimited. */
  mail_max_userip_connections: number;
  /** Postern: ms a client may take to log in. */
  postern_imap_login_idle_timeout: number;
  /** Postern: ms of client inactivity after login before disconnecting. */
  postern_imap_idle_timeout: number;
  /** Postern: largest APPEND literal in bytes (Dovecot 2.3 has no limit but quota). */
  postern_imap_max_append_size: number;
  /** Postern: bad commands before `* BYE Too many invalid IMAP commands.` (pre-login, post-login). */
  postern_imap_max_bad_commands_prelogin: number;
  postern_imap_max_bad_commands: number;
  /** `mail_plugins` under `protocol imap`, split (`quota imap_quota` enables the QUOTA extension). */
  mail_plugins: string[];
  /** Namespace mailboxes with special_use / auto. */
  mailboxes: AutoMailbox[];
  /** `plugin { }` under `protocol imap` (quota, quota_rule…). */
  plugin: ReadonlyMap<string, string>;
}

type ValueKey = Exclude<keyof ImapSettings, 'mailboxes' | 'plugin'>;

/** The shortest interval between IDLE's own mailbox checks (see mailbox_idle_check_interval). */
export const IDLE_CHECK_FLOOR_MS = 1000;

const KEYS = [
  'login_greeting', 'imap_max_line_length', 'imap_idle_notify_interval', 'mailbox_idle_check_interval', 'disable_plaintext_auth', 'ssl',
  'ssl_min_protocol', 'ssl_cipher_list', 'ssl_prefer_server_ciphers', 'imap_capability', 'mail_max_userip_connections', 'postern_imap_login_idle_timeout', 'postern_imap_idle_timeout',
  'postern_imap_max_append_size', 'postern_imap_max_bad_commands_prelogin', 'postern_imap_max_bad_commands',
  'mail_plugins',
] as const satisfies readonly ValueKey[];

/** The defaults of the settings IMAP reads, as config text (taken from the table). */
export const IMAP_SETTING_DEFAULTS: Readonly<Record<ValueKey, string>> = settingDefaults(KEYS);

/** `mail_plugins` text as a list (`$mail_plugins` is expanded by the config parser; a leftover is dropped). */
export function splitMailPlugins(text: string): string[] {
  return text.split(/[\s,]+/).filter((p) => p !== '' && !p.startsWith('$'));
}

/** The IMAP view of already-read values (`plugin` from MdaSettings when given). */
export function imapSettings(s: MdaValues & { readonly plugin?: ReadonlyMap<string, string> }, mailboxes: AutoMailbox[] = []): ImapSettings {
  return {
    login_greeting: s.login_greeting,
    imap_max_line_length: s.imap_max_line_length,
    imap_idle_notify_interval: millis(s.imap_idle_notify_interval),
    mailbox_idle_check_interval: Math.max(IDLE_CHECK_FLOOR_MS, millis(s.mailbox_idle_check_interval)),
    disable_plaintext_auth: s.disable_plaintext_auth,
    ssl: s.ssl as ImapSettings['ssl'],
    ssl_min_protocol: s.ssl_min_protocol,
    ssl_cipher_list: s.ssl_cipher_list,
    ssl_prefer_server_ciphers: s.ssl_prefer_server_ciphers,
    imap_capability: s.imap_capability,
    mail_max_userip_connections: s.mail_max_userip_connections,
    postern_imap_login_idle_timeout: millis(s.postern_imap_login_idle_timeout),
    postern_imap_idle_timeout: millis(s.postern_imap_idle_timeout),
    postern_imap_max_append_size: s.postern_imap_max_append_size,
    postern_imap_max_bad_commands_prelogin: s.postern_imap_max_bad_commands_prelogin,
    postern_imap_max_bad_commands: s.postern_imap_max_bad_commands,
    mail_plugins: splitMailPlugins(s.mail_plugins),
    mailboxes,
    plugin: s.plugin ?? new Map(),
  };
}

/** Settings from config-text values; missing keys take the table's defaults; `plugin` is the `plugin { }` section. */
export function imapSettingsFromText(
  values: Partial<Record<ValueKey, string>> = {},
  mailboxes: AutoMailbox[] = [],
  plugin: Readonly<Record<string, string>> = {},
): ImapSettings {
  return imapSettings({ ...mdaValuesFromText(values), plugin: new Map(Object.entries(plugin)) }, mailboxes);
}

const SPECIAL: readonly SpecialUse[] = ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'];

/** The inbox namespace's `mailbox { }` blocks: the first special-use attribute Postern knows, and `auto`. */
export function autoMailboxes(s: MdaSettings): AutoMailbox[] {
  return (inboxNamespace(s)?.mailboxes ?? []).map((mb) => {
    const words = mb.special_use.split(/\s+/).map((w) => w.toLowerCase());
    return {
      name: mb.name,
      specialUse: SPECIAL.find((x) => words.includes(x.toLowerCase())),
      auto: mb.auto === 'create' || mb.auto === 'subscribe' ? mb.auto : 'no',
    };
  });
}

/** Special-use attributes by mailbox name, as openMailStore takes them. */
export function specialUseMap(mailboxes: readonly AutoMailbox[]): Record<string, SpecialUse> {
  const out: Record<string, SpecialUse> = {};
  for (const m of mailboxes) if (m.specialUse !== undefined) out[m.name] = m.specialUse;
  return out;
}

/** Reads the imap settings (filter `protocol imap`) and the inbox namespace's mailboxes. */
export function imapSettingsFromConfig(cfg: DovecotConfig): ImapSettings {
  const s = readMdaSettings(cfg, { protocol: 'imap' });
  return imapSettings(s, autoMailboxes(s));
}

/** `service imap-login { inet_listener imap { port = 143 } inet_listener imaps { port = 993; ssl = yes } }`. */
export function imapListenersFromConfig(cfg: DovecotConfig): ImapListener[] {
  return serviceInetListeners(readMdaSettings(cfg), 'imap-login');
}
