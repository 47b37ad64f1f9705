/*
 * doveadm user, auth test, auth lookup (Dovecot 2.3.19 doveadm-auth.c), answered in-process by
 * the auth service built from the same dovecot.conf (real doveadm asks the daemon's auth-userdb
 * socket; the answers are the same).
 *  - user <name…>: tab formatter `field value` rows: `user` (only when the userdb renamed it),
 *    uid, gid, home, mail (mail_location expanded), then the other userdb fields; `-f field`
 *    prints the value only; `-u` prints the raw userdb reply (`userdb: name` + `  key       : v`,
 *    the reply's user name first);
 *    a mask with `*`/`?` lists matching users (userdb iteration). Unknown user: an empty line and
 *    `userdb lookup: user X doesn't exist` on stdout (stderr with -f), exit 67. Users are
 *    separated by an empty line printed with printf (so it lands after the formatter's output).
 *  - auth lookup <name…>: `passdb: name` + `  %-10s: value` per passdb field.
 *  - auth test <name> [password]: `passdb: name auth succeeded|failed`, `extra fields:` (with
 *    `code=user_disabled` for a locked account); 0 or 77.
 */
import { expandVars, userVars } from '../../../shared/config/dovecot/var-expand.js';
import { fieldValue, type KeyValueFields } from '../../../shared/proto/tab-escape.js';
import { getopt, optValue, UsageError } from './args.js';
import { EX_NOPERM, EX_NOUSER, EX_TEMPFAIL, type DoveadmContext } from './context.js';
import { wildcardMatch } from './mail-user.js';

export const AUTH_USAGE: Record<string, string> = {
  user: 'doveadm user [-a <userdb socket path>] [-x <auth info>] [-f field] [-e <value>] [-u] <user mask> [<user mask> [...]]',
  'auth test': 'doveadm auth test [-a <auth socket path>] [-x <auth info>] [-M <master user>] <user> [<password>]',
  'auth lookup': 'doveadm auth lookup [-a <userdb socket path>] [-x <auth info>] [-f field] <user> [<user> [...]]',
};

const FACTS = { service: 'doveadm' } as const;

function rawFields(ctx: DoveadmContext, kind: 'userdb' | 'passdb', input: string, fields: string[], showField: string | undefined): void {
  const printer = ctx.printer('flow');
  if (showField !== undefined) {
    for (const f of fields) if (f.startsWith(`${showField}=`)) printer.printf(`${f.slice(showField.length + 1)}\n`);
    return;
  }
  let text = `${kind}: ${input}\n`;
  for (const f of fields) {
    const eq = f.indexOf('=');
    text += eq < 0 ? `  ${f.padEnd(10)}\n` : `  ${f.slice(0, eq).padEnd(10)}: ${f.slice(eq + 1)}\n`;
  }
  printer.printf(text);
}

const kv = (fields: KeyValueFields): string[] => fields.map(([k, v]) => (v === undefined ? k : `${k}=${v}`));

