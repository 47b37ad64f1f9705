/*
 * Opens a user's MailStore from a userdb reply, the way Dovecot's mail-storage-service does for every mail
 * process (lmtp, imap, pop3): `home` and optionally `mail` (overriding mail_location) come from the userdb;
 * without a userdb home (none, or empty), `mail_home` expanded is the home (observed on Dovecot 2.3.19 with a
 * static userdb: `mail_home = /srv/%d/%n/%s` puts an IMAP user's `~/Maildir` under /srv/dom/user/imap);
 * `%` variables are expanded with the user's u/n/d, home, the service and the connection facts (r, l, e);
 * the namespace separator and special-use attributes come from the inbox namespace. The one place LMTP
 * delivery, IMAP and POP3 turn a user into a store.
 *
 * For IMAP/POP3 the userdb lookup happens here too (userStoreOpener): an unknown user after a successful
 * passdb check is a temporary failure (Dovecot: "User no longer exists"), as is a uid/gid this process
 * may not write as (privileges.ts; Node cannot setuid per session). Both reach the client as
 * StorageError TEMP, i.e. `NO [SERVERBUG]` / `-ERR [SYS/TEMP]`, with the detail only in the log.
 *
 * Distrusts: userdb values, used only as paths handed to the storage layer (which confines mailbox names).
 */
import { expandVars, userVars } from '../shared/config/dovecot/var-expand.js';
import { fieldValue, type KeyValueFields } from '../shared/proto/tab-escape.js';
import type { RequestFacts } from './auth/auth-service.js';
import type { UserdbResult } from './auth/db.js';
import { recipientIdsRefused, type UidPolicy } from './privileges.js';
import { INTERNAL_ERROR_TEXT, openMailStore, StorageError, type MailStore, type OpenStoreOptions, type SpecialUse } from './storage/api.js';
import type { MailStoreCache, StoreLease } from './store-cache.js';

export interface MailUserOptions {
  /** `mail_location`, unexpanded. */
  readonly mailLocation: string;
  /** `mail_home`, unexpanded: the home when the userdb gives none ('' or omitted: no home). */
  readonly mailHome?: string;
  /** Dovecot service name for %s: lmtp, imap, pop3. */
  readonly service: string;
  /** Inbox namespace separator ('' = the storage's default). */
  readonly separator?: string;
  readonly specialUse?: Readonly<Record<string, SpecialUse>>;
  /** Hostname for new maildir filenames (default os.hostname()). */
  readonly hostname?: string;
}

/** Connection facts for %r, %l, %{session}. */
export interface ConnectionFacts {
  readonly rip?: string;
  readonly lip?: string;
  readonly session?: string;
}

export interface MailUser {
  readonly user: string;
  readonly home: string | undefined;
  /** The expanded mail location (`maildir:/var/vmail/example.org/bob`). */
  readonly location: string;
  readonly expand: (template: string) => string;
  readonly store: MailStore;
}

/**
 * A user name that, put into a path through %u/%n/%d, would leave the directory it names: an
 * absolute name, a `.` or `..` component, NUL or a line break. auth_username_chars refuses `/`
 * by default; this holds even when an administrator empties it (Dovecot would then build the path).
 */
export function escapingUserName(user: string): boolean {
  return user.startsWith('/') || /[\0\r\n]/.test(user) || user.split(/[/@]/).some((c) => c === '.' || c === '..');
}

/** What opening a user's store takes: the MailUser fields and the store's options. */
interface ResolvedMailUser {
  readonly mail: Omit<MailUser, 'store'>;
  readonly options: OpenStoreOptions;
}

function resolveUserMail(user: string, fields: KeyValueFields, o: MailUserOptions, facts: ConnectionFacts): ResolvedMailUser {
  if (escapingUserName(user)) {
    throw new StorageError('TEMP', INTERNAL_ERROR_TEXT, `Refusing mail access for user name ${JSON.stringify(user)}: it would escape its directory`);
  }
  const rawHome = fieldValue(fields, 'home');
  const template = fieldValue(fields, 'mail') || o.mailLocation;
  const common = { ...userVars(user), s: o.service, service: o.service, r: facts.rip, l: facts.lip, e: facts.session };
  const fallback = o.mailHome !== undefined && o.mailHome !== '' ? expandVars(o.mailHome, common) : undefined;
  const home = rawHome !== undefined && rawHome !== '' ? rawHome : fallback;
  const vars = { ...common, h: home, home };
  const expand = (t: string): string => expandVars(t, vars);
  const location = expand(template);
  return {
    mail: { user, home, location, expand },
    options: {
      // Expanded here once: the store is then keyed by what it really opens (storeKey).
      mailLocation: location,
      user,
      ...(home !== undefined ? { home } : {}),
      ...(o.separator !== undefined && o.separator !== '' ? { separator: o.separator } : {}),
      ...(o.specialUse !== undefined ? { specialUse: o.specialUse } : {}),
      ...(o.hostname !== undefined ? { hostname: o.hostname } : {}),
    },
  };
}

