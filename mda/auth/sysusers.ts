/*
 * The system user and group files, read directly because Node has no getpwnam(3)/getspnam(3):
 * uid/gid names to numbers for passwd-file and static userdb fields (`uid=vmail`), and whole
 * passwd(5)/shadow(5) entries for the passwd userdb and the shadow passdb. Numbers pass through.
 *
 * Deviation from Dovecot (which calls the NSS functions): only the files are consulted, so users
 * that NSS gets from LDAP, sssd, systemd-homed or NIS are not seen. The paths are parameters so
 * tests can use fake files. Files are read per call (they are small and change rarely).
 *
 * Distrusts the files: malformed lines (too few fields, non-numeric ids) are skipped, and NSS
 * compat lines (`+`/`-` entries) are ignored. The first line for a name wins, as in glibc.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export const SYSTEM_PASSWD_FILE = '/etc/passwd';
export const SYSTEM_SHADOW_FILE = '/etc/shadow';
export const SYSTEM_GROUP_FILE = '/etc/group';

/** One passwd(5) line. */
export interface PasswdEntry {
  name: string;
  /** The password field ("x" when the hash lives in /etc/shadow). */
  passwd: string;
  uid: number;
  gid: number;
  gecos: string;
  dir: string;
  shell: string;
}

/** One shadow(5) line; only the fields Dovecot's shadow passdb uses. */
export interface ShadowEntry {
  name: string;
  /** The encrypted password ("!…" or "*" = locked / no password login). */
  passwd: string;
}

const ID = /^[0-9]+$/;

function isCompat(name: string): boolean {
  return name === '' || name.startsWith('+') || name.startsWith('-');
}

/** Parses a passwd(5) line; undefined for comments, compat entries and malformed lines. */
export function parsePasswdLine(line: string): PasswdEntry | undefined {
  const f = line.split(':');
  if (f.length < 7 || isCompat(f[0]!) || line.startsWith('#')) return undefined;
  const [name, passwd, uid, gid, gecos, dir] = f as [string, string, string, string, string, string];
  if (!ID.test(uid) || !ID.test(gid)) return undefined;
  return { name, passwd, uid: Number(uid), gid: Number(gid), gecos, dir, shell: f.slice(6).join(':') };
}

/** Parses a shadow(5) line (name:passwd:…); undefined for malformed and compat lines. */
export function parseShadowLine(line: string): ShadowEntry | undefined {
  const f = line.split(':');
  if (f.length < 2 || isCompat(f[0]!) || line.startsWith('#')) return undefined;
  return { name: f[0]!, passwd: f[1]! };
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Every entry of a passwd file, in file order (getpwent). */
export async function readPasswdFile(path = SYSTEM_PASSWD_FILE): Promise<PasswdEntry[]> {
  const out: PasswdEntry[] = [];
  for (const l of lines(await readFile(path, 'utf8'))) {
    const e = parsePasswdLine(l);
    if (e) out.push(e);
  }
  return out;
}

/** getpwnam: the first entry with this name, or undefined. Throws when the file cannot be read. */
export async function getpwnam(name: string, path = SYSTEM_PASSWD_FILE): Promise<PasswdEntry | undefined> {
  for (const l of lines(await readFile(path, 'utf8'))) {
    if (!l.startsWith(`${name}:`)) continue;
    const e = parsePasswdLine(l);
    if (e && e.name === name) return e;
  }
  return undefined;
}

/** getspnam: the first shadow entry with this name, or undefined. Throws when unreadable (EACCES unless root). */
export async function getspnam(name: string, path = SYSTEM_SHADOW_FILE): Promise<ShadowEntry | undefined> {
  for (const l of lines(await readFile(path, 'utf8'))) {
    if (!l.startsWith(`${name}:`)) continue;
    const e = parseShadowLine(l);
    if (e && e.name === name) return e;
  }
  return undefined;
}

function lookupName(file: string, name: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && ID.test(f[2])) return f[2];
  }
  return undefined;
}

/** A uid as digits: numbers unchanged, names resolved; undefined when the name is unknown. */
export function resolveUid(v: string, passwdFile = SYSTEM_PASSWD_FILE): string | undefined {
  return ID.test(v) ? v : lookupName(passwdFile, v);
}

export function resolveGid(v: string, groupFile = SYSTEM_GROUP_FILE): string | undefined {
  return ID.test(v) ? v : lookupName(groupFile, v);
}