export async function user(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  const p = getopt(args, 'a:x:f:e:u');
  const showField = optValue(p, 'f');
  const userdbOnly = p.flags.has('u');
  if (p.rest.length === 0) throw new UsageError('usage');
  const auth = ctx.auth();
  if (p.rest.some((m) => /[*?]/.test(m))) {
    const printer = ctx.printer('flow');
    for await (const name of auth.listUsers()) if (p.rest.some((m) => wildcardMatch(name, m))) printer.printf(`${name}\n`);
    return;
  }
  const printer = ctx.printer(userdbOnly || showField !== undefined ? 'flow' : 'tab');
  if (!userdbOnly && showField === undefined) {
    printer.header({ key: 'field', title: 'field' });
    printer.header({ key: 'value', title: 'value' });
  }
  let first = true;
  for (const input of p.rest) {
    if (!first) printer.printf('\n');
    first = false;
    const n = auth.normalize(input, FACTS);
    const r = n.ok ? await auth.userLookup(n.user, FACTS) : ({ kind: 'notfound' } as const);
    if (r.kind === 'fail') {
      ctx.error(`userdb lookup failed for ${input}: ${r.reason}`);
      ctx.fail(EX_TEMPFAIL);
      continue;
    }
    if (r.kind === 'notfound') {
      const text = `${userdbOnly ? '' : '\n'}userdb lookup: user ${input} doesn't exist\n`;
      if (showField === undefined) printer.printf(text);
      else ctx.io.stderr(text);
      ctx.fail(EX_NOUSER);
      continue;
    }
    if (userdbOnly) {
      // Real doveadm prints the USER reply's user name as the first field.
      rawFields(ctx, 'userdb', input, [`user=${r.user}`, ...kv(r.fields)], showField);
      continue;
    }
    // No userdb home: mail_home, expanded (real doveadm: `mail_home = /srv/%d/%n/%s` shows /srv/dom/user/doveadm).
    const base = { ...userVars(r.user), s: 'doveadm', service: 'doveadm' };
    const home = fieldValue(r.fields, 'home') ?? expandVars(ctx.setting('mail_home'), base);
    const vars = { ...base, h: home, home };
    const rows: [string, string][] = [];
    if (r.user !== input) rows.push(['user', r.user]);
    rows.push(['uid', fieldValue(r.fields, 'uid') ?? ctx.setting('mail_uid')]);
    rows.push(['gid', fieldValue(r.fields, 'gid') ?? ctx.setting('mail_gid')]);
    rows.push(['home', home]);
    rows.push(['mail', expandVars(fieldValue(r.fields, 'mail') ?? ctx.setting('mail_location'), vars)]);
    for (const [k, v] of r.fields) if (!['uid', 'gid', 'home', 'mail'].includes(k)) rows.push([k, v ?? '']);
    for (const [k, v] of rows) {
      if (showField === undefined) {
        printer.print(k);
        printer.print(v);
      } else if (k === showField) printer.printf(`${v}\n`);
    }
  }
}

export async function authLookup(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  const p = getopt(args, 'a:x:f:');
  const showField = optValue(p, 'f');
  if (p.rest.length === 0) throw new UsageError('usage');
  const auth = ctx.auth();
  const printer = ctx.printer('flow');
  let first = true;
  for (const input of p.rest) {
    if (!first) printer.printf('\n');
    first = false;
    const n = auth.normalize(input, FACTS);
    const r = n.ok ? await auth.passLookup(n.user, FACTS) : ({ kind: 'notfound' } as const);
    if (r.kind === 'fail') {
      ctx.error(`passdb lookup failed for ${input}: ${r.reason}`);
      ctx.fail(EX_TEMPFAIL);
      continue;
    }
    if (r.kind === 'notfound') {
      const text = `passdb lookup: user ${input} doesn't exist\n`;
      if (showField === undefined) printer.printf(text);
      else ctx.io.stderr(text);
      ctx.fail(EX_NOUSER);
      continue;
    }
    // The auth-master PASS reply: user=, the passdb's extra fields; prefetch userdb_ fields are
    // hidden from it and leave an empty field behind, which doveadm prints as a blank entry.
    const fields = [`user=${r.user}`, ...kv(r.extra.filter(([k]) => k !== 'password')), ...(r.userdbFields.some(([k]) => !['uid', 'gid', 'home'].includes(k)) ? [''] : [])];
    rawFields(ctx, 'passdb', input, fields, showField);
  }
}

export async function authTest(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  const p = getopt(args, 'a:x:M:');
  const [name, password = ''] = p.rest;
  if (name === undefined) throw new UsageError('usage');
  const r = await ctx.auth().verifyPlain(name, Buffer.from(password, 'utf8'), FACTS);
  const printer = ctx.printer('flow');
  if (r.kind === 'ok') {
    printer.printf(`passdb: ${name} auth succeeded\nextra fields:\n  user=${r.user}\n${kv(r.passdbExtra).map((f) => `  ${f}\n`).join('')}`);
    return;
  }
  const extra = [...(r.user !== undefined ? [`user=${r.user}`] : []), ...(r.code !== undefined && !r.temp ? [`code=${r.code}`] : [])];
  printer.printf(`passdb: ${name} auth failed\n${extra.length > 0 ? `extra fields:\n${extra.map((f) => `  ${f}\n`).join('')}` : ''}`);
  ctx.fail(EX_NOPERM);
}
