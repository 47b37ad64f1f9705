/*
 * Opens a logged-in user's MailStore the way Dovecot's mail-storage-service does for the pop3 process: a
 * userdb lookup gives `home` and optionally `mail` (overriding mail_location); `%` variables are expanded with
 * the user's u/n/d, home and service. An unknown user after a successful passdb check is a temporary failure
 * (Dovecot: "User no longer exists"), reported as StorageError TEMP so the client gets -ERR [SYS/TEMP].
 *
 * Distrusts: userdb values only as paths handed to the storage layer.
 */
import { fieldValue } from '../../shared/proto/tab-escape.js';
import { expandVars, userVars } from '../../shared/config/dovecot/var-expand.js';
import { openMailStore, StorageError, INTERNAL_ERROR_TEXT, type MailStore } from '../storage/api.js';
import type { AuthService, RequestFacts } from '../auth/auth-service.js';

export type OpenUserStore = (user: string, facts: RequestFacts) => Promise<MailStore>;

export interface UserStoreOptions {
  /** The mail_location setting, unexpanded. */
  readonly mailLocation: string;
  readonly hostname?: string;
}

export function userStoreOpener(service: AuthService, opts: UserStoreOptions): OpenUserStore {
  return async (user, facts) => {
    const r = await service.userLookup(user, facts);
    if (r.kind !== 'found') {
      throw new StorageError('TEMP', INTERNAL_ERROR_TEXT, r.kind === 'fail' ? `userdb lookup failed: ${r.reason}` : `User no longer exists: ${user}`);
    }
    const home = fieldValue(r.fields, 'home');
    const location = fieldValue(r.fields, 'mail') || opts.mailLocation;
    const vars = { ...userVars(r.user), h: home, home, s: 'pop3', service: 'pop3', r: facts.rip, l: facts.lip, e: facts.session };
    return openMailStore({
      mailLocation: location,
      expand: (t) => expandVars(t, vars),
      user: r.user,
      ...(home !== undefined ? { home } : {}),
      ...(opts.hostname !== undefined ? { hostname: opts.hostname } : {}),
    });
  };
}
