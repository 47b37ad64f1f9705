/*
 * Login-name normalisation, as auth_request_set_username does in Dovecot 2.3: append
 * auth_default_realm when the name has no '@', check every character against
 * auth_username_chars, then apply auth_username_format (default %Lu, so names are lower-cased).
 *
 * Distrusts the name: it comes from the network. Returns a typed refusal with Dovecot's log text
 * instead of throwing.
 */
import { expandVars, userVars } from '../../shared/config/dovecot/var-expand.js';

export type UsernameResult = { ok: true; user: string } | { ok: false; error: string };

export interface UsernameRules {
  auth_username_chars: string;
  auth_username_format: string;
  auth_default_realm: string;
}

export function normalizeUsername(raw: string, rules: UsernameRules, vars: Record<string, string | undefined> = {}): UsernameResult {
  let user = raw;
  if (user === '') return { ok: false, error: 'Empty username' };
  if (!user.includes('@') && rules.auth_default_realm !== '') user = `${user}@${rules.auth_default_realm}`;
  if (rules.auth_username_chars !== '') {
    for (const ch of user) {
      if (!rules.auth_username_chars.includes(ch)) {
        const code = ch.codePointAt(0)!;
        const shown = code >= 0x20 && code < 0x7f ? ch : `0x${code.toString(16).padStart(2, '0')}`;
        return { ok: false, error: `Username character disallowed by auth_username_chars: ${shown} (username: ${sanitize(user)})` };
      }
    }
  }
  if (rules.auth_username_format !== '' && rules.auth_username_format !== '%u') {
    user = expandVars(rules.auth_username_format, { ...vars, ...userVars(user) });
  }
  return { ok: true, user };
}

/** Dovecot's str_sanitize for log lines: control characters become '?', at most 80 characters. */
export function sanitize(s: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
