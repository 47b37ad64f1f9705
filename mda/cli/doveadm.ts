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
import { DoveadmContext, DoveadmExit, EX_FATAL, EX_TEMPFAIL, EX_USAGE, type DoveadmIo } from './doveadm/context.js';
import { MAILBOX_SUBCOMMANDS, mailboxCommand, mailboxUsage } from './doveadm/mailbox.js';
import { DoveadmPrintError } from './doveadm/print.js';

export { EX_NOPERM, EX_NOUSER, EX_TEMPFAIL, EX_USAGE } from './doveadm/context.js';
export type { DoveadmIo } from './doveadm/context.js';

type Run = (ctx: DoveadmContext, args: readonly string[]) => Promise<void>;

interface Command {
  /** Words of the command name: ['mailbox', 'list']. */
  readonly words: readonly string[];
  /**
   * The command's usage line and code. The modules of other commands are imported only when
   * run (or for a usage listing): a `mailbox status` does not load the IMAP message parser, the
   * password schemes or the admin protocol, which was most of its start-up time.
   */
  load(): Promise<{ readonly usage: string; readonly run: Run }>;
}

const auth = (): Promise<typeof import('./doveadm/auth-commands.js')> => import('./doveadm/auth-commands.js');
const mail = (): Promise<typeof import('./doveadm/mail-commands.js')> => import('./doveadm/mail-commands.js');
const proc = (): Promise<typeof import('./doveadm/process-commands.js')> => import('./doveadm/process-commands.js');

const COMMANDS: readonly Command[] = [
  { words: ['pw'], load: async () => import('./doveadm/pw.js').then((m) => ({ usage: m.PW_USAGE, run: m.pw })) },
  { words: ['user'], load: async () => auth().then((m) => ({ usage: m.AUTH_USAGE['user']!, run: m.user })) },
  { words: ['auth', 'test'], load: async () => auth().then((m) => ({ usage: m.AUTH_USAGE['auth test']!, run: m.authTest })) },
  { words: ['auth', 'lookup'], load: async () => auth().then((m) => ({ usage: m.AUTH_USAGE['auth lookup']!, run: m.authLookup })) },
  ...MAILBOX_SUBCOMMANDS.map((sub): Command => ({ words: ['mailbox', sub], load: async () => ({ usage: mailboxUsage(sub).trimEnd(), run: (ctx, a) => mailboxCommand(ctx, sub, a) }) })),
  { words: ['fetch'], load: async () => mail().then((m) => ({ usage: m.MAIL_USAGE['fetch']!, run: m.fetchCommand })) },
  { words: ['search'], load: async () => mail().then((m) => ({ usage: m.MAIL_USAGE['search']!, run: m.searchCommand })) },
  { words: ['expunge'], load: async () => mail().then((m) => ({ usage: m.MAIL_USAGE['expunge']!, run: m.expungeCommand })) },
  ...(['add', 'remove', 'replace'] as const).map((f): Command => ({ words: ['flags', f], load: async () => mail().then((m) => ({ usage: m.MAIL_USAGE[`flags ${f}`]!, run: (ctx: DoveadmContext, a: readonly string[]) => m.flagsCommand(ctx, f, a) })) })),
  { words: ['quota', 'get'], load: async () => import('./doveadm/quota.js').then((m) => ({ usage: m.QUOTA_USAGE, run: m.quotaGet })) },
  { words: ['index'], load: async () => import('./doveadm/index-command.js').then((m) => ({ usage: m.INDEX_USAGE, run: m.indexCommand })) },
  { words: ['force-resync'], load: async () => proc().then((m) => ({ usage: 'doveadm force-resync [-u <user>|-A] [-S <socket_path>] [-f] <mailbox mask>', run: m.forceResync })) },
  { words: ['reload'], load: async () => proc().then((m) => ({ usage: 'doveadm reload ', run: (ctx: DoveadmContext) => m.signalDaemon(ctx, 'reload') })) },
  { words: ['stop'], load: async () => proc().then((m) => ({ usage: 'doveadm stop ', run: (ctx: DoveadmContext) => m.signalDaemon(ctx, 'stop') })) },
  { words: ['who'], load: async () => proc().then((m) => ({ usage: 'doveadm who [-a <anvil socket path>] [-1] [<user mask>] [<ip/bits>]', run: m.who })) },
  { words: ['kick'], load: async () => proc().then((m) => ({ usage: 'doveadm kick [-a <anvil socket path>] <user mask>[|]<ip/bits>', run: m.kick })) },
];

async function mainUsage(io: DoveadmIo): Promise<number> {
  const usages = await Promise.all(COMMANDS.map(async (c) => (await c.load()).usage));
  const groups = new Map<string, string[]>();
  for (const c of COMMANDS) groups.set(c.words[0]!, [...(groups.get(c.words[0]!) ?? []), ...c.words.slice(1)]);
  const lines = [...groups].map(([w, subs]) => {
    const single = COMMANDS.findIndex((c) => c.words.length === 1 && c.words[0] === w);
    const text = single >= 0 ? usages[single]!.replace(/^doveadm \S+ ?/, '') : subs.join('|');
    return `  ${w.padEnd(12)} ${text}`;
  });
  io.stderr(`usage: doveadm [-Dv] [-f <formatter>] <command> [<args>]\n${' '.repeat(15)}\n${lines.join('\n')}\n`);
  return EX_USAGE;
}

async function groupUsage(io: DoveadmIo, group: string): Promise<number> {
  const subs = COMMANDS.filter((c) => c.words[0] === group && c.words.length > 1);
  const usages = await Promise.all(subs.map(async (c) => (await c.load()).usage));
  io.stderr(`usage: doveadm [-Dv] [-f <formatter>] ${group} <command> [<args>]\n${subs.map((c, i) => `  ${c.words[1]!.padEnd(12)} ${usages[i]!.replace(/^doveadm \S+ \S+ ?/, '')}`).join('\n')}\n`);
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
  const { usage, run } = await cmd.load();
  const ctx = new DoveadmContext(opts, io);
  try {
    await run(ctx, args);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.finish();
      io.stderr(`${usage}\n`);
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
