/*
 * The auth service's view of the MDA settings table (mda/settings.ts). The service sees only this typed
 * object; config-adapter.ts builds it from dovecot.conf and tests build it with authSettingsFromText().
 * Declares no defaults of its own.
 *
 * Dovecot behaviour kept: `disable_plaintext_auth` is enforced by the login processes, not by the
 * auth server (observed: an auth-client AUTH PLAIN without `secured` succeeds with the default
 * `yes`), so the server only enforces it when `postern_auth_enforce_plaintext_policy` — Postern-only,
 * default no — asks for it. Limits are parameters too (postern_auth_max_line_length,
 * postern_auth_max_pending_requests). auth_failure_delay is converted to milliseconds here.
 * Distrusts: config text handed to authSettingsFromText (a bad value is a RangeError naming the setting).
 */
import { mdaValuesFromText, millis, settingDefaults, type MdaValues } from '../settings.js';

export interface AuthSettings {
  /** Enabled mechanisms, upper case (auth_mechanisms = plain login). */
  auth_mechanisms: string[];
  disable_plaintext_auth: boolean;
  /** Postern-only: make the auth-client server refuse plaintext mechanisms without `secured`. */
  postern_auth_enforce_plaintext_policy: boolean;
  /** Milliseconds a failed request's FAIL is held back (auth_failure_delay = 2 secs). */
  auth_failure_delay: number;
  auth_username_chars: string;
  auth_username_format: string;
  auth_default_realm: string;
  /** Log unknown user / Password mismatch lines at info level. */
  auth_verbose: boolean;
  /** hostname used in CRAM-MD5 challenges. */
  hostname: string;
  /** Postern-only: longest accepted line on an auth socket, bytes. */
  postern_auth_max_line_length: number;
  /** Postern-only: unanswered requests one client connection may have in flight. */
  postern_auth_max_pending_requests: number;
}

const KEYS = [
  'auth_mechanisms', 'disable_plaintext_auth', 'postern_auth_enforce_plaintext_policy', 'auth_failure_delay',
  'auth_username_chars', 'auth_username_format', 'auth_default_realm', 'auth_verbose', 'hostname',
  'postern_auth_max_line_length', 'postern_auth_max_pending_requests',
] as const satisfies readonly (keyof AuthSettings)[];

/** The defaults of the settings auth reads, as config text (taken from the table). */
export const AUTH_SETTING_DEFAULTS: Readonly<Record<keyof AuthSettings, string>> = settingDefaults(KEYS);

/** The auth view of already-read values; `hostname` stands in when the setting is empty. */
export function authSettings(s: MdaValues, hostname = ''): AuthSettings {
  return {
    auth_mechanisms: s.auth_mechanisms.split(/[\s,]+/).filter((m) => m !== '').map((m) => m.toUpperCase()),
    disable_plaintext_auth: s.disable_plaintext_auth,
    postern_auth_enforce_plaintext_policy: s.postern_auth_enforce_plaintext_policy,
    auth_failure_delay: millis(s.auth_failure_delay),
    auth_username_chars: s.auth_username_chars,
    auth_username_format: s.auth_username_format,
    auth_default_realm: s.auth_default_realm,
    auth_verbose: s.auth_verbose,
    hostname: s.hostname !== '' ? s.hostname : hostname,
    postern_auth_max_line_length: s.postern_auth_max_line_length,
    postern_auth_max_pending_requests: s.postern_auth_max_pending_requests,
  };
}

/** Builds settings from config text values; missing keys take the table's defaults. */
export function authSettingsFromText(values: Partial<Record<keyof AuthSettings, string>> = {}, hostname = ''): AuthSettings {
  return authSettings(mdaValuesFromText(values), hostname);
}
