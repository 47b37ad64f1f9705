/*
 * mail_owner and setgid_group as numbers (from /etc/passwd and /etc/group, or numeric values),
 * and the switch to them. The master process switches once its sockets are bound and its files
 * open; each smtpd process does the same once it has opened what it needs (smtpd-process.ts).
 */
import { readFileSync } from 'node:fs';
import type { PostfixConfig } from '../../shared/config/postfix/config.js';

export class MailOwnerError extends Error {
  override readonly name = 'MailOwnerError';
}

export interface MailOwner {
  readonly uid: number;
  readonly gid: number;
  /** setgid_group's gid (the maildrop directory's group), a supplementary group. */
  readonly dropGid: number;
}

function lookupPasswd(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no passwd file
  }
  return /^\d+$/.test(name) ? { uid: Number(name), gid: Number(name) } : undefined;
}

function lookupGroup(name: string): number | undefined {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f.length >= 3) return Number(f[2]);
    }
  } catch {
    // no group file
  }
  return /^\d+$/.test(name) ? Number(name) : undefined;
}

/** Throws MailOwnerError (Postfix's wording) when mail_owner is unknown. */
export function mailOwner(cfg: PostfixConfig): MailOwner {
  const owner = cfg.get('mail_owner');
  const ids = lookupPasswd(owner);
  if (!ids) throw new MailOwnerError(`file ${cfg.mainCfPath}: parameter mail_owner: unknown user name value: ${owner}`);
  return { uid: ids.uid, gid: ids.gid, dropGid: lookupGroup(cfg.get('setgid_group')) ?? ids.gid };
}

/** Runs the process as mail_owner from here on (groups: its own and setgid_group). */
export function becomeMailOwner(ids: MailOwner): void {
  process.setgroups?.([ids.gid, ids.dropGid]);
  process.setgid?.(ids.gid);
  process.setuid?.(ids.uid);
}
