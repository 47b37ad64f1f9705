/*
 * One passwd-file line (Dovecot db-passwd-file.c): user:password:uid:gid:gecos:home:shell:extra.
 * Fields 8+ are re-joined with ':' and split on spaces into "key=value" extra fields (so
 * `userdb_quota_rule=*:storage=1M` survives); `userdb_`-prefixed keys are userdb fields, the rest
 * passdb fields. Legacy form: an empty 8th field followed by more fields = userdb_mail; a
 * libpam-pwdfile "hash[34]" password = PLAIN-MD5, "[56]" = DIGEST-MD5, other "[n]" = CRYPT.
 * Empty lines, lines starting with '#' or ':' are skipped. Pure.
 *
 * Distrusts the file: a line that yields no user is skipped, never fatal.
 */
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';

export interface PasswdFileEntry {
  user: string;
  /** undefined when the field is empty or missing. */
  password: string | undefined;
  uid: string;
  gid: string;
  gecos: string;
  home: string;
  shell: string;
  passdbFields: KeyValueFields;
  /** userdb_ fields with the prefix removed. */
  userdbFields: KeyValueFields;
}

function legacyPassword(pw: string): string {
  if (pw.startsWith('{')) return pw;
  const m = /^(.*)\[([0-9]+)\]$/.exec(pw);
  if (!m) return pw;
  if (m[2] === '34') return `{PLAIN-MD5}${m[1]}`;
  if (m[2] === '56') return `{DIGEST-MD5}${m[1]}`;
  return `{CRYPT}${m[1]}`;
}

function splitExtra(text: string): { passdb: KeyValueFields; userdb: KeyValueFields } {
  const passdb: KeyValueFields = [];
  const userdb: KeyValueFields = [];
  for (const tok of text.split(' ')) {
    if (tok === '') continue;
    const eq = tok.indexOf('=');
    const key = eq < 0 ? tok : tok.slice(0, eq);
    const value = eq < 0 ? undefined : tok.slice(eq + 1);
    if (key.startsWith('userdb_')) userdb.push([key.slice('userdb_'.length), value]);
    else passdb.push([key, value]);
  }
  return { passdb, userdb };
}

/** Parses a line (without newline); undefined for comments, blank lines and lines without a user. */
export function parsePasswdFileLine(line: string): PasswdFileEntry | undefined {
  const l = line.replace(/\r$/, '');
  if (l === '' || l.startsWith('#') || l.startsWith(':')) return undefined;
  const f = l.split(':');
  const user = f[0]!;
  if (user.trim() === '') return undefined;
  const pw = f[1] ?? '';
  const entry: PasswdFileEntry = {
    user,
    password: pw === '' ? undefined : legacyPassword(pw),
    uid: f[2] ?? '',
    gid: f[3] ?? '',
    gecos: f[4] ?? '',
    home: f[5] ?? '',
    shell: f[6] ?? '',
    passdbFields: [],
    userdbFields: [],
  };
  if (f.length > 7) {
    if (f[7] === '') {
      const mail = f.slice(8).join(':');
      if (mail !== '') entry.userdbFields.push(['mail', mail]);
    } else {
      const x = splitExtra(f.slice(7).join(':'));
      entry.passdbFields = x.passdb;
      entry.userdbFields = x.userdb;
    }
  }
  return entry;
}
