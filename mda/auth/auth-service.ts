/*
 * The auth service core, one per MDA process: passdb and userdb chains, password verification,
 * credential lookups for challenge mechanisms, userdb lookups for LMTP/LDA/doveadm. Both socket
 * servers and the in-process IMAP/POP3 login code call this; it knows nothing about sockets.
 *
 * Dovecot behaviour followed (auth-request.c, passdb.c): the login name is normalised first
 * (username.ts); passdbs are tried in order, a mismatch or unknown user continues to the next,
 * an internal failure is remembered and makes the final answer temporary unless a later passdb
 * succeeds; `nopassword`, `nodelay`, `user=` and `allow_nets` passdb extra fields are honoured;
 * default_fields/override_fields apply per section. With auth_verbose=yes, unknown users and
 * mismatches are logged as `passwd-file(user,rip): unknown user` / `Password mismatch`.
 *
 * Distrusts the login name and password (network input); never logs the password.
 */
import ipaddr from 'ipaddr.js';
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';
import { fieldValue } from '../../shared/proto/tab-escape.js';
import { mdaEvents } from '../log-events.js';
import { PasswordSchemeError } from './errors.js';
import type * as SchemeRegistry from './schemes/registry.js';
import { applyTemplates, expandTemplate, parseFieldTemplate, type FieldTemplate } from './fields.js';
import { normalizeUsername, sanitize } from './username.js';
import { requestVars, type AuthRequestInfo, type Passdb, type PassdbResult, type Userdb, type UserdbResult } from './db.js';
import type { AuthSettings } from './settings.js';
import { silentLog, type AuthLog } from './log.js';

let schemesLoaded: Promise<typeof SchemeRegistry> | undefined;
/**
 * The password schemes, imported on first use: a userdb-only process (doveadm mailbox status,
 * LMTP's lookups) never needs them, and they were a third of doveadm's start-up.
 */
function schemes(): Promise<typeof SchemeRegistry> {
  return (schemesLoaded ??= import('./schemes/registry.js'));
}

export interface DbSection<T> {
  db: T;
  /** default_fields as written in the section (`%` expanded per lookup). */
  default_fields?: string;
  override_fields?: string;
}

export interface AuthServiceOptions {
  settings: AuthSettings;
  passdbs: DbSection<Passdb>[];
  userdbs: DbSection<Userdb>[];
  log?: AuthLog;
}

/** Facts about a request before the user is known. */
export type RequestFacts = Omit<AuthRequestInfo, 'user'>;

export type AuthOutcome =
  | { kind: 'ok'; user: string; passdbExtra: KeyValueFields }
  | {
      kind: 'fail';
      /** The normalised user, when the name was acceptable (sent back as `user=`). */
      user?: string;
      /** Client-visible reason (`reason=`), if any. */
      reason?: string;
      /** Internal failure: `temp` on the wire. */
      temp: boolean;
      /** Answer without auth_failure_delay (the passdb's `nodelay`). */
      nodelay: boolean;
      /** `code=` for the client: the last passdb found the user disabled (locked shadow entry). */
      code?: 'user_disabled';
    };

export type CredentialsOutcome =
  | { kind: 'ok'; user: string; secret: Buffer; passdbExtra: KeyValueFields }
  | Extract<AuthOutcome, { kind: 'fail' }>;

interface Compiled<T> {
  db: T;
  defaults: FieldTemplate;
  overrides: FieldTemplate;
}

function compile<T>(s: DbSection<T>): Compiled<T> {
  return { db: s.db, defaults: parseFieldTemplate(s.default_fields ?? ''), overrides: parseFieldTemplate(s.override_fields ?? '') };
}

function ipAllowed(rip: string | undefined, nets: string): boolean {
  if (rip === undefined) return false;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(rip);
  } catch {
    return false;
  }
  for (const raw of nets.split(/[\s,]+/).filter((n) => n !== '')) {
    try {
      const net = raw.includes('/') ? ipaddr.parseCIDR(raw) : ([ipaddr.process(raw), ipaddr.process(raw).kind() === 'ipv4' ? 32 : 128] as const);
      const base = net[0].kind() === 'ipv6' && (net[0] as ipaddr.IPv6).isIPv4MappedAddress() ? (net[0] as ipaddr.IPv6).toIPv4Address() : net[0];
      if (base.kind() === addr.kind() && addr.match([base, net[1]] as [typeof addr, number])) return true;
    } catch {
      continue;
    }
  }
  return false;
}

