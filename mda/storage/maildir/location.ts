/*
 * Parses a Dovecot 2.3 `mail_location` for the maildir driver (mailbox-list.c
 * mailbox_list_settings_parse): `maildir:<root>[:KEY=VALUE|:FLAG]…`, `::` is a literal `:`,
 * `~` and `~/` are the user's home. The caller expands %-variables first (the userdb layer does
 * that with shared/config/dovecot/var-expand.ts); this file does no I/O.
 *
 * Keys: INBOX= INDEX= (a directory, or MEMORY) CONTROL= LAYOUT=maildir++|fs VOLATILEDIR= ALT=
 * SUBSCRIPTIONS= DIRNAME= MAILBOXDIR= INDEXPVT= LISTINDEX= and flags UTF-8, ITERINDEX, NO-NOSELECT,
 * FULLDIRNAME. Keys we accept but do not act on are kept in `ignored` so the caller can log them.
 *
 * Distrusts: the string (it comes from config files and userdb extra fields): relative roots,
 * unknown keys and an unknown layout are refused with LocationError.
 */
import { isAbsolute, normalize } from 'node:path';

export type MaildirLayout = 'maildir++' | 'fs';

export interface MaildirLocation {
  /** Root of the mail store: the Maildir++ INBOX and parent of `.Folder` dirs. */
  readonly root: string;
  /** Directory holding INBOX (the root unless INBOX= is given). */
  readonly inbox: string;
  readonly layout: MaildirLayout;
  /** CONTROL= root (uidlist, keywords, subscriptions); undefined = next to the mail. */
  readonly control: string | undefined;
  /** INDEX= root; 'MEMORY' keeps our index sidecar in memory only. */
  readonly index: string | 'MEMORY' | undefined;
  /** UTF-8 flag: folder names on disk in UTF-8 instead of modified UTF-7. */
  readonly utf8: boolean;
  /** Name of the subscriptions file (SUBSCRIPTIONS=). */
  readonly subscriptionsFile: string;
  /** Keys accepted for compatibility but not implemented. */
  readonly ignored: readonly string[];
}

export class LocationError extends Error {
  override readonly name = 'LocationError';
}

const KNOWN_KEYS = new Set(['INBOX', 'INDEX', 'CONTROL', 'LAYOUT', 'VOLATILEDIR', 'ALT', 'SUBSCRIPTIONS',
  'DIRNAME', 'MAILBOXDIR', 'INDEXPVT', 'INDEXCACHE', 'LISTINDEX', 'UTF-8', 'ITERINDEX', 'NO-NOSELECT',
  'FULLDIRNAME', 'BROKENCHAR', 'NO-NOSELECT']);

/** Splits on single `:`; `::` stands for a literal colon. */
export function splitLocation(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ':') {
      if (s[i + 1] === ':') {
        cur += ':';
        i++;
        continue;
      }
      parts.push(cur);
      cur = '';
    } else {
      cur += s[i];
    }
  }
  parts.push(cur);
  return parts;
}

export function expandHome(path: string, home: string | undefined): string {
  if (path !== '~' && !path.startsWith('~/')) return path;
  if (home === undefined || home === '') throw new LocationError(`home directory not set, can't expand ${path}`);
  return path === '~' ? home : `${home.replace(/\/+$/, '')}/${path.slice(2)}`;
}

function absolute(path: string, home: string | undefined, what: string): string {
  const p = expandHome(path, home);
  if (!isAbsolute(p)) throw new LocationError(`${what} must be an absolute path: ${path}`);
  return normalize(p).replace(/\/+$/, '') || '/';
}

export function parseMailLocation(location: string, home: string | undefined): MaildirLocation {
  const colon = location.indexOf(':');
  const driver = colon < 0 ? location : location.slice(0, colon);
  if (driver !== 'maildir') throw new LocationError(`unsupported mail storage driver: ${driver || '(none)'}`);
  const [rootRaw = '', ...opts] = splitLocation(location.slice(colon + 1));
  if (rootRaw === '') throw new LocationError('maildir root directory missing in mail_location');
  const root = absolute(rootRaw, home, 'maildir root');
  let inbox: string | undefined;
  let layout: MaildirLayout = 'maildir++';
  let control: string | undefined;
  let index: string | undefined;
  let utf8 = false;
  let subscriptionsFile = 'subscriptions';
  const ignored: string[] = [];
  for (const opt of opts) {
    if (opt === '') continue;
    const eq = opt.indexOf('=');
    const key = (eq < 0 ? opt : opt.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (!KNOWN_KEYS.has(key)) throw new LocationError(`Unknown setting: ${key}`);
    switch (key) {
      case 'INBOX': inbox = absolute(value, home, 'INBOX'); break;
      case 'CONTROL': control = absolute(value, home, 'CONTROL'); break;
      case 'INDEX': index = value.toUpperCase() === 'MEMORY' ? 'MEMORY' : absolute(value, home, 'INDEX'); break;
      case 'LAYOUT': {
        const l = value.toLowerCase();
        if (l !== 'maildir++' && l !== 'fs') throw new LocationError(`Unknown mailbox list layout: ${value}`);
        layout = l;
        break;
      }
      case 'UTF-8': utf8 = true; break;
      case 'SUBSCRIPTIONS':
        if (value === '' || value.includes('/')) throw new LocationError(`invalid SUBSCRIPTIONS= file name: ${value}`);
        subscriptionsFile = value;
        break;
      default: ignored.push(key);
    }
  }
  return { root, inbox: inbox ?? root, layout, control, index, utf8, subscriptionsFile, ignored };
}
