/*
 * sendmail(1), Postfix's Sendmail-compatible interface (reference/postfix.md §5.4):
 *   (default, -bm)  read a message from stdin and drop it into maildrop (mta/pickup/maildrop-writer.ts);
 *                   -t recipients from To/Cc/Bcc too (extracted by cleanup), -i/-oi a lone `.`
 *                   does not end input, -f/-r sender, -F full name, -N notify, -R ret, -V envid,
 *                   -B body type; exit 0 only once the file is durable.
 *   -bp             the queue listing (= mailq / postqueue -p)
 *   -bi, -I         newaliases
 *   -q, -qR site, -qI id   flush (= postqueue -f / -s / -i)
 *   -C dir          configuration directory (a file names its directory); else MAIL_CONFIG
 *   accepted and ignored as Postfix does: -oX…, -O…, -m, -n, -U, -v, -e…, -h N, -L label, -XV, -X file, -bd(-less).
 *   -bs             an SMTP session on stdin/stdout, mail to maildrop (sendmail-stdio.ts)
 *   -bv             `Mail Delivery Status Report will be mailed to <sender>.` and a report of how
 *                   each recipient resolves, mailed to the sender (sendmail-stdio.ts: no probes)
 * Exit codes: 0, 64 (EX_USAGE), 69 (EX_UNAVAILABLE), 75 (EX_TEMPFAIL) as Postfix.
 * Distrusts argv and stdin (passed through as bytes; cleanup applies every limit).
 */
import { statSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { postfixDiag, runCli, type Diag } from '../../shared/cli/diag.js';
import { controlRequest, ControlUnavailableError } from '../queue/control-client.js';
import { queuePaths } from '../queue/paths.js';
import { isValidQueueId } from '../queue/queue-id.js';
import type { ControlRequest } from '../queue/control-proto.js';
import type { DsnNotify } from '../queue/types.js';
import type { BodyType } from '../cleanup/api.js';
import { configDirFrom, loadQueueSettings } from './queue-config.js';
import { readQueue, renderListing } from './queue-listing.js';
import { runNewaliases } from './table-newaliases.js';
import { writeMaildrop } from '../pickup/maildrop-writer.js';
import { maildropDir } from '../pickup/pickup.js';
import type { MaildropEnvelope } from '../pickup/maildrop-format.js';
import { runSmtpOnStdio, verifyAddresses } from './sendmail-stdio.js';

export const EX_USAGE = 64;
export const EX_UNAVAILABLE = 69;
export const EX_TEMPFAIL = 75;

export type SendmailMode = 'send' | 'list' | 'aliases' | 'flush' | 'smtp' | 'verify';

export interface SendmailArgs {
  mode: SendmailMode;
  extract: boolean;
  dotIsEnd: boolean;
  sender?: string;
  fullName?: string;
  notify?: DsnNotify[];
  ret?: 'FULL' | 'HDRS';
  envid?: string;
  bodyType?: BodyType;
  configDir?: string;
  flushSite?: string;
  flushId?: string;
  recipients: string[];
}

export class SendmailUsageError extends Error {}

/** Sendmail-style option parsing (pure). */
export function parseSendmailArgs(argv: readonly string[]): SendmailArgs {
  const a: SendmailArgs = { mode: 'send', extract: false, dotIsEnd: true, recipients: [] };
  let i = 0;
  const value = (opt: string, rest: string): string => {
    if (rest !== '') return rest;
    const v = argv[++i];
    if (v === undefined) throw new SendmailUsageError(`option requires an argument -- '${opt}'`);
    return v;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const opt = arg[1]!;
    const rest = arg.slice(2);
    switch (opt) {
      case 't': a.extract = true; break;
      case 'i': a.dotIsEnd = false; break;
      case 'o':
        // -oi is -i; other -oX options are Sendmail's and ignored (some take the next word when empty).
        if (rest === 'i') a.dotIsEnd = false;
        else if (rest === '') i++;
        break;
      case 'f': case 'r': a.sender = value(opt, rest); break;
      case 'F': a.fullName = value(opt, rest); break;
      case 'C': {
        const c = value(opt, rest);
        let isDir = true;
        try { isDir = statSync(c).isDirectory(); } catch { /* reported when used */ }
        a.configDir = isDir ? c : dirname(c);
        break;
      }
      case 'N': {
        const v = value(opt, rest).toUpperCase().split(',').map((x) => x.trim());
        if (!v.every((x) => ['NEVER', 'SUCCESS', 'FAILURE', 'DELAY'].includes(x)) || (v.includes('NEVER') && v.length > 1)) {
          throw new SendmailUsageError(`bad -N option value: ${v.join(',')}`);
        }
        a.notify = v as DsnNotify[];
        break;
      }
      case 'R': {
        const v = value(opt, rest).toUpperCase();
        if (v !== 'FULL' && v !== 'HDRS') throw new SendmailUsageError(`bad -R option value: ${v}`);
        a.ret = v;
        break;
      }
      case 'V': a.envid = value(opt, rest); break;
      case 'B': {
        const v = value(opt, rest).toUpperCase();
        if (v === '8BITMIME' || v === '7BIT') a.bodyType = v;
        else throw new SendmailUsageError(`-B option needs 8BITMIME or 7BIT`);
        break;
      }
      case 'b':
        switch (rest) {
          case 'm': case '': a.mode = 'send'; break;
          case 'p': a.mode = 'list'; break;
          case 'i': a.mode = 'aliases'; break;
          case 's': a.mode = 'smtp'; break;
          case 'v': a.mode = 'verify'; break;
          case 'd': case 'D': case 'h': case 'H': case 'a': break; // accepted, ignored (Postfix: unsupported modes are no-ops)
          default: throw new SendmailUsageError(`unsupported: -b${rest}`);
        }
        break;
      case 'I': a.mode = 'aliases'; break;
      case 'q':
        a.mode = 'flush';
        if (rest.startsWith('R')) a.flushSite = rest.slice(1) || value(opt, '');
        else if (rest.startsWith('I')) a.flushId = rest.slice(1) || value(opt, '');
        break; // -q<interval> behaves as -q
      case 'X': if (rest === '') i++; break; // -X logfile (Sendmail): ignored
      case 'h': case 'L': if (rest === '') i++; break;
      case 'O': if (rest === '') i++; break;
      case 'e': case 'm': case 'n': case 'U': case 'v': case 'd': case 'A': case 'G': case 'x': break;
      default: throw new SendmailUsageError(`invalid option -- '${opt}'`);
    }
  }
  for (; i < argv.length; i++) {
    for (const r of argv[i]!.split(',')) if (r.trim() !== '') a.recipients.push(r.trim());
  }
  return a;
}

/** Reads stdin as chunks, stopping at a line that is a lone `.` unless -i. */
export async function* messageInput(src: AsyncIterable<Uint8Array>, dotIsEnd: boolean): AsyncGenerator<Uint8Array> {
  if (!dotIsEnd) {
    for await (const c of src) yield c;
    return;
  }
  let carry = Buffer.alloc(0);
  for await (const c of src) {
    let buf = carry.length > 0 ? Buffer.concat([carry, c]) : Buffer.from(c);
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      const line = buf.subarray(pos, nl);
      if (line.length === 1 && line[0] === 0x2e || (line.length === 2 && line[0] === 0x2e && line[1] === 0x0d)) {
        if (pos > 0) yield buf.subarray(0, pos);
        return;
      }
      pos = nl + 1;
    }
    if (pos > 0) yield buf.subarray(0, pos);
    buf = buf.subarray(pos);
    carry = buf;
  }
  if (carry.length > 0 && !(carry.length === 1 && carry[0] === 0x2e)) yield carry;
}

/** The submitting user's login and GECOS name from the passwd file. */
export function passwdEntry(uid: number, passwdFile = '/etc/passwd'): { name: string; gecos: string } | undefined {
  try {
    for (const line of readFileSync(passwdFile, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 5 && Number(f[2]) === uid) return { name: f[0]!, gecos: (f[4] ?? '').split(',')[0]! };
    }
  } catch {
    /* no passwd */
  }
  return undefined;
}

export interface SendmailIo {
  stdin: AsyncIterable<Uint8Array>;
  stdout: (s: string) => void;
  env: NodeJS.ProcessEnv;
  diag: Diag;
  uid: number;
  passwdFile?: string;
  /** -bs: the raw streams the SMTP session runs on. */
  stdinStream?: NodeJS.ReadableStream;
  stdoutStream?: NodeJS.WritableStream;
}

