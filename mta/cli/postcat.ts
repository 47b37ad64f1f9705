/*
 * postcat(1) for the LMDB queue: `postcat [-bdehorv] [-c config_dir] [-s offset] -q queue_id…`.
 *
 * Postfix's postcat reads queue files; Postern's queue is an LMDB database, so postcat reads the
 * message's record and content read-only (LMDB readers never block the daemon) and prints the
 * record sequence a Postfix queue file for that message would hold (postcat-records.ts), in
 * Postfix's layout (postcat-render.ts). The queue path in the section lines is Postfix's:
 * `deferred/C/ID` for queues in hash_queue_names (hash_queue_depth characters of the ID),
 * otherwise `hold/ID`.
 * Differences forced by the queue format (see also postcat-records.ts): without -q, a file name
 * argument is taken as the queue ID in its last path component (there are no queue files to open);
 * reading a queue file from standard input is not possible; server_address/server_port are not
 * stored; the extracted segment is always empty.
 * Errors as Postfix's: `postcat: fatal: open queue file ID: No such file or directory`, exit 1.
 * Distrusts argv (getopt, queue-ID syntax) and stored bytes (the record decoder).
 */
import { basename } from 'node:path';
import { postfixDiag, runCli, type Diag } from '../../shared/cli/diag.js';
import { loadPostfixConfig } from '../../shared/config/postfix/config.js';
import { QueueStore } from '../queue/store.js';
import { isValidQueueId } from '../queue/queue-id.js';
import { configDirFrom, loadQueueSettings } from './queue-config.js';
import { getopt, GetoptError } from '../../shared/cli/getopt.js';
import { queueFileRecords } from './postcat-records.js';
import { renderPostcat, type PostcatOptions } from './postcat-render.js';

const USAGE =
  'usage: postcat [-b (body text)] [-c config_dir] [-d (decimal record type)] [-e (envelope records)] ' +
  '[-h (header text)] [-q (access queue)] [-v] [file(s)...]';

/** Postfix's queue path of a message: hashed subdirectories for the queues in hash_queue_names. */
export function queuePathOf(queue: string, id: string, hashed: readonly string[], depth: number): string {
  if (!hashed.includes(queue)) return `${queue}/${id}`;
  const dirs = [...id.slice(0, Math.max(0, depth))];
  return [queue, ...dirs, id].join('/');
}

export async function postcatMain(argv: readonly string[], io: { stdout: (s: string) => void; env: NodeJS.ProcessEnv; diag: Diag }): Promise<number> {
  const { diag } = io;
  let parsed;
  try {
    parsed = getopt('postcat', argv, 'bc:dehoqrs:v');
  } catch (err) {
    if (err instanceof GetoptError) {
      diag.info(err.message.replace(/^postcat: /, ''));
      return diag.fatal(USAGE);
    }
    throw err;
  }
  const o: PostcatOptions = { envelope: false, header: false, body: false, offsets: false, verbose: false, decimal: false, startOffset: 0 };
  let configOpt: string | undefined;
  let byQueue = false;
  for (const { opt, arg } of parsed.opts) {
    if (opt === 'b') o.body = true;
    else if (opt === 'c') configOpt = arg;
    else if (opt === 'd') o.decimal = true;
    else if (opt === 'e') o.envelope = true;
    else if (opt === 'h') o.header = true;
    else if (opt === 'o') o.offsets = true;
    else if (opt === 'q') byQueue = true;
    else if (opt === 's') {
      if (!/^\d+$/.test(arg!)) return diag.fatal(`bad offset: ${arg}`);
      o.startOffset = Number(arg);
    } else if (opt === 'v') o.verbose = true;
  }
  const configDir = configDirFrom(configOpt, io.env);
  const settings = loadQueueSettings(configDir, diag, 1);
  const cfg = loadPostfixConfig({ configDir });
  const hashed = cfg.getList('hash_queue_names');
  const depth = Number(cfg.get('hash_queue_depth')) || 1;
  const lineLimit = Number(cfg.get('line_length_limit')) || 2048;
  if (parsed.rest.length === 0) {
    if (byQueue) return diag.fatal(USAGE);
    return diag.fatal('reading a queue file from standard input is not supported: name a queue ID with -q');
  }
  let store: QueueStore | undefined;
  try {
    store = QueueStore.open({ queueDirectory: settings.queueDirectory, readOnly: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    for (const name of parsed.rest) {
      const id = byQueue ? name : basename(name);
      const rec = store && isValidQueueId(id) ? store.get(id) : undefined;
      if (!store || !rec) return diag.fatal(`open ${byQueue ? 'queue file ' : ''}${name}: No such file or directory`);
      const body = store.readBody(id);
      io.stdout(renderPostcat(queueFileRecords(rec, body, lineLimit), queuePathOf(rec.queue, id, hashed, depth), o));
    }
  } finally {
    await store?.close();
  }
  return 0;
}

void runCli(() =>
  postcatMain(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    env: process.env,
    diag: postfixDiag('postcat'),
  }),
);
