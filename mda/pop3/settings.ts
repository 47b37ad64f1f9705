/*
 * The POP3 service's parameters (pop3-login + pop3 in Dovecot 2.3), spelled as Dovecot spells them, with defaults
 * written as config text (`doveconf -d` on 2.3.19). Limits Dovecot hard-codes are parameters here too, under
 * `postern_` names, with Dovecot's observed values as defaults:
 *   - pop3-login accepts a command line of at most 1031 octets (CRLF included), then answers
 *     `-ERR Input buffer full, aborting` and disconnects (observed on 2.3.19);
 *   - pop3 (after login) reads into a 2048-octet buffer (MAX_INBUF_SIZE), then `-ERR Input line too long.`;
 *   - pop3-login disconnects on the 3rd bad command in a row, pop3 after more than 20 (CLIENT_MAX_BAD_COMMANDS);
 *   - idle: 3 minutes before login (login process), 10 minutes after (CLIENT_IDLE_TIMEOUT_MSECS);
 *   - pop3_lock_session waits 10 seconds for the session lock (dotlock timeout).
 * Distrusts: config text (a bad value is a RangeError naming the setting).
 */
import type { DovecotConfig } from '../../shared/config/dovecot/config.js';

export interface Pop3Listener {
  /** `inet_listener` name: pop3, pop3s. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Implicit TLS (`ssl = yes` in the listener). */
  readonly ssl: boolean;
}