export class AuthService {
  readonly settings: AuthSettings;
  private readonly passdbs: Compiled<Passdb>[];
  private readonly userdbs: Compiled<Userdb>[];
  private readonly log: AuthLog;

  constructor(o: AuthServiceOptions) {
    this.settings = o.settings;
    this.passdbs = o.passdbs.map(compile);
    this.userdbs = o.userdbs.map(compile);
    this.log = o.log ?? silentLog;
  }

  /** Normalises a login name (auth_username_*), or explains why it is refused. */
  normalize(rawUser: string, facts: RequestFacts): { ok: true; user: string } | { ok: false; error: string } {
    return normalizeUsername(rawUser, this.settings, requestVars({ ...facts, user: rawUser }));
  }

  private prefix(driver: string, user: string, facts: RequestFacts): string {
    return `${driver}(${sanitize(user)},${facts.rip ?? ''}${facts.session !== undefined ? `,<${facts.session}>` : ''})`;
  }

  private verbose(text: string): void {
    if (this.settings.auth_verbose) this.log.info(text);
  }

  /** One passdb lookup with the section's default/override fields applied. */
  private async passLookupOne(p: Compiled<Passdb>, info: AuthRequestInfo): Promise<PassdbResult> {
    const r = await p.db.lookup(info);
    if (r.kind !== 'found' || (p.defaults.length === 0 && p.overrides.length === 0)) return r;
    const vars = requestVars(info);
    const extra = applyTemplates(r.extra, expandTemplate(p.defaults, vars), expandTemplate(p.overrides, vars));
    const pw = fieldValue(extra, 'password');
    return { ...r, extra: extra.filter(([k]) => k !== 'password'), password: pw ?? r.password };
  }

  /**
   * Checks a plaintext password for a raw login name (PLAIN, LOGIN, IMAP LOGIN, POP3 USER/PASS).
   * `authzid` other than empty or the user itself is a master-user login, which needs master
   * passdbs we do not have: it fails.
   */
  async verifyPlain(rawUser: string, password: Uint8Array, facts: RequestFacts, authzid = ''): Promise<AuthOutcome> {
    const n = this.normalize(rawUser, facts);
    if (!n.ok) {
      this.verbose(`${facts.mech !== undefined ? facts.mech.toLowerCase() : 'auth'}(?,${facts.rip ?? ''}): ${n.error}`);
      return { kind: 'fail', temp: false, nodelay: false };
    }
    const info: AuthRequestInfo = { ...facts, user: n.user };
    if (authzid !== '' && authzid !== rawUser && authzid !== n.user) {
      this.verbose(`${this.prefix('auth', n.user, facts)}: Master user login attempted without master passdbs`);
      return { kind: 'fail', user: n.user, temp: false, nodelay: false };
    }
    let tempFailure = false;
    let last: { user: string; nodelay: boolean; disabled?: boolean } = { user: n.user, nodelay: false };
    for (const p of this.passdbs) {
      const r = await this.passLookupOne(p, info);
      const px = this.prefix(p.db.driver, n.user, facts);
      if (r.kind === 'fail') {
        this.log.error(`${px}: ${r.reason}`);
        tempFailure = true;
        continue;
      }
      if (r.kind === 'notfound') {
        if (r.disabled !== undefined) {
          this.verbose(`${px}: ${r.disabled}`);
          last = { user: n.user, nodelay: false, disabled: true };
        } else this.verbose(mdaEvents.auth.unknownUser(p.db.driver, sanitize(n.user), facts.rip ?? ''));
        continue;
      }
      const nodelay = fieldValue(r.extra, 'nodelay') !== undefined;
      const user = fieldValue(r.extra, 'user') || r.user || n.user;
      last = { user, nodelay };
      const nets = fieldValue(r.extra, 'allow_nets');
      if (nets !== undefined && !ipAllowed(facts.rip, nets)) {
        this.verbose(`${px}: allow_nets check failed: IP not in allowed networks`);
        continue;
      }
      let ok: boolean;
      if (fieldValue(r.extra, 'nopassword') !== undefined) ok = true;
      else if (r.password === undefined) {
        this.verbose(`${px}: No password`);
        ok = false;
      } else {
        try {
          ok = await (await schemes()).verify(r.password, password, { defaultScheme: r.defaultScheme, user: n.user });
        } catch (err) {
          if (!(err instanceof PasswordSchemeError)) throw err;
          this.log.error(err.detail === 'Unknown scheme'
            ? `${px}: Unknown scheme ${err.scheme}`
            : `${px}: Password data is not valid for scheme ${err.scheme}: ${err.detail}`);
          tempFailure = true;
          continue;
        }
        if (!ok) this.verbose(mdaEvents.auth.passwordMismatch(p.db.driver, sanitize(n.user), facts.rip ?? ''));
      }
      if (ok) return { kind: 'ok', user, passdbExtra: r.extra.filter(([k]) => !['nodelay', 'nopassword', 'user', 'allow_nets', 'password'].includes(k)) };
    }
    if (tempFailure) return { kind: 'fail', user: last.user, temp: true, nodelay: false };
    return { kind: 'fail', user: last.user, temp: false, nodelay: last.nodelay, ...(last.disabled === true ? { code: 'user_disabled' as const } : {}) };
  }

