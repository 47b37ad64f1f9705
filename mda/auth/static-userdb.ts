/*
 * The static userdb (Dovecot userdb-static.c): every user gets the same fields from the args
 * template, `%` expanded per lookup (`uid=vmail gid=vmail home=/var/vmail/%d/%n`). uid/gid names
 * are resolved to numbers. Without `allow_all_users=yes` a lookup first asks the passdb whether
 * the user exists, as Dovecot does when the passdb can look users up; with it, any name is found.
 *
 * Distrusts: nothing beyond the template (config).
 */
import { expandTemplate, parseFieldTemplate } from './fields.js';
import { requestVars, type AuthRequestInfo, type Passdb, type Userdb, type UserdbResult } from './db.js';
import { resolveGid, resolveUid } from './sysusers.js';
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';

export function staticUserdb(args: string, passdbs: readonly Passdb[] = []): Userdb {
  const tpl = parseFieldTemplate(args);
  const allowAll = tpl.some(([k, v]) => k === 'allow_all_users' && (v ?? 'yes') === 'yes');
  const fields = tpl.filter(([k]) => k !== 'allow_all_users');
  return {
    driver: 'static',
    async lookup(req: AuthRequestInfo): Promise<UserdbResult> {
      if (!allowAll && passdbs.length > 0) {
        let exists = false;
        for (const p of passdbs) {
          const r = await p.lookup(req);
          if (r.kind === 'fail') return r;
          if (r.kind === 'found') {
            exists = true;
            break;
          }
        }
        if (!exists) return { kind: 'notfound' };
      }
      const out: KeyValueFields = expandTemplate(fields, requestVars(req)).map(([k, v]) => {
        if (k === 'uid' && v !== undefined) return [k, resolveUid(v) ?? v];
        if (k === 'gid' && v !== undefined) return [k, resolveGid(v) ?? v];
        return [k, v];
      });
      return { kind: 'found', user: req.user, fields: out };
    },
  };
}
