/*
 * The passwd-file passdb and userdb (Dovecot db-passwd-file.c, passdb-passwd-file.c,
 * userdb-passwd-file.c). Args as in dovecot.conf: `[scheme=X] [username_format=%u] PATH`; the
 * path may hold `%` variables, expanded per lookup (per-domain files: a missing expanded file
 * means "unknown user", a missing fixed file is an internal failure). Files are re-read when
 * their mtime or size changes. A duplicate user is logged and the first line wins.
 *
 * Distrusts: the login name when it is put into a path (a '/' or a leading '.' in a variable
 * makes the lookup "unknown user"), and the file (see passwd-file-format.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { expandVars } from '../../shared/config/dovecot/var-expand.js';
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';
import { parsePasswdFileLine, type PasswdFileEntry } from './passwd-file-format.js';
import { requestVars, type AuthRequestInfo, type Passdb, type PassdbResult, type Userdb, type UserdbResult } from './db.js';
import { resolveGid, resolveUid } from './sysusers.js';
import type { AuthLog } from './log.js';

export interface PasswdFileArgs {
  path: string;
  /** Default scheme for passwords without "{SCHEME}" (passdb only). */
  scheme: string;
  username_format: string;
}

/** Parses `scheme=CRYPT username_format=%u /etc/dovecot/users`. */
export function parsePasswdFileArgs(args: string): PasswdFileArgs {
  const out: PasswdFileArgs = { path: '', scheme: 'CRYPT', username_format: '%u' };
  for (const tok of args.trim().split(/\s+/)) {
    if (tok.startsWith('scheme=')) out.scheme = tok.slice('scheme='.length);
    else if (tok.startsWith('username_format=')) out.username_format = tok.slice('username_format='.length);
    else if (tok !== '') out.path = tok;
  }
  return out;
}

interface Loaded {
  mtimeMs: number;
  size: number;
  users: Map<string, PasswdFileEntry>;
}

/** Reads and caches passwd-files by path. */
export class PasswdFileCache {
  private readonly files = new Map<string, Loaded>();
  constructor(private readonly log?: AuthLog) {}

  /** The users of a file; undefined when it does not exist. Throws for other I/O errors. */
  async users(path: string): Promise<Map<string, PasswdFileEntry> | undefined> {
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const cached = this.files.get(path);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.users;
    const text = await readFile(path, 'utf8');
    const users = new Map<string, PasswdFileEntry>();
    for (const line of text.split('\n')) {
      const e = parsePasswdFileLine(line);
      if (!e) continue;
      if (users.has(e.user)) {
        this.log?.error(`passwd-file ${path}: User ${e.user} exists more than once`);
        continue;
      }
      users.set(e.user, e);
    }
    this.files.set(path, { mtimeMs: st.mtimeMs, size: st.size, users });
    return users;
  }
}

function safeVars(vars: Record<string, string | undefined>): boolean {
  for (const k of ['u', 'n', 'd']) {
    const v = vars[k];
    if (v !== undefined && (v.includes('/') || v.startsWith('.') || v.includes('\0'))) return false;
  }
  return true;
}

type Found = { kind: 'entry'; entry: PasswdFileEntry } | { kind: 'notfound' } | { kind: 'fail'; reason: string };

async function find(cache: PasswdFileCache, args: PasswdFileArgs, req: AuthRequestInfo): Promise<Found> {
  const vars = requestVars(req);
  const key = expandVars(args.username_format, vars);
  const dynamic = args.path.includes('%');
  if (dynamic && !safeVars(vars)) return { kind: 'notfound' };
  const path = dynamic ? expandVars(args.path, vars) : args.path;
  let users;
  try {
    users = await cache.users(path);
  } catch (err) {
    return { kind: 'fail', reason: `passwd-file ${path}: ${(err as Error).message}` };
  }
  if (users === undefined) {
    return dynamic ? { kind: 'notfound' } : { kind: 'fail', reason: `passwd-file ${path}: open failed: No such file or directory` };
  }
  const entry = users.get(key);
  return entry ? { kind: 'entry', entry } : { kind: 'notfound' };
}

function userdbFieldsOf(e: PasswdFileEntry): KeyValueFields {
  const out: KeyValueFields = [];
  const uid = e.uid === '' ? undefined : resolveUid(e.uid);
  const gid = e.gid === '' ? undefined : resolveGid(e.gid);
  if (uid !== undefined && uid !== '0') out.push(['uid', uid]);
  if (gid !== undefined && gid !== '0') out.push(['gid', gid]);
  if (e.home !== '') out.push(['home', e.home]);
  return [...out, ...e.userdbFields];
}

export function passwdFilePassdb(args: PasswdFileArgs, cache = new PasswdFileCache()): Passdb {
  return {
    driver: 'passwd-file',
    async lookup(req: AuthRequestInfo): Promise<PassdbResult> {
      const f = await find(cache, args, req);
      if (f.kind !== 'entry') return f;
      return {
        kind: 'found',
        user: req.user,
        password: f.entry.password,
        defaultScheme: args.scheme,
        extra: f.entry.passdbFields,
        userdbFields: userdbFieldsOf(f.entry),
      };
    },
  };
}

export function passwdFileUserdb(args: PasswdFileArgs, cache = new PasswdFileCache()): Userdb {
  return {
    driver: 'passwd-file',
    async lookup(req: AuthRequestInfo): Promise<UserdbResult> {
      const f = await find(cache, args, req);
      if (f.kind !== 'entry') return f;
      return { kind: 'found', user: req.user, fields: userdbFieldsOf(f.entry) };
    },
    list: args.path.includes('%') ? undefined : async function* list(): AsyncIterable<string> {
      const users = await cache.users(args.path);
      if (users) yield* users.keys();
    },
  };
}