  /**
   * A secret usable by a challenge mechanism: the plaintext or a stored form of `want`
   * (CRAM-MD5 context). Fails like verifyPlain when no passdb has a usable credential.
   */
  async lookupCredentials(rawUser: string, want: 'PLAIN' | 'CRAM-MD5', facts: RequestFacts): Promise<CredentialsOutcome> {
    const n = this.normalize(rawUser, facts);
    if (!n.ok) {
      this.verbose(`auth(?,${facts.rip ?? ''}): ${n.error}`);
      return { kind: 'fail', temp: false, nodelay: false };
    }
    const info: AuthRequestInfo = { ...facts, user: n.user };
    let temp = false;
    for (const p of this.passdbs) {
      const r = await this.passLookupOne(p, info);
      const px = this.prefix(p.db.driver, n.user, facts);
      if (r.kind === 'fail') {
        this.log.error(`${px}: ${r.reason}`);
        temp = true;
        continue;
      }
      if (r.kind === 'notfound') {
        this.verbose(mdaEvents.auth.unknownUser(p.db.driver, sanitize(n.user), facts.rip ?? ''));
        continue;
      }
      const secret = r.password === undefined ? undefined : (await schemes()).credentialsFor(r.password, want, r.defaultScheme);
      if (secret === undefined) {
        this.verbose(`${px}: Requested ${want} scheme, but we have only ${r.password === undefined ? 'no password' : 'another scheme'}`);
        continue;
      }
      return { kind: 'ok', user: fieldValue(r.extra, 'user') || n.user, secret, passdbExtra: [] };
    }
    return { kind: 'fail', user: n.user, temp, nodelay: false };
  }

  /** auth-master PASS: a passdb lookup without a password check. */
  async passLookup(user: string, facts: RequestFacts): Promise<PassdbResult> {
    const info: AuthRequestInfo = { ...facts, user };
    let fail: PassdbResult | undefined;
    for (const p of this.passdbs) {
      const r = await this.passLookupOne(p, info);
      if (r.kind === 'found') return r;
      if (r.kind === 'fail') fail = r;
    }
    return fail ?? { kind: 'notfound' };
  }

  /** auth-master USER: userdbs in order, first found wins, with default/override fields. */
  async userLookup(user: string, facts: RequestFacts): Promise<UserdbResult> {
    const info: AuthRequestInfo = { ...facts, user };
    let fail: UserdbResult | undefined;
    for (const u of this.userdbs) {
      const r = await u.db.lookup(info);
      if (r.kind === 'fail') {
        this.log.error(`${this.prefix(u.db.driver, user, facts)}: ${r.reason}`);
        fail = r;
        continue;
      }
      if (r.kind === 'notfound') continue;
      const vars = requestVars({ ...info, user: r.user });
      const fields = applyTemplates(r.fields, expandTemplate(u.defaults, vars), expandTemplate(u.overrides, vars));
      return { kind: 'found', user: r.user, fields };
    }
    return fail ?? { kind: 'notfound' };
  }

  /** auth-master LIST: every user of every userdb that can iterate, deduplicated. */
  async *listUsers(): AsyncIterable<string> {
    const seen = new Set<string>();
    for (const u of this.userdbs) {
      if (!u.db.list) continue;
      for await (const name of u.db.list()) {
        if (seen.has(name)) continue;
        seen.add(name);
        yield name;
      }
    }
  }
}
