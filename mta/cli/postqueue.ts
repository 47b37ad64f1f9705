/*
 * postqueue(1): `-p` (the mailq listing), `-j` (one JSON object per message), `-f` (flush),
 * `-i ID` (deliver one message), `-s site` (fast flush), `-c dir` / MAIL_CONFIG.
 *
 * Follows Postfix 3.7 as observed (reference/postfix.md §5.2): the listing formats are
 * mta/showq/format.ts; with no daemon answering, `-f` and `-i` print
 * `postqueue: fatal: Cannot flush mail queue - mail system is down` after a warning naming the
 * endpoint, and every fatal error exits 69 (EX_UNAVAILABLE). `-s` refuses a destination outside
 * fast_flush_domains with `Flush service is not configured for destination "site"`, as Postfix's
 * flush client does before contacting anything.
 * Distrusts: argv (getopt, queue-ID and destination syntax) and the daemon's reply line.
 */
import { postfixDiag, runCli, type Diag } from '../../shared/cli/diag.js';
import { loadPostfixConfig, splitList } from '../../shared/config/postfix/config.js';
import { controlRequest, ControlUnavailableError } from '../queue/control-client.js';
import { isValidSite, type ControlRequest } from '../queue/control-proto.js';
import { isValidQueueId } from '../queue/queue-id.js';
import { queuePaths } from '../queue/paths.js';
import { configDirFrom, loadQueueSettings } from './queue-config.js';
import { getopt, GetoptError } from '../../shared/cli/getopt.js';
import { readQueue, renderListing } from './queue-listing.js';
import { siteMatchesFlushDomains } from './queue-flush-domains.js';

const FATAL = 69;
const USAGE = 'usage: postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p | postqueue -s site';
const DOWN = 'Cannot flush mail queue - mail system is down';

type Mode = { kind: 'list'; json: boolean } | { kind: 'flush' } | { kind: 'schedule'; id: string } | { kind: 'site'; site: string };

export async function postqueueMain(
  argv: readonly string[],
  io: { stdout: (s: string) => void; env: NodeJS.ProcessEnv; diag: Diag },
): Promise<number> {
  const { diag } = io;
  let parsed;
  try {
    parsed = getopt('postqueue', argv, 'c:fi:jps:v');
  } catch (err) {
    if (err instanceof GetoptError) {
      diag.info(err.message.replace(/^postqueue: /, ''));
      return diag.fatal(USAGE, FATAL);
    }
    throw err;
  }
  let configOpt: string | undefined;
  const modes: Mode[] = [];
  for (const { opt, arg } of parsed.opts) {
    if (opt === 'c') configOpt = arg;
    else if (opt === 'p') modes.push({ kind: 'list', json: false });
    else if (opt === 'j') modes.push({ kind: 'list', json: true });
    else if (opt === 'f') modes.push({ kind: 'flush' });
    else if (opt === 'i') modes.push({ kind: 'schedule', id: arg! });
    else if (opt === 's') modes.push({ kind: 'site', site: arg! });
  }
  if (modes.length !== 1 || parsed.rest.length > 0) return diag.fatal(USAGE, FATAL);
  const mode = modes[0]!;
  const configDir = configDirFrom(configOpt, io.env);
  const settings = loadQueueSettings(configDir, diag, FATAL);

  if (mode.kind === 'list') {
    let records;
    try {
      records = await readQueue(settings);
    } catch (err) {
      return diag.fatal(`cannot read the mail queue: ${(err as Error).message}`, FATAL);
    }
    io.stdout(renderListing(records, mode.json, settings.longQueueIds));
    return 0;
  }

  let req: ControlRequest;
  if (mode.kind === 'flush') req = { verb: 'FLUSH' };
  else if (mode.kind === 'schedule') {
    if (!isValidQueueId(mode.id)) return diag.fatal(`invalid mail queue id: ${mode.id}`, FATAL);
    req = { verb: 'SCHEDULE', queueId: mode.id };
  } else {
    const domains = splitList(loadPostfixConfig({ configDir }).get('fast_flush_domains'));
    if (!isValidSite(mode.site) || !siteMatchesFlushDomains(mode.site, domains)) {
      return diag.fatal(`Flush service is not configured for destination "${mode.site}"`, FATAL);
    }
    req = { verb: 'SITE', site: mode.site };
  }
  const paths = queuePaths(settings.queueDirectory);
  try {
    const res = await controlRequest(paths.controlSocket, req);
    if (res.status === 'OK') return 0;
    if (res.status === 'NOTCONFIGURED') {
      return diag.fatal(`Flush service is not configured for destination "${mode.kind === 'site' ? mode.site : ''}"`, FATAL);
    }
    return diag.fatal(`Cannot flush mail queue: ${res.text}`, FATAL);
  } catch (err) {
    if (!(err instanceof ControlUnavailableError)) throw err;
    diag.warn(mode.kind === 'flush'
      ? `unable to look up ${paths.controlSocketName}: ${err.reason}`
      : `connect to ${paths.controlSocketName}: ${err.reason}`);
    return diag.fatal(DOWN, FATAL);
  }
}

void runCli(() =>
  postqueueMain(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    env: process.env,
    diag: postfixDiag('postqueue'),
  }),
);
