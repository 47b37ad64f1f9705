/*
 * mailq(1) = `postqueue -p` = `sendmail -bp` (reference/postfix.md §5.2, §5.4): the same listing,
 * under its own name. Accepts sendmail's `-C dir` (and `-c dir`) for the configuration directory;
 * other sendmail options are accepted and ignored as Postfix's sendmail does. Fatal errors exit 75
 * (EX_TEMPFAIL), as observed from Postfix's mailq.
 */
import { postfixDiag, runCli, type Diag } from '../../shared/cli/diag.js';
import { configDirFrom, loadQueueSettings } from './queue-config.js';
import { readQueue, renderListing } from './queue-listing.js';

const FATAL = 75;

export async function mailqMain(
  argv: readonly string[],
  io: { stdout: (s: string) => void; env: NodeJS.ProcessEnv; diag: Diag },
): Promise<number> {
  let configOpt: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-C' || a === '-c') configOpt = argv[++i];
    else if (/^-[Cc]./.test(a)) configOpt = a.slice(2);
  }
  const settings = loadQueueSettings(configDirFrom(configOpt, io.env), io.diag, FATAL);
  let records;
  try {
    records = await readQueue(settings);
  } catch (err) {
    return io.diag.fatal(`cannot read the mail queue: ${(err as Error).message}`, FATAL);
  }
  io.stdout(renderListing(records, false, settings.longQueueIds));
  return 0;
}

void runCli(() =>
  mailqMain(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), env: process.env, diag: postfixDiag('mailq') }),
);
