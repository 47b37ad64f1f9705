/*
 * The users a doveadm mail command runs for and how their mail is opened (doveadm-mail.c):
 * `-u user`, `-u 'mask*'` or `-A` (the userdb's iteration: auth-userdb LIST), `-F file` (one user
 * per line, the first tab-separated field), or $USER when none is given. Several users add a
 * `username` column (title hidden in flow) printed before every row.
 *
 * Each user is looked up through the auth service (userdb: home, mail, uid, gid, quota fields)
 * and the mail opened by openUserMail (mda/mail-user.ts), the opener LMTP, IMAP and POP3 use, with
 * service `doveadm` for %s. The privilege check of userStoreOpener is not used: doveadm switches
 * its effective uid to the user's instead (below), as the real doveadm does. When doveadm runs as root it switches its
 * effective uid/gid to the user's (userdb uid/gid, else mail_uid/mail_gid) while touching the
 * maildir, so that files it creates belong to the user, and refuses uid 0 as Dovecot does.
 * Distrusts: userdb values (paths go to the storage layer, which confines them).
 */
import { readFileSync } from 'node:fs';
import { fieldValue, type KeyValueFields } from '../../../shared/proto/tab-escape.js';
import { openUserMail } from '../../mail-user.js';
import type { MailStore } from '../../storage/api.js';
import { resolveGid, resolveUid } from '../../auth/sysusers.js';
import { EX_NOPERM, EX_NOUSER, EX_TEMPFAIL, EX_USAGE, type DoveadmContext } from './context.js';
import { getopt, optValue, UsageError, type Parsed } from './args.js';

export interface UserSelection {
  /** Single user (no username column) or several. */
  readonly single: boolean;
  users(ctx: DoveadmContext): AsyncIterable<string>;
}

/** Case-insensitive `*` / `?` match (wildcard_match_icase). */
export function wildcardMatch(text: string, mask: string): boolean {
  const re = new RegExp(`^${mask.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, 'is');
  return re.test(text);
}

/** The common mail-command options: `-u`, `-A`, `-F`, `-S` (accepted, ignored: no doveadm server). */
export const MAIL_COMMON_SPEC = 'AF:S:u:';

export function userSelection(p: Parsed, env: Readonly<Record<string, string | undefined>>): UserSelection {
  const u = optValue(p, 'u');
  const file = optValue(p, 'F');
  const all = p.flags.has('A');
  if ([u !== undefined, file !== undefined, all].filter(Boolean).length > 1) throw new UsageError('-u, -A and -F are mutually exclusive');
  if (all || (u !== undefined && /[*?]/.test(u))) {
    const mask = u ?? '*';
    return {
      single: false,
      async *users(ctx) {
        for await (const name of ctx.auth().listUsers()) if (wildcardMatch(name, mask)) yield name;
      },
    };
  }
  if (file !== undefined) {
    return {
      single: false,
      async *users() {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          const name = line.split('\t', 1)[0]!.trim();
          if (name !== '') yield name;
        }
      },
    };
  }
  const name = u ?? env['USER'] ?? '';
  return {
    single: true,
    async *users() {
      yield name;
    },
  };
}

export interface OpenedUser {
  readonly user: string;
  readonly fields: KeyValueFields;
  readonly home: string | undefined;
  /** mail_location after %-expansion. */
  readonly location: string;
  readonly store: MailStore;
}

function effectiveIds(ctx: DoveadmContext, fields: KeyValueFields): { uid: number; gid: number } | undefined {
  const uidText = fieldValue(fields, 'uid') || ctx.setting('mail_uid');
  const gidText = fieldValue(fields, 'gid') || ctx.setting('mail_gid');
  const uidS = uidText === '' ? undefined : resolveUid(uidText);
  const gidS = gidText === '' ? undefined : resolveGid(gidText);
  const uid = uidS === undefined ? undefined : Number(uidS);
  const gid = gidS === undefined ? undefined : Number(gidS);
  if (uid === undefined || !Number.isInteger(uid)) return undefined;
  return { uid, gid: gid ?? uid };
}

/**
 * Looks the user up and runs `fn` with the store open (as the user's uid when we are root).
 * Reports unknown users and lookup failures as doveadm does and returns false then.
 */
export async function withUserStore(ctx: DoveadmContext, user: string, fn: (u: OpenedUser) => Promise<void>): Promise<boolean> {
  const auth = ctx.auth();
  const n = auth.normalize(user, { service: 'doveadm' });
  const r = n.ok ? await auth.userLookup(n.user, { service: 'doveadm' }) : ({ kind: 'notfound' } as const);
  if (r.kind === 'notfound') {
    ctx.userError(user, "User doesn't exist");
    ctx.fail(EX_NOUSER);
    return false;
  }
  if (r.kind === 'fail') {
    ctx.userError(user, `User lookup failed: ${r.reason}`);
    ctx.fail(EX_TEMPFAIL);
    return false;
  }
  const inbox = ctx.config().namespaces().find((ns) => ns.get('inbox') === 'yes');
  const separator = inbox?.get('separator') ?? '';
  const asRoot = process.geteuid?.() === 0;
  const ids = asRoot ? effectiveIds(ctx, r.fields) : undefined;
  if (asRoot && (ids === undefined || ids.uid === 0)) {
    ctx.userError(user, 'Mail access for users with UID 0 is not permitted (see mail_uid/first_valid_uid)');
    ctx.fail(EX_NOPERM);
    return false;
  }
  ctx.currentUser = user;
  if (ids !== undefined) {
    process.setegid!(ids.gid);
    process.seteuid!(ids.uid);
  }
  try {
    // The one opener every protocol uses (mda/mail-user.ts): userdb home/mail, % variables, separator.
    const mu = await openUserMail(r.user, r.fields, { mailLocation: ctx.setting('mail_location'), mailHome: ctx.setting('mail_home'), service: 'doveadm', separator });
    const { store, home, location } = mu;
    try {
      await fn({ user: r.user, fields: r.fields, home, location, store });
    } finally {
      await store.close();
    }
    ctx.currentUser = undefined;
  } finally {
    if (ids !== undefined) {
      process.seteuid!(0);
      process.setegid!(0);
    }
  }
  return true;
}

/** Parses a mail command's options (common ones plus `extra`), or throws UsageError. */
export function mailOpts(args: readonly string[], extra = ''): Parsed {
  return getopt(args, MAIL_COMMON_SPEC + extra);
}

export { EX_USAGE };
