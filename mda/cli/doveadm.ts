/*
 * doveadm (Dovecot 2.3.19's admin tool) for Postern: the entry point. Parses the global options
 * (`-c cfg -o k=v -f flow|tab|table|json|pager -D -v`), finds the command in one table and runs
 * it; the commands live in mda/cli/doveadm/ (one file per group), output goes through the
 * formatter module (doveadm/print.ts) with each command's default format, and the exit codes are
 * doveadm's: 0, 64 usage, 65 data error (mailbox exists), 67 unknown user, 68 not found, 75
 * temporary failure, 77 auth failed, 89 fatal.
 * Mail goes only through mda/storage/api.ts, users only through the auth service.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FormatterError, parseGlobal, UsageError } from './doveadm/args.js';
import { AUTH_USAGE, authLookup, authTest, user } from './doveadm/auth-commands.js';
import { DoveadmContext, DoveadmExit, EX_FATAL, EX_TEMPFAIL, EX_USAGE, type DoveadmIo } from './doveadm/context.js';
import { expungeCommand, fetchCommand, flagsCommand, MAIL_USAGE, searchCommand } from './doveadm/mail-commands.js';
import { MAILBOX_SUBCOMMANDS, mailboxCommand, mailboxUsage } from './doveadm/mailbox.js';
import { forceResync, kick, signalDaemon, who } from './doveadm/process-commands.js';
import { PW_USAGE, pw } from './doveadm/pw.js';
import { QUOTA_USAGE, quotaGet } from './doveadm/quota.js';
import { DoveadmPrintError } from './doveadm/print.js';

export { EX_NOPERM, EX_NOUSER, EX_TEMPFAIL, EX_USAGE } from './doveadm/context.js';
export type { DoveadmIo } from './doveadm/context.js';

interface Command {
  /** Words of the command name: ['mailbox', 'list']. */
  readonly words: readonly string[];
  readonly usage: string;
  run(ctx: DoveadmContext, args: readonly string[]): Promise<void>;
}

const COMMANDS: readonly Command[] = [
  { words: ['pw'], usage: PW_USAGE, run: pw },
  { words: ['user'], usage: AUTH_USAGE['user']!, run: user },
  { words: ['auth', 'test'], usage: AUTH_USAGE['auth test']!, run: authTest },
  { words: ['auth', 'lookup'], usage: AUTH_USAGE['auth lookup']!, run: authLookup },
  ...MAILBOX_SUBCOMMANDS.map((sub): Command => ({ words: ['mailbox', sub], usage: mailboxUsage(sub).trimEnd(), run: (ctx, a) => mailboxCommand(ctx, sub, a) })),
  { words: ['fetch'], usage: MAIL_USAGE['fetch']!, run: fetchCommand },
  { words: ['search'], usage: MAIL_USAGE['search']!, run: searchCommand },
  { words: ['expunge'], usage: MAIL_USAGE['expunge']!, run: expungeCommand },
  ...(['add', 'remove', 'replace'] as const).map((m): Command => ({ words: ['flags', m], usage: MAIL_USAGE[`flags ${m}`]!, run: (ctx, a) => flagsCommand(ctx, m, a) })),
  { words: ['quota', 'get'], usage: QUOTA_USAGE, run: quotaGet },
  { words: ['force-resync'], usage: 'doveadm force-resync [-u <user>|-A] [-S <socket_path>] [-f] <mailbox mask>', run: forceResync },
  { words: ['reload'], usage: 'doveadm reload ', run: (ctx) => signalDaemon(ctx, 'reload') },
  { words: ['stop'], usage: 'doveadm stop ', run: (ctx) => signalDaemon(ctx, 'stop') },
  { words: ['who'], usage: 'doveadm who [-a <anvil socket path>] [-1] [<user mask>] [<ip/bits>]', run: who },
  { words: ['kick'], usage: 'doveadm kick [-a <anvil socket path>] <user mask>[|]<ip/bits>', run: kick },
];

function mainUsage(io: DoveadmIo): number {
  const groups = new Map<string, string[]>();
  for (const c of COMMANDS) groups.set(c.words[0]!, [...(groups.get(c.words[0]!) ?? []), ...c.words.slice(1)]);
  const lines = [...groups].map(([w, subs]) => {
    const single = COMMANDS.find((c) => c.words.length === 1 && c.words[0] === w);
    const text = single !== undefined ? single.usage.replace(/^doveadm \S+ ?/, '') : subs.join('|');
    return `  ${w.padEnd(12)} ${text}`;
  });
  io.stderr(`usage: doveadm [-Dv] [-f <formatter>] <command> [<args>]\n${' '.repeat(15)}\n${lines.join('\n')}\n`);
  return EX_USAGE;
}

function groupUsage(io: DoveadmIo, group: string): number {
  const subs = COMMANDS.filter((c) => c.words[0] === group && c.words.length > 1);
  io.stderr(`usage: doveadm [-Dv] [-f <formatter>] ${group} <command> [<args>]\n${subs.map((c) => `  ${c.words[1]!.padEnd(12)} ${c.usage.replace(/^doveadm \S+ \S+ ?/, '')}`).join('\n')}\n`);
  return EX_USAGE;
}

export async function doveadm(argv: readonly string[], io: DoveadmIo): Promise<number> {
  let parsed: ReturnType<typeof parseGlobal>;
  try {
    parsed = parseGlobal(argv);
  } catch (err) {
    if (err instanceof FormatterError) {
      io.stderr(`doveadm: Fatal: ${err.message}\n`);
      return EX_TEMPFAIL;
    }
    return mainUsage(io);
  }
  const { opts, rest } = parsed;
  const first = rest[0];
  if (first === undefined) return mainUsage(io);
  let cmd = COMMANDS.find((c) => c.words.length === 1 && c.words[0] === first);
  let args = rest.slice(1);
  if (cmd === undefined) {
    if (!COMMANDS.some((c) => c.words[0] === first)) return mainUsage(io);
    cmd = COMMANDS.find((c) => c.words.length === 2 && c.words[0] === first && c.words[1] === rest[1]);
    if (cmd === undefined) return groupUsage(io, first);
    args = rest.slice(2);
  }
  const ctx = new DoveadmContext(opts, io);
  try {
    await cmd.run(ctx, args);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.finish();
      io.stderr(`${cmd.usage}\n`);
      return EX_USAGE;
    }
    if (err instanceof DoveadmExit) {
      ctx.finish();
      return err.status;
    }
    if (err instanceof DoveadmPrintError) {
      io.stderr(`${ctx.currentUser !== undefined ? `doveadm(${ctx.currentUser}): ` : ''}Fatal: ${err.message}\n`);
      return ctx.currentUser !== undefined ? EX_TEMPFAIL : EX_FATAL;
    }
    ctx.finish();
    io.stderr(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    return ctx.exitCode !== 0 ? ctx.exitCode : EX_TEMPFAIL;
  }
  ctx.finish();
  return ctx.exitCode;
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const io: DoveadmIo = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    ...(process.stdout.isTTY ? { columns: process.stdout.columns } : {}),
    env: process.env,
  };
  void doveadm(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  }, (err: unknown) => {
    process.stderr.write(`Fatal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EX_FATAL;
  });
}