/**
 * Everything a store is opened with, as a cache key (store-cache.ts): two holders with the same
 * key would open the same store. No special-use map and an empty one are the same store.
 */
function storeKey(o: OpenStoreOptions): string {
  return JSON.stringify([o.user, o.mailLocation, o.home ?? null, o.separator ?? null, o.specialUse ?? {}, o.hostname ?? null]);
}

/** Opens the store a userdb reply describes. */
export async function openUserMail(user: string, fields: KeyValueFields, o: MailUserOptions, facts: ConnectionFacts = {}): Promise<MailUser> {
  const r = resolveUserMail(user, fields, o, facts);
  return { ...r.mail, store: await openMailStore(r.options) };
}

/** The store a userdb reply describes, from `cache` (shared with the process's other holders of the same store). */
export function leaseUserMail(cache: MailStoreCache, user: string, fields: KeyValueFields, o: MailUserOptions, facts: ConnectionFacts = {}): Promise<StoreLease> {
  const r = resolveUserMail(user, fields, o, facts);
  return cache.acquire(storeKey(r.options), async () => ({ ...r.mail, store: await openMailStore(r.options) }));
}

/**
 * A session's handle on a leased store: the store's operations, with close() giving the lease
 * back (the store itself closes once its last holder is done, store-cache.ts).
 */
export function leasedStore(lease: StoreLease): MailStore {
  return storeHandle(lease.mail.store, () => lease.release(false));
}

/** A handle on store `s`: its operations, with `close` in place of closing it. */
export function storeHandle(s: MailStore, close: () => Promise<void>): MailStore {
  const handle: MailStore = {
    user: s.user,
    separator: s.separator,
    list: (opts) => s.list(opts),
    create: (name) => s.create(name),
    delete: (name) => s.delete(name),
    rename: (from, to) => s.rename(from, to),
    subscribe: (name) => s.subscribe(name),
    unsubscribe: (name) => s.unsubscribe(name),
    subscriptions: () => s.subscriptions(),
    status: (name) => s.status(name),
    openMailbox: (name, opts) => s.openMailbox(name, opts),
    deliver: (name, data) => s.deliver(name, data),
    append: (name, data, opts) => s.append(name, data, opts),
    watch: (name, listener) => s.watch(name, listener),
    close,
  };
  if (s.lockPop3Session !== undefined) handle.lockPop3Session = (opts) => s.lockPop3Session!(opts);
  // The maildir quota file, which api.ts openQuota looks for on the store it is given.
  const quotaFile = (s as { readonly maildirsizePath?: unknown }).maildirsizePath;
  return typeof quotaFile === 'string' ? Object.assign(handle, { maildirsizePath: quotaFile }) : handle;
}

/** How IMAP and POP3 open the store of a user who just logged in. */
export type OpenUserStore = (user: string, facts: ConnectionFacts) => Promise<MailStore>;

/** What the opener needs from the auth service (AuthService satisfies it). */
export interface UserdbLookup {
  userLookup(user: string, facts: RequestFacts): Promise<UserdbResult>;
}

export interface UserStoreOptions extends Omit<MailUserOptions, 'service'> {
  readonly service?: string;
  /** When set, users whose uid/gid this process may not write as are refused (TEMP). */
  readonly privileges?: { readonly policy: UidPolicy; readonly uid: number; readonly gid: number };
}

/**
 * A userdb lookup, the privilege check, then the user's store: opened for the session alone, or
 * leased from `stores`, the process's cache, shared with the user's other sessions (store-cache.ts).
 */
export function userStoreOpener(userdb: UserdbLookup, o: UserStoreOptions, stores?: MailStoreCache): OpenUserStore {
  const service = o.service ?? 'pop3';
  return async (user, facts) => {
    const r = await userdb.userLookup(user, {
      service,
      ...(facts.rip !== undefined ? { rip: facts.rip } : {}),
      ...(facts.lip !== undefined ? { lip: facts.lip } : {}),
      ...(facts.session !== undefined ? { session: facts.session } : {}),
    });
    if (r.kind !== 'found') {
      throw new StorageError('TEMP', INTERNAL_ERROR_TEXT, r.kind === 'fail' ? `userdb lookup failed: ${r.reason}` : `User no longer exists: ${user}`);
    }
    if (o.privileges !== undefined) {
      const refused = recipientIdsRefused(r.fields, o.privileges.policy, o.privileges.uid, o.privileges.gid);
      if (refused !== undefined) throw new StorageError('TEMP', INTERNAL_ERROR_TEXT, refused);
    }
    const mo = { ...o, service };
    if (stores === undefined) return (await openUserMail(r.user, r.fields, mo, facts)).store;
    return leasedStore(await leaseUserMail(stores, r.user, r.fields, mo, facts));
  };
}
