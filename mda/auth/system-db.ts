/*
 * The system-user drivers of Debian's stock auth-system.conf.ext (Dovecot 2.3 userdb-passwd.c,
 * passdb-passwd.c, passdb-shadow.c), over the files sysusers.ts reads instead of NSS:
 *  - userdb passwd: getpwnam(user) → system_groups_user=<name> uid gid home, in that order, as the
 *    real USER reply has them (uid 0 included). `args` may hold `blocking=yes|no` (accepted; Postern
 *    has no auth-worker processes) and, for backwards compatibility, template fields that override
 *    the looked-up ones (Dovecot warns: "Move templates args to override_fields setting").
 *    Iteration (auth-master LIST, `doveadm user '*'`) walks the file like getpwent, keeping only
 *    uids within first_valid_uid … last_valid_uid (0 = no upper limit), in file order.
 *  - passdb shadow: getspnam(user); a password field starting with `*` or `!` is "invalid password
 *    field" (PASSDB_RESULT_USER_DISABLED: the client sees code=user_disabled, the master PASS
 *    NOTFOUND); otherwise the field is the password, scheme CRYPT, checked by schemes/crypt.ts
 *    (incl. yescrypt `$y$`). Account and password expiry dates are not checked (Dovecot does not
 *    either; PAM would).
 *  - passdb passwd: the same with the passwd file's own password field (rarely useful with shadow
 *    passwords: "x" never matches).
 *
 * Reading /etc/shadow needs root; Postern's MDA master process stays root in per-uid mode. An
 * unreadable file is an internal failure (temporary), where Dovecot's non-root auth process would
 * say "unknown user".
 *
 * Distrusts the login name (only compared, never used in a path) and the files (sysusers.ts).
 */
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';
import { AuthBackendError } from './errors.js';
import { expandTemplate, mergeFields, parseFieldTemplate, type FieldTemplate } from './fields.js';
import { requestVars, type AuthRequestInfo, type Passdb, type PassdbResult, type Userdb, type UserdbResult } from './db.js';
import { getpwnam, getspnam, readPasswdFile, SYSTEM_PASSWD_FILE, SYSTEM_SHADOW_FILE } from './sysusers.js';
import type { AuthLog } from './log.js';

/** The shadow/passwd passdbs' scheme for passwords without "{SCHEME}" (SHADOW_PASS_SCHEME). */
const SYSTEM_PASS_SCHEME = 'CRYPT';

export interface PasswdUserdbOptions {
  /** The passwd(5) file; /etc/passwd by default. */
  passwdFile?: string;
  /** Iteration keeps uids from first_valid_uid to last_valid_uid (0 = no limit). */
  first_valid_uid?: number;
  last_valid_uid?: number;
  log?: AuthLog;
}

/** Splits driver args into `blocking=` (validated, then dropped) and the remaining template. */
function blockingAndTemplate(kind: string, args: string): FieldTemplate {
  const tpl = parseFieldTemplate(args);
  for (const [k, v] of tpl) {
    if (k === 'blocking' && v !== undefined && !['yes', 'no'].includes(v.toLowerCase())) {
      throw new AuthBackendError(kind, `Invalid blocking value: ${v}`);
    }
  }
  return tpl.filter(([k]) => k !== 'blocking');
}

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES') return 'Permission denied';
  if (e.code === 'ENOENT') return 'No such file or directory';
  return e.message;
}

export function passwdUserdb(args: string, o: PasswdUserdbOptions = {}): Userdb {
  const file = o.passwdFile ?? SYSTEM_PASSWD_FILE;
  const tpl = blockingAndTemplate('userdb passwd', args);
  if (tpl.length > 0) (o.log?.warn ?? o.log?.info)?.call(o.log, 'userdb passwd: Move templates args to override_fields setting');
  const first = o.first_valid_uid ?? 500;
  const last = o.last_valid_uid ?? 0;
  return {
    driver: 'passwd',
    async lookup(req: AuthRequestInfo): Promise<UserdbResult> {
      let pw;
      try {
        pw = await getpwnam(req.user, file);
      } catch (err) {
        return { kind: 'fail', reason: `getpwnam_r() failed: ${errnoText(err)}` };
      }
      if (pw === undefined) return { kind: 'notfound' };
      let fields: KeyValueFields = [
        ['system_groups_user', pw.name],
        ['uid', String(pw.uid)],
        ['gid', String(pw.gid)],
        ['home', pw.dir],
      ];
      if (tpl.length > 0) fields = mergeFields(fields, expandTemplate(tpl, requestVars({ ...req, user: pw.name })));
      return { kind: 'found', user: pw.name, fields };
    },
    async *list(): AsyncIterable<string> {
      for (const pw of await readPasswdFile(file)) {
        if (pw.uid >= first && (last === 0 || pw.uid <= last)) yield pw.name;
      }
    },
  };
}

/** `blocking=` is the only argument the shadow and passwd passdbs take. */
function checkPassdbArgs(driver: string, args: string): void {
  for (const [k] of blockingAndTemplate(`passdb ${driver}`, args)) {
    throw new AuthBackendError(`passdb ${driver}`, `Unknown setting: ${k}`);
  }
}

/** Dovecot's IS_VALID_PASSWD: `*` and `!` prefixes lock the account. */
function validSystemPassword(p: string): boolean {
  return !p.startsWith('*') && !p.startsWith('!');
}

function systemPassdb(driver: 'shadow' | 'passwd', lookup: (name: string) => Promise<{ name: string; passwd: string } | undefined>, fn: string): Passdb {
  return {
    driver,
    async lookup(req: AuthRequestInfo): Promise<PassdbResult> {
      let e;
      try {
        e = await lookup(req.user);
      } catch (err) {
        return { kind: 'fail', reason: `${fn}() failed: ${errnoText(err)}` };
      }
      if (e === undefined) return { kind: 'notfound' };
      if (!validSystemPassword(e.passwd)) return { kind: 'notfound', disabled: 'invalid password field' };
      return { kind: 'found', user: e.name, password: e.passwd, defaultScheme: SYSTEM_PASS_SCHEME, extra: [], userdbFields: [] };
    },
  };
}

export function shadowPassdb(args: string, shadowFile = SYSTEM_SHADOW_FILE): Passdb {
  checkPassdbArgs('shadow', args);
  return systemPassdb('shadow', (name) => getspnam(name, shadowFile), 'getspnam');
}

export function passwdPassdb(args: string, passwdFile = SYSTEM_PASSWD_FILE): Passdb {
  checkPassdbArgs('passwd', args);
  return systemPassdb('passwd', (name) => getpwnam(name, passwdFile), 'getpwnam_r');
}
