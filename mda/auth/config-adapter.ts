/*
 * The thin adapter from a parsed dovecot.conf (shared/config/dovecot/config.ts) to the auth
 * service's own options: settings, passdb/userdb chains and the unix_listeners of `service auth`.
 * Drivers: passwd-file (passdb, userdb) and static (userdb). Listeners served: auth-client,
 * auth-userdb, auth-master and any absolute path (Postfix's /var/spool/postfix/private/auth);
 * login/*, token-login/* and auth-login belong to Dovecot's separate login processes, which
 * Postern runs in-process, so they are skipped. Relative paths are under base_dir;
 * `$default_internal_user` style values are expanded from the configuration.
 *
 * Distrusts the configuration only as far as reporting an unsupported driver (typed error).
 */
import { hostname as osHostname } from 'node:os';
import { isAbsolute, join, basename } from 'node:path';
import type { DovecotConfig } from '../../shared/config/dovecot/config.js';
import { AuthService, type DbSection } from './auth-service.js';
import { authSettingsFromText, type AuthSettings } from './settings.js';
import { PasswdFileCache, parsePasswdFileArgs, passwdFilePassdb, passwdFileUserdb } from './passwd-file.js';
import { staticUserdb } from './static-userdb.js';
import type { Passdb, Userdb } from './db.js';
import type { AuthListener } from './server.js';
import { AuthBackendError } from './errors.js';
import type { AuthLog } from './log.js';

const CONFIG_KEYS: readonly (keyof AuthSettings)[] = [
  'auth_mechanisms', 'disable_plaintext_auth', 'auth_failure_delay', 'auth_username_chars',
  'auth_username_format', 'auth_default_realm', 'auth_verbose',
];

function expandDollar(cfg: DovecotConfig, v: string): string {
  return v.replace(/\$([a-z_]+)/g, (m, name: string) => {
    try {
      return cfg.get(name);
    } catch {
      return m;
    }
  });
}

export interface AuthFromConfig {
  service: AuthService;
  listeners: AuthListener[];
}

export function authFromDovecotConfig(cfg: DovecotConfig, log?: AuthLog): AuthFromConfig {
  const values: Partial<Record<keyof AuthSettings, string>> = {};
  for (const k of CONFIG_KEYS) values[k] = cfg.get(k);
  const host = cfg.get('hostname');
  values.hostname = host !== '' ? host : osHostname();
  const settings = authSettingsFromText(values);

  const cache = new PasswdFileCache(log);
  const passdbs: DbSection<Passdb>[] = cfg.passdbs().map((p) => {
    const driver = p.get('driver');
    if (driver !== 'passwd-file') throw new AuthBackendError(driver, 'Unknown passdb driver');
    return {
      db: passwdFilePassdb(parsePasswdFileArgs(p.get('args')), cache),
      default_fields: p.get('default_fields'),
      override_fields: p.get('override_fields'),
    };
  });
  const userdbs: DbSection<Userdb>[] = cfg.userdbs().map((u) => {
    const driver = u.get('driver');
    let db: Userdb;
    if (driver === 'passwd-file') db = passwdFileUserdb(parsePasswdFileArgs(u.get('args')), cache);
    else if (driver === 'static') db = staticUserdb(u.get('args'), passdbs.map((p) => p.db));
    else throw new AuthBackendError(driver, 'Unknown userdb driver');
    return { db, default_fields: u.get('default_fields'), override_fields: u.get('override_fields') };
  });

  const listeners: AuthListener[] = [];
  const baseDir = cfg.get('base_dir');
  for (const l of cfg.service('auth')?.sections('unix_listener') ?? []) {
    const name = l.name;
    const base = basename(name);
    let kind: AuthListener['kind'];
    if (base === 'auth-userdb') kind = 'auth-userdb';
    else if (base === 'auth-master') kind = 'auth-master';
    else if (base === 'auth-client' || isAbsolute(name)) kind = 'auth-client';
    else continue;
    const user = expandDollar(cfg, l.get('user'));
    const group = expandDollar(cfg, l.get('group'));
    listeners.push({
      kind,
      path: isAbsolute(name) ? name : join(baseDir, name),
      mode: Number.parseInt(l.get('mode'), 8),
      ...(user !== '' ? { user } : {}),
      ...(group !== '' ? { group } : {}),
    });
  }
  return { service: new AuthService({ settings, passdbs, userdbs, ...(log ? { log } : {}) }), listeners };
}