export async function sendmailMain(argv: readonly string[], io: SendmailIo): Promise<number> {
  const { diag } = io;
  let a: SendmailArgs;
  try {
    a = parseSendmailArgs(argv);
  } catch (err) {
    if (err instanceof SendmailUsageError) return diag.fatal(err.message, EX_USAGE);
    throw err;
  }
  const configDir = configDirFrom(a.configDir, io.env);
  if (a.mode === 'aliases') return runNewaliases(['-C', configDir]);
  const settings = loadQueueSettings(configDir, diag, EX_TEMPFAIL);
  if (a.mode === 'smtp') {
    if (!io.stdinStream || !io.stdoutStream) return diag.fatal('-bs needs standard input and output streams', EX_UNAVAILABLE);
    return runSmtpOnStdio(configDir, settings.queueDirectory, { stdin: io.stdinStream, stdout: io.stdoutStream, uid: io.uid });
  }
  if (a.mode === 'verify') {
    if (a.recipients.length === 0) return diag.fatal('Recipient addresses must be specified on the command line or via the -t option', EX_USAGE);
    const pw = passwdEntry(io.uid, io.passwdFile);
    const who = a.sender ?? pw?.name ?? (io.env.LOGNAME || io.env.USER || 'nobody');
    try {
      io.stdout(await verifyAddresses(configDir, settings.queueDirectory, who.replace(/^<(.*)>$/, '$1'), a.recipients, io.uid));
    } catch (err) {
      return diag.fatal(`cannot write the maildrop file: ${(err as Error).message}`, EX_TEMPFAIL);
    }
    return 0;
  }
  if (a.mode === 'list') {
    try {
      io.stdout(renderListing(await readQueue(settings), false, settings.longQueueIds));
      return 0;
    } catch (err) {
      return diag.fatal(`cannot read the mail queue: ${(err as Error).message}`, EX_TEMPFAIL);
    }
  }
  if (a.mode === 'flush') {
    let req: ControlRequest = { verb: 'FLUSH' };
    if (a.flushId !== undefined) {
      if (!isValidQueueId(a.flushId)) return diag.fatal(`invalid mail queue id: ${a.flushId}`, EX_USAGE);
      req = { verb: 'SCHEDULE', queueId: a.flushId };
    } else if (a.flushSite !== undefined) req = { verb: 'SITE', site: a.flushSite };
    const paths = queuePaths(settings.queueDirectory);
    try {
      const res = await controlRequest(paths.controlSocket, req);
      if (res.status === 'OK') return 0;
      if (res.status === 'NOTCONFIGURED') return diag.fatal(`Flush service is not configured for destination "${a.flushSite ?? ''}"`, EX_UNAVAILABLE);
      return diag.fatal(`Cannot flush mail queue: ${res.text}`, EX_UNAVAILABLE);
    } catch (err) {
      if (!(err instanceof ControlUnavailableError)) throw err;
      diag.warn(`unable to look up ${paths.controlSocketName}: ${err.reason}`);
      return diag.fatal('Cannot flush mail queue - mail system is down', EX_UNAVAILABLE);
    }
  }
  if (a.recipients.length === 0 && !a.extract) {
    return diag.fatal('Recipient addresses must be specified on the command line or via the -t option', EX_USAGE);
  }
  const pw = passwdEntry(io.uid, io.passwdFile);
  const sender = a.sender ?? pw?.name ?? (io.env.LOGNAME || io.env.USER || 'nobody');
  const fullName = a.fullName ?? (io.env.NAME || undefined) ?? (pw?.gecos || undefined);
  const env: MaildropEnvelope = {
    uid: io.uid,
    sender: sender === '<>' ? '' : sender.replace(/^<(.*)>$/, '$1'),
    recipients: a.recipients,
    extract: a.extract,
    ...(fullName !== undefined ? { fullName } : {}),
    ...(a.notify ? { notify: a.notify } : {}),
    ...(a.ret ? { ret: a.ret } : {}),
    ...(a.envid !== undefined ? { envid: a.envid } : {}),
    ...(a.bodyType ? { bodyType: a.bodyType } : {}),
  };
  try {
    await writeMaildrop(maildropDir(settings.queueDirectory), env, messageInput(io.stdin, a.dotIsEnd));
  } catch (err) {
    return diag.fatal(`cannot write the maildrop file: ${(err as Error).message}`, EX_TEMPFAIL);
  }
  return 0;
}

// Run only as the program (tests import the functions above).
if (process.argv[1] !== undefined && /sendmail\.js$/.test(process.argv[1])) {
  void runCli(() =>
    sendmailMain(process.argv.slice(2), {
      stdin: process.stdin,
      stdout: (s) => process.stdout.write(s),
      env: process.env,
      diag: postfixDiag('sendmail'),
      uid: process.getuid?.() ?? 0,
      stdinStream: process.stdin,
      stdoutStream: process.stdout,
    }),
  );
}