export interface Pop3Settings {
  login_greeting: string;
  disable_plaintext_auth: boolean;
  /** `ssl = no|yes|required`. */
  ssl: 'no' | 'yes' | 'required';
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

export const POP3_SETTING_DEFAULTS: Readonly<Record<keyof Pop3Settings, string>> = {
  login_greeting: 'Dovecot ready.',
  disable_plaintext_auth: 'yes',
  ssl: 'yes',
  pop3_uidl_format: '%08Xu%08Xv',
  pop3_no_flag_updates: 'no',
  pop3_deleted_flag: '',
  pop3_lock_session: 'no',
  pop3_enable_last: 'no',
  pop3_logout_format: 'top=%t/%p, retr=%r/%b, del=%d/%m, size=%s',
  pop3_delete_type: 'default',
  postern_pop3_login_max_line_length: '1031',
  postern_pop3_max_line_length: '2048',
  postern_pop3_login_max_bad_commands: '3',
  postern_pop3_max_bad_commands: '20',
  postern_pop3_login_idle_timeout: '3 mins',
  postern_pop3_idle_timeout: '10 mins',
  postern_pop3_lock_timeout: '10 secs',
};

function bool(v: string, key: string): boolean {
  const t = v.trim().toLowerCase();
  if (t === 'yes') return true;
  if (t === 'no') return false;
  throw new RangeError(`${key}: invalid boolean value: ${v}`);
}

function uint(v: string, key: string): number {
  if (!/^\s*[0-9]+\s*$/.test(v)) throw new RangeError(`${key}: invalid number: ${v}`);
  return Number(v);
}

const UNITS: [RegExp, number][] = [
  [/^(ms|msecs?|milliseconds?)$/i, 1], [/^(s|secs?|seconds?|)$/i, 1000], [/^(m|mins?|minutes?)$/i, 60_000],
  [/^(h|hours?)$/i, 3_600_000], [/^(d|days?)$/i, 86_400_000],
];

function timeMs(v: string, key: string): number {
  const m = /^\s*([0-9]+)\s*([a-z]*)\s*$/i.exec(v);
  if (m) for (const [re, mul] of UNITS) if (re.test(m[2]!)) return Number(m[1]) * mul;
  throw new RangeError(`${key}: invalid time value: ${v}`);
}

function oneOf<T extends string>(v: string, key: string, allowed: readonly T[]): T {
  const t = v.trim().toLowerCase() as T;
  if (!allowed.includes(t)) throw new RangeError(`${key}: invalid value: ${v}`);
  return t;
}

/** Builds settings from config text; missing keys take their defaults. */
export function pop3SettingsFromText(values: Partial<Record<keyof Pop3Settings, string>> = {}): Pop3Settings {
  const v = (k: keyof Pop3Settings): string => values[k] ?? POP3_SETTING_DEFAULTS[k];
  return {
    login_greeting: v('login_greeting'),
    disable_plaintext_auth: bool(v('disable_plaintext_auth'), 'disable_plaintext_auth'),
    ssl: oneOf(v('ssl'), 'ssl', ['no', 'yes', 'required'] as const),
    pop3_uidl_format: v('pop3_uidl_format'),
    pop3_no_flag_updates: bool(v('pop3_no_flag_updates'), 'pop3_no_flag_updates'),
    pop3_deleted_flag: v('pop3_deleted_flag'),
    pop3_lock_session: bool(v('pop3_lock_session'), 'pop3_lock_session'),
    pop3_enable_last: bool(v('pop3_enable_last'), 'pop3_enable_last'),
    pop3_logout_format: v('pop3_logout_format'),
    pop3_delete_type: oneOf(v('pop3_delete_type'), 'pop3_delete_type', ['default', 'expunge', 'flag'] as const),
    postern_pop3_login_max_line_length: uint(v('postern_pop3_login_max_line_length'), 'postern_pop3_login_max_line_length'),
    postern_pop3_max_line_length: uint(v('postern_pop3_max_line_length'), 'postern_pop3_max_line_length'),
    postern_pop3_login_max_bad_commands: uint(v('postern_pop3_login_max_bad_commands'), 'postern_pop3_login_max_bad_commands'),
    postern_pop3_max_bad_commands: uint(v('postern_pop3_max_bad_commands'), 'postern_pop3_max_bad_commands'),
    postern_pop3_login_idle_timeout: timeMs(v('postern_pop3_login_idle_timeout'), 'postern_pop3_login_idle_timeout'),
    postern_pop3_idle_timeout: timeMs(v('postern_pop3_idle_timeout'), 'postern_pop3_idle_timeout'),
    postern_pop3_lock_timeout: timeMs(v('postern_pop3_lock_timeout'), 'postern_pop3_lock_timeout'),
  };
}

const DOVECOT_KEYS = [
  'login_greeting', 'disable_plaintext_auth', 'ssl', 'pop3_uidl_format', 'pop3_no_flag_updates', 'pop3_deleted_flag',
  'pop3_lock_session', 'pop3_enable_last', 'pop3_logout_format', 'pop3_delete_type',
] as const;

/** Reads the POP3 settings as `protocol pop3 { }` sees them. */
export function pop3SettingsFromConfig(cfg: DovecotConfig): Pop3Settings {
  const values: Partial<Record<keyof Pop3Settings, string>> = {};
  for (const k of DOVECOT_KEYS) values[k] = cfg.get(k, { protocol: 'pop3' });
  return pop3SettingsFromText(values);
}

/**
 * The listeners of `service pop3-login`: each inet_listener with a port other than 0, on its `address` or, when
 * empty, on every address of `listen` (`*, ::` by default).
 */
export function pop3ListenersFromConfig(cfg: DovecotConfig): Pop3Listener[] {
  const svc = cfg.service('pop3-login');
  if (svc === undefined) return [];
  const out: Pop3Listener[] = [];
  const listen = cfg.get('listen');
  for (const l of svc.sections('inet_listener')) {
    const port = Number(l.get('port'));
    if (!Number.isInteger(port) || port <= 0) continue;
    const addrText = l.get('address') !== '' ? l.get('address') : listen;
    for (const raw of addrText.split(/[\s,]+/).filter((a) => a !== '')) {
      const address = raw === '*' ? '0.0.0.0' : raw === '[::]' ? '::' : raw;
      out.push({ name: l.name, address, port, ssl: l.get('ssl') === 'yes' });
    }
  }
  return out;
}
