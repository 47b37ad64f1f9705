/*
 * The auth service's parameters, spelled as Dovecot 2.3 spells them, with defaults written as
 * config text (`doveconf -d`). The service sees only this typed object; config/ builds it from
 * dovecot.conf and tests build it directly.
 *
 * Dovecot behaviour kept: `disable_plaintext_auth` is enforced by the login processes, not by the
 * auth server (observed: an auth-client AUTH PLAIN without `secured` succeeds with the default
 * `yes`), so the server only enforces it when `auth_enforce_plaintext_policy` — a Postern
 * extension, default no — asks for it. Limits are parameters too.
 */

export interface AuthSettings {
  /** Enabled mechanisms, upper case (auth_mechanisms = plain login). */
  auth_mechanisms: string[];
  disable_plaintext_auth: boolean;
  /** Postern extension: make the auth-client server refuse plaintext mechanisms without `secured`. */
  auth_enforce_plaintext_policy: boolean;
  /** Milliseconds a failed request's FAIL is held back (auth_failure_delay = 2 secs). */
  auth_failure_delay: number;
  auth_username_chars: string;
  auth_username_format: string;
  auth_default_realm: string;
  /** Log unknown user / Password mismatch lines at info level. */
  auth_verbose: boolean;
  /** hostname used in CRAM-MD5 challenges. */
  hostname: string;
  /** Longest accepted line on an auth socket, bytes. */
  auth_max_line_length: number;
  /** Unanswered requests one client connection may have in flight. */
  auth_max_pending_requests: number;
}

/** Defaults as config text, the way `doveconf -d` prints them (plus our two limits). */
export const AUTH_SETTING_DEFAULTS: Readonly<Record<keyof AuthSettings, string>> = {
  auth_mechanisms: 'plain',
  disable_plaintext_auth: 'yes',
  auth_enforce_plaintext_policy: 'no',
  auth_failure_delay: '2 secs',
  auth_username_chars: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@',
  auth_username_format: '%Lu',
  auth_default_realm: '',
  auth_verbose: 'no',
  hostname: '',
  auth_max_line_length: '16384',
  auth_max_pending_requests: '100',
};

function bool(v: string, key: string): boolean {
  const t = v.trim().toLowerCase();
  if (t === 'yes') return true;
  if (t === 'no') return false;
  throw new RangeError(`${key}: invalid boolean value: ${v}`);
}

const TIME_UNITS: [RegExp, number][] = [
  [/^(ms|msecs?|milliseconds?)$/i, 1], [/^(s|secs?|seconds?)$/i, 1000], [/^(m|mins?|minutes?)$/i, 60_000],
  [/^(h|hours?)$/i, 3_600_000], [/^(d|days?)$/i, 86_400_000],
];

/** A Dovecot time value in milliseconds ("2 secs", "500 msecs"; a bare 0 is allowed). */
export function timeMs(v: string, key: string): number {
  const m = /^\s*([0-9]+)\s*([a-z]*)\s*$/i.exec(v);
  if (m) {
    const n = Number(m[1]);
    if (m[2] === '' && n === 0) return 0;
    for (const [re, mul] of TIME_UNITS) if (re.test(m[2]!)) return n * mul;
  }
  throw new RangeError(`${key}: invalid time value: ${v}`);
}

function uint(v: string, key: string): number {
  if (!/^\s*[0-9]+\s*$/.test(v)) throw new RangeError(`${key}: invalid number: ${v}`);
  return Number(v);
}

/** Builds settings from config text values; missing keys take their defaults. */
export function authSettingsFromText(values: Partial<Record<keyof AuthSettings, string>> = {}, hostname = ''): AuthSettings {
  const v = (k: keyof AuthSettings): string => values[k] ?? AUTH_SETTING_DEFAULTS[k];
  return {
    auth_mechanisms: v('auth_mechanisms').split(/[\s,]+/).filter((m) => m !== '').map((m) => m.toUpperCase()),
    disable_plaintext_auth: bool(v('disable_plaintext_auth'), 'disable_plaintext_auth'),
    auth_enforce_plaintext_policy: bool(v('auth_enforce_plaintext_policy'), 'auth_enforce_plaintext_policy'),
    auth_failure_delay: timeMs(v('auth_failure_delay'), 'auth_failure_delay'),
    auth_username_chars: v('auth_username_chars'),
    auth_username_format: v('auth_username_format'),
    auth_default_realm: v('auth_default_realm'),
    auth_verbose: bool(v('auth_verbose'), 'auth_verbose'),
    hostname: values.hostname ?? hostname,
    auth_max_line_length: uint(v('auth_max_line_length'), 'auth_max_line_length'),
    auth_max_pending_requests: uint(v('auth_max_pending_requests'), 'auth_max_pending_requests'),
  };
}
