/*
 * doveadm (Dovecot 2.3 admin tool), the subset built so far: `pw` (-s -p -t -r -l), `user`
 * (userdb lookup, `field\tvalue` rows, `-f field` for the value only) and `auth test`, reading
 * the same dovecot.conf (`-c FILE`, default /etc/dovecot/dovecot.conf) and looking users up
 * in-process through the auth service main.ts builds (real doveadm asks the running daemon's
 * auth-userdb socket; the answers are the same). Output and exit codes as real doveadm 2.3.19:
 * 0 ok, 64 usage, 67 user unknown, 75 tempfail / `pw -t` mismatch, 77 auth failed.
 * Not built yet: mailbox list|create|delete|rename|subscribe|status, fetch, search, expunge,
 * quota get, force-resync, reload, who, kick, and the -f output formatters.
 *
 * Passwords given on the command line are never printed back except as the hash asked for.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../shared/cli/diag.js';
import { loadDovecotConfig } from '../../shared/config/dovecot/config.js';
import { generate, isKnownScheme, schemeNames, verify } from '../auth/schemes/registry.js';
import { authServiceFromConfig } from '../main.js';

export const EX_USAGE = 64;
export const EX_NOUSER = 67;
export const EX_TEMPFAIL = 75;
export const EX_NOPERM = 77;

export interface DoveadmIo {
  stdout(s: string): void;
  stderr(s: string): void;
}

async function pw(args: string[], io: DoveadmIo): Promise<number> {
  let scheme = 'CRYPT';
  let plain: string | undefined;
  let test: string | undefined;
  let rounds: number | undefined;
  let user: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = (): string => args[++i] ?? '';
    if (a === '-l') {
      io.stdout(`${schemeNames().join(' ')} \n`);
      return 0;
    } else if (a === '-s') scheme = v().toUpperCase();
    else if (a === '-p') plain = v();
    else if (a === '-t') test = v();
    else if (a === '-r') rounds = Number(v());
    else if (a === '-u') user = v();
    else if (a === '-V') continue;
    else return usage(io);
  }
  if (!isKnownScheme(scheme)) {
    io.stderr(`Fatal: Unknown scheme: ${scheme}\n`);
    return EX_TEMPFAIL;
  }
  if (plain === undefined) {
    io.stderr('Fatal: reading the password from a terminal is not supported; use -p\n');
    return EX_USAGE;
  }
  const opts = { ...(rounds !== undefined ? { rounds } : {}), ...(user !== undefined ? { user } : {}) };
  if (test !== undefined) {
    let ok = false;
    try {
      ok = await verify(test, plain, { ...opts });
    } catch (err) {
      io.stderr(`Fatal: reverse decode check failed: ${err instanceof Error ? err.message : String(err)}\n`);
      return EX_TEMPFAIL;
    }
    if (!ok) {
      io.stderr('Fatal: reverse password verification check failed: Password mismatch\n');
      return EX_TEMPFAIL;
    }
    io.stdout(`${test} (verified)\n`);
    return 0;
  }
  io.stdout(`${await generate(scheme, plain, opts)}\n`);
  return 0;
}

function usage(io: DoveadmIo): number {
  io.stderr('usage: doveadm [-Dv] [-f <formatter>] <command> [<args>]\n');
  return EX_USAGE;
}

export async function doveadm(argv: readonly string[], io: DoveadmIo): Promise<number> {
  let config = '/etc/dovecot/dovecot.conf';
  const args = [...argv];
  while (args[0]?.startsWith('-') === true) {
    const o = args.shift()!;
    if (o === '-c') config = args.shift() ?? config;
    else if (o === '-f' || o === '-o') args.shift();
    else if (o !== '-D' && o !== '-v') return usage(io);
  }
  const cmd = args.shift();
  if (cmd === 'pw') return pw(args, io);
  if (cmd !== 'user' && cmd !== 'auth') return usage(io);
  const auth = authServiceFromConfig(loadDovecotConfig(config));
  if (cmd === 'user') {
    let field: string | undefined;
    const names: string[] = [];
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '-f') field = args[++i];
      else names.push(args[i]!);
    }
    if (names.length === 0) return usage(io);
    let status = 0;
    for (const name of names) {
      const n = auth.normalize(name, { service: 'doveadm' });
      const r = n.ok ? await auth.userLookup(n.user, { service: 'doveadm' }) : { kind: 'notfound' as const };
      if (r.kind === 'notfound') {
        io.stderr(`userdb lookup: user ${name} doesn't exist\n`);
        status = EX_NOUSER;
      } else if (r.kind === 'fail') {
        io.stderr(`Error: userdb lookup(${name}): ${r.reason}\n`);
        status = EX_TEMPFAIL;
      } else if (field !== undefined) {
        io.stdout(`${r.fields.find(([k]) => k === field)?.[1] ?? ''}\n`);
      } else {
        io.stdout(`field\tvalue\nuser\t${r.user}\n${r.fields.map(([k, v]) => `${k}\t${v ?? ''}\n`).join('')}`);
      }
    }
    return status;
  }
  if (args[0] !== 'test' || args[1] === undefined) return usage(io);
  const user = args[1];
  const password = args[2] ?? '';
  const r = await auth.verifyPlain(user, Buffer.from(password, 'utf8'), { service: 'doveadm' });
  if (r.kind === 'ok') {
    io.stdout(`passdb: ${user} auth succeeded\nextra fields:\n  user=${r.user}\n${r.passdbExtra.map(([k, v]) => `  ${k}=${v ?? ''}\n`).join('')}`);
    return 0;
  }
  io.stdout(`passdb: ${user} auth failed\nextra fields:\n${r.user !== undefined ? `  user=${r.user}\n` : ''}`);
  return r.temp ? EX_TEMPFAIL : EX_NOPERM;
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  void runCli(() => doveadm(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }));
}
