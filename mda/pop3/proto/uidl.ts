/*
 * POP3 UIDLs as Dovecot 2.3's pop3_get_uid() builds them (pure): a UIDL the storage already holds (the
 * dovecot-uidlist `P` field, e.g. migrated from Courier or saved by pop3_save_uidl) wins; otherwise
 * `pop3_uidl_format` is expanded with %v/%{uidvalidity}, %u/%{uid}, %g/%{guid} and %f/%{filename} (for maildir
 * both are the base file name), through the one `%` expander (shared/config/dovecot/var-expand.ts).
 * `%m` (header MD5) needs the storage to compute it; it is refused at start-up like an invalid format.
 *
 * Distrusts: the format (checked once by checkUidlFormat); P values are used as stored.
 */
import { expandVars } from '../../../shared/config/dovecot/var-expand.js';

export interface UidlSource {
  readonly uid: number;
  readonly guid: string;
  readonly pop3Uidl: string | undefined;
}

const KEY_RE = /%(?:-?0?(?:-?\d+\.)?\d*)?[LUEXRHNMDT]*(\{([^}]*)\}|[a-zA-Z%])/g;

/**
 * Throws a RangeError when the format names none of v/u/g/f (Dovecot: "Invalid pop3_uidl_format") or needs %m.
 */
export function checkUidlFormat(format: string): void {
  let keys = 0;
  for (const m of format.matchAll(KEY_RE)) {
    const key = m[2] ?? m[1];
    if (key === 'm' || key === 'md5') throw new RangeError('pop3_uidl_format: %m (header MD5) is not supported');
    if (['v', 'u', 'g', 'f', 'uidvalidity', 'uid', 'guid', 'filename'].includes(key ?? '')) keys++;
  }
  if (keys === 0) throw new RangeError('Invalid pop3_uidl_format');
}

export function formatUidl(format: string, msg: UidlSource, uidValidity: number): string {
  if (msg.pop3Uidl !== undefined && msg.pop3Uidl !== '') return msg.pop3Uidl;
  const uid = String(msg.uid);
  const v = String(uidValidity);
  return expandVars(format, {
    v, uidvalidity: v, u: uid, uid, g: msg.guid, guid: msg.guid, f: msg.guid, filename: msg.guid,
  });
}
