/*
 * postsuper(1): `-d` delete, `-h` hold, `-H` release, `-r` requeue, `-e` force-expire, `-f`
 * force-expire and release, each with a queue ID, `ALL` (upper case only) or `-` (IDs from stdin,
 * one per line), optionally restricted to named queues; `-c dir` / MAIL_CONFIG.
 *
 * Follows Postfix 3.7 as observed (reference/postfix.md §5.3): default queues hold, incoming,
 * active, deferred (-h: incoming, active, deferred; -H: hold); ALL operations run first, then
 * operations by ID in the order delete, requeue, expire, hold, release; stderr gets
 * `postsuper: ID: placed on hold` for each message named by ID, then one summary per requested
 * operation, even when zero, in the order Requeued, Deleted, Force-expired, Placed on hold,
 * Released from hold (`1 message`, otherwise `N messages`). A bad ID is a warning
 * (`invalid mail queue id: X`); an unknown queue is fatal when an ALL operation scans it
 * (`invalid directory name: X`, exit 1) and simply holds nothing otherwise.
 * `-p`, `-s`, `-S` are accepted and do nothing: LMDB has no temporary files or misnamed queue
 * files, and structure repair is the daemon's start-up recovery.
 * Postern's postsuper writes the LMDB queue directly (LMDB serialises writers across processes)
 * and then wakes the daemon, when it runs, over the control socket.
 * Distrusts: argv and stdin (IDs are checked before use).
 */
import { readFileSync } from 'node:fs';
import { postfixDiag, runCli, type Diag } from '../../shared/cli/diag.js';
import { QueueStore, type Selection } from '../queue/store.js';
import { controlRequest } from '../queue/control-client.js';
import { isValidQueueId } from '../queue/queue-id.js';
import { QUEUE_NAMES, type QueueName } from '../queue/types.js';
import { configDirFrom, loadQueueSettings } from './queue-config.js';
import { getopt, GetoptError } from '../../shared/cli/getopt.js';

const FATAL = 1;
const USAGE =
  'usage: postsuper [-c config_dir] [-d queue_id (delete)] [-e queue_id (expire)] ' +
  '[-f queue_id (expire and/or un-hold)] [-h queue_id (hold)] [-H queue_id (un-hold)] ' +
  '[-p (purge temporary files)] [-r queue_id (requeue)] [-s (structure fix)] ' +
  '[-S (redundant structure fix)][-v (verbose)] [queue...]';

type Op = 'delete' | 'requeue' | 'expire' | 'hold' | 'release';
const EXEC_ORDER: readonly Op[] = ['delete', 'requeue', 'expire', 'hold', 'release'];
const REPORT_ORDER: readonly Op[] = ['requeue', 'delete', 'expire', 'hold', 'release'];
const FLAG: Record<Op, string> = { delete: 'd', requeue: 'r', expire: 'e', hold: 'h', release: 'H' };
const DONE_ONE: Record<Op, string> = {
  delete: 'removed', requeue: 'requeued', expire: 'expired', hold: 'placed on hold', release: 'released from hold',
};
const SUMMARY: Record<Op, string> = {
  delete: 'Deleted', requeue: 'Requeued', expire: 'Force-expired', hold: 'Placed on hold', release: 'Released from hold',
};
const ALL_LIVE: readonly QueueName[] = ['hold', 'incoming', 'active', 'deferred'];
const DEFAULT_QUEUES: Record<Op, readonly QueueName[]> = {
  delete: ALL_LIVE, requeue: ALL_LIVE, expire: ALL_LIVE, hold: ['incoming', 'active', 'deferred'], release: ['hold'],
};

export interface PostsuperIo {
  env: NodeJS.ProcessEnv;
  diag: Diag;
  /** All of standard input (read only when an operation names `-`). */
  readStdin: () => string;
}

