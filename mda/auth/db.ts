/*
 * The passdb and userdb interfaces the auth service talks to (Dovecot's passdb/userdb modules),
 * plus the request facts every lookup may expand (%u %n %d %s %r %l …). Backends: passwd-file.ts,
 * static-userdb.ts, system-db.ts (passwd, shadow). Results are typed: "not found" is a value (a
 * disabled user is a marked "not found"), a broken backend is `fail` (Dovecot's internal failure →
 * FAIL … temp on the wire).
 */
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';

export interface AuthRequestInfo {
  /** The normalised login name. */
  user: string;
  service: string;
  rip?: string;
  lip?: string;
  rport?: string;
  lport?: string;
  session?: string;
  mech?: string;
  secured?: boolean;
}

export type PassdbResult =
  | {
      kind: 'found';
      /** Login name after the passdb (the `user=` extra field may rename it). */
      user: string;
      /** Stored password; undefined when the entry has none. */
      password: string | undefined;
      /** Scheme for a password without "{SCHEME}". */
      defaultScheme: string;
      /** passdb extra fields (nodelay, nopassword, allow_nets, nologin, reason …). */
      extra: KeyValueFields;
      /** userdb_ fields carried by the passdb entry (prefetch), prefix removed. */
      userdbFields: KeyValueFields;
    }
  | {
      kind: 'notfound';
      /**
       * The user exists but may not log in (Dovecot's PASSDB_RESULT_USER_DISABLED, e.g. a locked
       * shadow entry): the log text that replaces "unknown user". Clients see code=user_disabled.
       */
      disabled?: string;
    }
  | { kind: 'fail'; reason: string };

export type UserdbResult =
  | { kind: 'found'; user: string; fields: KeyValueFields }
  | { kind: 'notfound' }
  | { kind: 'fail'; reason: string };

export interface Passdb {
  /** Driver name for log lines: "passwd-file". */
  readonly driver: string;
  lookup(req: AuthRequestInfo): Promise<PassdbResult>;
}

export interface Userdb {
  readonly driver: string;
  lookup(req: AuthRequestInfo): Promise<UserdbResult>;
  /** Every user (LIST); undefined when the backend cannot iterate. */
  list?(): AsyncIterable<string>;
}

/** Variables for `%` expansion from a request. */
export function requestVars(req: AuthRequestInfo): Record<string, string | undefined> {
  const at = req.user.indexOf('@');
  return {
    u: req.user,
    n: at < 0 ? req.user : req.user.slice(0, at),
    d: at < 0 ? undefined : req.user.slice(at + 1),
    s: req.service,
    r: req.rip,
    l: req.lip,
    a: req.lport,
    b: req.rport,
    e: req.session,
    m: req.mech,
    c: req.secured === true ? 'secured' : '',
    p: String(process.pid),
  };
}
