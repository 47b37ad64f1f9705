/*
 * The one builder of the auth service from a parsed dovecot.conf (used by the MDA daemon, doveadm and tests):
 * settings (the auth view of mda/settings.ts), the passdb/userdb chains, and the unix_listeners of
 * `service auth`. Drivers: passwd-file (passdb, userdb), static (userdb), passwd (userdb, passdb) and
 * shadow (passdb) from system-db.ts; `prefetch` userdbs are skipped (they only repeat what a passdb
 * returned, which Postern's login code asks the userdb for anyway). `pam` (Debian's stock passdb) is
 * refused at start-up with a pointer to `shadow`: libpam cannot be called from Node without a native
 * addon, and running a helper would make the MDA a PAM client Dovecot's admins did not ask for.
 *
 * Listener kinds follow Dovecot 2.3's auth process (auth_socket_type by the name's last `-` suffix):
 * `…-master` is the master protocol, `…-userdb` the userdb protocol, `…-login` and `token-login/*` belong
 * to Dovecot's separate login processes (Postern runs them in-process, so they are skipped), anything else
 * (auth-client, Postfix's /var/spool/postfix/private/auth) speaks the client protocol. Relative paths are
 * under base_dir; `$default_internal_user` style values are expanded from the configuration.
 *
 * Distrusts the configuration only as far as reporting an unsupported driver (typed error).
 */
import { hostname as osHostname } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { DovecotConfig } from '../../shared/config/dovecot/config.js';
import { readMdaSettings } from '../settings.js';
import { AuthService, type DbSection } from './auth-service.js';
import { authSettings } from './settings.js';
import { PasswdFileCache, parsePasswdFileArgs, passwdFilePassdb, passwdFileUserdb } from './passwd-file.js';
import { staticUserdb } from './static-userdb.js';
import { passwdPassdb, passwdUserdb, shadowPassdb } from './system-db.js';
import type { Passdb, Userdb } from './db.js';
import type { AuthListener, AuthListenerKind } from './server.js';
import { AuthBackendError } from './errors.js';
import type { AuthLog } from './log.js';

export interface AuthFromConfig {
  service: AuthService;
  listeners: AuthListener[];
}

/** `$name` references to other settings (`user = $default_internal_user`). */
function expandDollar(cfg: DovecotConfig, v: string): string {
  return v.replace(/\$([a-z_]+)/g, (m, name: string) => {
    try {
      return cfg.get(name);
    } catch {
      return m;
    }
  });
}

/** The kind of an auth unix_listener, or undefined for the login processes' sockets. */
export function authListenerKind(path: string): AuthListenerKind | undefined {
  if (basename(dirname(path)) === 'token-login') return undefined;
  const name = basename(path);
  const suffix = name.includes('-') ? name.slice(name.lastIndexOf('-') + 1) : name;
  if (suffix === 'login') return undefined;
  if (suffix === 'master') return 'auth-master';
  if (suffix === 'userdb') return 'auth-userdb';
  return 'auth-client';
}

/** Where the system drivers read users from (tests point them at fake files). */
export interface SystemFiles {
  passwdFile?: string;
  shadowFile?: string;
}

/** The start-up error for `passdb { driver = pam }`. */
export const PAM_UNSUPPORTED =
  'PAM is not supported by Postern (libpam cannot be called from Node.js without a native addon): ' +
  'use passdb { driver = shadow } to check system users\' passwords in /etc/shadow (run as root), ' +
  'or driver = passwd-file (docs/migration.md)';

function buildPassdb(driver: string, args: string, cache: PasswdFileCache, files: SystemFiles): Passdb {
  switch (driver) {
    case 'passwd-file': return passwdFilePassdb(parsePasswdFileArgs(args), cache);
    case 'shadow': return shadowPassdb(args, files.shadowFile);
    case 'passwd': return passwdPassdb(args, files.passwdFile);
    case 'pam': throw new AuthBackendError('passdb pam', PAM_UNSUPPORTED);
    default: throw new AuthBackendError(driver, 'Unknown passdb driver');
  }
}

/** The auth service a dovecot.conf describes, and the sockets `service auth` asks for. */
export function authFromDovecotConfig(cfg: DovecotConfig, log?: AuthLog, files: SystemFiles = {}): AuthFromConfig {
  const s = readMdaSettings(cfg);
  const settings = authSettings(s, osHostname());

  const cache = new PasswdFileCache(log);
  const passdbs: DbSection<Passdb>[] = s.passdbs.map((p) => ({
    db: buildPassdb(p.driver, p.args, cache, files), default_fields: p.default_fields, override_fields: p.override_fields,
  }));
  const userdbs: DbSection<Userdb>[] = [];
  for (const u of s.userdbs) {
    let db: Userdb;
    if (u.driver === 'passwd-file') db = passwdFileUserdb(parsePasswdFileArgs(u.args), cache);
    else if (u.driver === 'static') db = staticUserdb(u.args, passdbs.map((p) => p.db));
    else if (u.driver === 'passwd') {
      db = passwdUserdb(u.args, {
        ...(files.passwdFile !== undefined ? { passwdFile: files.passwdFile } : {}),
        first_valid_uid: s.first_valid_uid, last_valid_uid: s.last_valid_uid, ...(log ? { log } : {}),
      });
    } else if (u.driver === 'prefetch') continue;
    else throw new AuthBackendError(u.driver, 'Unknown userdb driver');
    userdbs.push({ db, default_fields: u.default_fields, override_fields: u.override_fields });
  }

  const listeners: AuthListener[] = [];
  for (const l of s.services.find((x) => x.name === 'auth')?.unix_listeners ?? []) {
    const path = isAbsolute(l.path) ? l.path : join(s.base_dir, l.path);
    const kind = authListenerKind(path);
    if (kind === undefined) continue;
    const user = expandDollar(cfg, l.user);
    const group = expandDollar(cfg, l.group);
    listeners.push({ kind, path, mode: l.mode, ...(user !== '' ? { user } : {}), ...(group !== '' ? { group } : {}) });
  }
  return { service: new AuthService({ settings, passdbs, userdbs, ...(log ? { log } : {}) }), listeners };
}