export async function postsuperMain(argv: readonly string[], io: PostsuperIo): Promise<number> {
  const { diag } = io;
  let parsed;
  try {
    parsed = getopt('postsuper', argv, 'c:d:e:f:h:H:pr:sSv');
  } catch (err) {
    if (err instanceof GetoptError) {
      diag.info(err.message.replace(/^postsuper: /, ''));
      return diag.fatal(USAGE, FATAL);
    }
    throw err;
  }
  let configOpt: string | undefined;
  const names = new Map<Op, string[]>();
  const add = (op: Op, arg: string) => names.set(op, [...(names.get(op) ?? []), arg]);
  for (const { opt, arg } of parsed.opts) {
    if (opt === 'c') configOpt = arg;
    else if (opt === 'd') add('delete', arg!);
    else if (opt === 'r') add('requeue', arg!);
    else if (opt === 'e') add('expire', arg!);
    else if (opt === 'h') add('hold', arg!);
    else if (opt === 'H') add('release', arg!);
    else if (opt === 'f') {
      add('expire', arg!);
      add('release', arg!);
    }
  }
  const settings = loadQueueSettings(configDirFrom(configOpt, io.env), diag, FATAL);
  // Postfix validates queue names when it scans queues (ALL); by ID, an unknown queue just holds nothing.
  const scans = [...names.values()].some((args) => args.includes('ALL'));
  for (const q of parsed.rest) {
    if (scans && !QUEUE_NAMES.includes(q as QueueName) && q !== 'maildrop') diag.fatal(`invalid directory name: ${q}`, FATAL);
  }
  const named = parsed.rest.filter((q): q is QueueName => QUEUE_NAMES.includes(q as QueueName));
  const queuesFor = (op: Op): readonly QueueName[] => (parsed.rest.length > 0 ? named : DEFAULT_QUEUES[op]);

  let stdinLines: string[] | undefined;
  const idsFor = (op: Op): string[] | 'ALL' => {
    const args = names.get(op) ?? [];
    if (args.includes('ALL')) {
      if (args.some((a) => a !== 'ALL')) diag.warn(`option "-${FLAG[op]} ALL" will ignore other command line queue IDs`);
      return 'ALL';
    }
    const ids: string[] = [];
    for (const a of args) {
      let list = [a];
      if (a === '-') {
        list = stdinLines === undefined ? io.readStdin().split('\n') : [];
        if (list.length > 0 && list[list.length - 1] === '') list.pop();
        stdinLines = list;
      }
      for (const id of list) {
        if (isValidQueueId(id)) ids.push(id);
        else diag.warn(`invalid mail queue id: ${id}`);
      }
    }
    return ids;
  };

  const requested = EXEC_ORDER.filter((op) => names.has(op));
  if (requested.length === 0) return 0; // -p, -s, -S or nothing: see the header
  const selections = new Map<Op, Selection>(requested.map((op) => [op, { ids: idsFor(op), queues: queuesFor(op) }]));

  let store: QueueStore;
  try {
    store = QueueStore.open({ queueDirectory: settings.queueDirectory, longQueueIds: settings.longQueueIds, warn: diag.warn });
  } catch (err) {
    return diag.fatal(`open the mail queue: ${(err as Error).message}`, FATAL);
  }
  const counts = new Map<Op, number>();
  try {
    const run = (op: Op, sel: Selection): Promise<string[]> =>
      op === 'delete' ? store.delete(sel) : op === 'requeue' ? store.requeue(sel)
        : op === 'expire' ? store.expire(sel) : op === 'hold' ? store.hold(sel) : store.release(sel);
    for (const pass of ['ALL', 'byId'] as const) {
      for (const op of requested) {
        const sel = selections.get(op)!;
        if ((sel.ids === 'ALL') !== (pass === 'ALL')) continue;
        const done = await run(op, sel);
        if (pass === 'byId') for (const id of done) diag.info(`${id}: ${DONE_ONE[op]}`);
        counts.set(op, (counts.get(op) ?? 0) + done.length);
      }
    }
  } catch (err) {
    return diag.fatal((err as Error).message, FATAL);
  } finally {
    await store.close();
  }
  for (const op of REPORT_ORDER) {
    const n = counts.get(op);
    if (n !== undefined) diag.info(`${SUMMARY[op]}: ${n} message${n === 1 ? '' : 's'}`);
  }
  if ([...counts.values()].some((n) => n > 0)) {
    await controlRequest(store.paths.controlSocket, { verb: 'WAKEUP' }, 2000).catch(() => undefined);
  }
  return 0;
}

void runCli(() =>
  postsuperMain(process.argv.slice(2), {
    env: process.env,
    diag: postfixDiag('postsuper'),
    readStdin: () => readFileSync(0, 'utf8'),
  }),
);
