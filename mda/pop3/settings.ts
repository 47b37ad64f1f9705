/*
 * The POP3 service's view of the MDA settings table (mda/settings.ts): the pop3-login + pop3 settings of
 * Dovecot 2.3 as `protocol pop3 { }` sees them, and the Postern-only limits Dovecot hard-codes
 * (postern_pop3_*: line lengths 1031/2048, bad commands 3/20, idle 3/10 minutes, session-lock wait 10 s; see
 * the table for what each means). Declares no defaults: every value and default comes from the table.
 * Times are converted to milliseconds here, the unit the socket code uses.
 * Distrusts: config text handed to pop3SettingsFromText (a bad value is a RangeError naming the setting).
 */
import type { DovecotConfig } from '../../shared/config/dovecot/config.js';
import {
  mdaValuesFromText, millis, readMdaSettings, serviceInetListeners, settingDefaults, type InetListener, type MdaValues,
} from '../settings.js';

export type Pop3Listener = InetListener;

export interface Pop3Settings {
  login_greeting: string;
  disable_plaintext_auth: boolean;
  /** `ssl = no|yes|required`. */
  ssl: 'no' | 'yes' | 'required';
  /** TLS protocol floor, cipher list and order for pop3s and STLS (mda/tls-context.ts). */
  ssl_min_protocol: string;
  ssl_cipher_list: string;
  ssl_prefer_server_ciphers: boolean;
  pop3_uidl_format: string;
  pop3_no_flag_updates: boolean;
  pop3_deleted_flag: string;
  pop3_lock_session: boolean;
  pop3_enable_last: boolean;
  pop3_logout_format: string;
  /** `default` (expunge, or flag when pop3_deleted_flag is set), `expunge`, `flag`. */
  pop3_delete_type: 'default' | 'expunge' | 'flag';
  postern_pop3_login_max_line_length: number;
  postern_pop3_max_line_length: number;
  postern_pop3_login_max_bad_commands: number;
  postern_pop3_max_bad_commands: number;
  /** Milliseconds. */
  postern_pop3_login_idle_timeout: number;
  postern_pop3_idle_timeout: number;
  postern_pop3_lock_timeout: number;
}

const KEYS = [
  'login_greeting', 'disable_plaintext_auth', 'ssl', 'ssl_min_protocol', 'ssl_cipher_list', 'ssl_prefer_server_ciphers', 'pop3_uidl_format', 'pop3_no_flag_updates', 'pop3_deleted_flag',
  'pop3_lock_session', 'pop3_enable_last', 'pop3_logout_format', 'pop3_delete_type',
  'postern_pop3_login_max_line_length', 'postern_pop3_max_line_length', 'postern_pop3_login_max_bad_commands',
  'postern_pop3_max_bad_commands', 'postern_pop3_login_idle_timeout', 'postern_pop3_idle_timeout', 'postern_pop3_lock_timeout',
] as const satisfies readonly (keyof Pop3Settings)[];

/** The defaults of the settings POP3 reads, as config text (taken from the table). */
export const POP3_SETTING_DEFAULTS: Readonly<Record<keyof Pop3Settings, string>> = settingDefaults(KEYS);

/** The POP3 view of already-read values. */
export function pop3Settings(s: MdaValues): Pop3Settings {
  return {
    login_greeting: s.login_greeting,
    disable_plaintext_auth: s.disable_plaintext_auth,
    ssl: s.ssl as Pop3Settings['ssl'],
    ssl_min_protocol: s.ssl_min_protocol,
    ssl_cipher_list: s.ssl_cipher_list,
    ssl_prefer_server_ciphers: s.ssl_prefer_server_ciphers,
    pop3_uidl_format: s.pop3_uidl_format,
    pop3_no_flag_updates: s.pop3_no_flag_updates,
    pop3_deleted_flag: s.pop3_deleted_flag,
    pop3_lock_session: s.pop3_lock_session,
    pop3_enable_last: s.pop3_enable_last,
    pop3_logout_format: s.pop3_logout_format,
    pop3_delete_type: s.pop3_delete_type as Pop3Settings['pop3_delete_type'],
    postern_pop3_login_max_line_length: s.postern_pop3_login_max_line_length,
    postern_pop3_max_line_length: s.postern_pop3_max_line_length,
    postern_pop3_login_max_bad_commands: s.postern_pop3_login_max_bad_commands,
    postern_pop3_max_bad_commands: s.postern_pop3_max_bad_commands,
    postern_pop3_login_idle_timeout: millis(s.postern_pop3_login_idle_timeout),
    postern_pop3_idle_timeout: millis(s.postern_pop3_idle_timeout),
    postern_pop3_lock_timeout: millis(s.postern_pop3_lock_timeout),
  };
}

/** Builds settings from config text; missing keys take the table's defaults. */
export function pop3SettingsFromText(values: Partial<Record<keyof Pop3Settings, string>> = {}): Pop3Settings {
  return pop3Settings(mdaValuesFromText(values));
}

/** Reads the POP3 settings as `protocol pop3 { }` sees them. */
export function pop3SettingsFromConfig(cfg: DovecotConfig): Pop3Settings {
  return pop3Settings(readMdaSettings(cfg, { protocol: 'pop3' }));
}

/** The listeners of `service pop3-login` (port 0 disables one; empty address means every `listen` address). */
export function pop3ListenersFromConfig(cfg: DovecotConfig): Pop3Listener[] {
  return serviceInetListeners(readMdaSettings(cfg), 'pop3-login');
}
