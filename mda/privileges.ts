/*
 * Privileges of the MDA (issue 3 item 6; Dovecot mail-storage-service.c service_drop_privileges).
 *
 * Dovecot runs each mail process as the user's uid. Node cannot change uid per delivery (setuid
 * is process-wide and every async operation shares it), so Postern takes the virtual-user road:
 * - started as root, the daemon binds every listener (so sockets in /var/spool/postfix/private
 *   get their owner and mode), opens its logs, then drops for good to `mail_uid`/`mail_gid`
 *   (setgroups, setgid, setuid) before serving anyone;
 * - a recipient whose userdb uid/gid (or mail_uid) differs from the process's uid is refused
 *   with a temporary error and Dovecot's log text, as are uids below first_valid_uid or above
 *   last_valid_uid (and the same for gids). Never root.
 * - started as root WITHOUT mail_uid (system users with their own uids), the master keeps root
 *   and never touches mail itself: every user's mail is read and written by a worker process
 *   forked with that user's uid/gid (mda/worker/pool.ts); the range checks above still apply.
 * After a drop the auth service keeps reading its passwd-files as mail_uid: they must be
 * readable by that uid.
 */
import { resolveGid, resolveUid } from './auth/sysusers.js';
import { fieldValue, type KeyValueFields } from '../shared/proto/tab-escape.js';

export interface UidPolicy {
  readonly mail_uid: string;
  readonly mail_gid: string;
  readonly first_valid_uid: number;
  readonly last_valid_uid: number;
  readonly first_valid_gid: number;
  readonly last_valid_gid: number;
}

export class PrivilegeError extends Error {
  override readonly name = 'PrivilegeError';
}

/** mail_uid/mail_gid as numbers (undefined when unset); throws for unknown names. */
export function mailIds(p: UidPolicy): { uid: number | undefined; gid: number | undefined } {
  const uid = p.mail_uid === '' ? undefined : resolveUid(p.mail_uid);
  const gid = p.mail_gid === '' ? undefined : resolveGid(p.mail_gid);
  if (p.mail_uid !== '' && uid === undefined) throw new PrivilegeError(`mail_uid: Unknown user: ${p.mail_uid}`);
  if (p.mail_gid !== '' && gid === undefined) throw new PrivilegeError(`mail_gid: Unknown group: ${p.mail_gid}`);
  return { uid: uid === undefined ? undefined : Number(uid), gid: gid === undefined ? undefined : Number(gid) };
}

/**
 * The uid/gid a recipient's mail is written as (userdb uid/gid, else mail_uid/mail_gid, else the
 * process's), or why it may not be (a log text in Dovecot's words): outside first/last_valid_uid
 * or _gid, root, or, unless `perUidWorkers` (pool.ts: the master forks a worker per uid), a uid
 * other than the process's own.
 */
export function recipientIds(
  fields: KeyValueFields, p: UidPolicy, processUid: number, processGid: number, perUidWorkers = false,
): { uid: number; gid: number } | { refused: string } {
  const ids = mailIds(p);
  const rawUid = fieldValue(fields, 'uid');
  const rawGid = fieldValue(fields, 'gid');
  const uid = rawUid !== undefined && rawUid !== '' ? Number(resolveUid(rawUid) ?? NaN) : ids.uid ?? processUid;
  const gid = rawGid !== undefined && rawGid !== '' ? Number(resolveGid(rawGid) ?? NaN) : ids.gid ?? processGid;
  if (Number.isNaN(uid)) return { refused: `Unknown UID in userdb: ${rawUid ?? ''}` };
  if (Number.isNaN(gid)) return { refused: `Unknown GID in userdb: ${rawGid ?? ''}` };
  if (uid < p.first_valid_uid || (p.last_valid_uid !== 0 && uid > p.last_valid_uid)) {
    return { refused: `Mail access for users with UID ${uid} not permitted (see first_valid_uid in config file, uid from userdb lookup).` };
  }
  if (gid < p.first_valid_gid || (p.last_valid_gid !== 0 && gid > p.last_valid_gid)) {
    return { refused: `Mail access for users with GID ${gid} not permitted (see first_valid_gid in config file, gid from userdb lookup).` };
  }
  if (uid === 0) return { refused: 'Mail access for root is not permitted' };
  if (!perUidWorkers && uid !== processUid) {
    return { refused: `Can't deliver as UID ${uid}: this MDA runs as UID ${processUid} (all users must share mail_uid; see docs)` };
  }
  return { uid, gid };
}

/** Why this recipient's mail may not be written by this process, or undefined when it may. */
export function recipientIdsRefused(fields: KeyValueFields, p: UidPolicy, processUid: number, processGid: number): string | undefined {
  const r = recipientIds(fields, p, processUid, processGid);
  return 'refused' in r ? r.refused : undefined;
}

/** Drops root for good (after binding). */
export function dropPrivileges(uid: number, gid: number): void {
  if (process.getuid?.() !== 0) return;
  process.setgroups?.([gid]);
  process.setgid?.(gid);
  process.setuid?.(uid);
  if (process.getuid?.() === 0 || process.geteuid?.() === 0) throw new PrivilegeError('failed to drop root privileges');
}
