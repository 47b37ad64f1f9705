/*
 * sendmail -bs and -bv (reference/postfix.md §5.4).
 *
 * -bs: an SMTP session on stdin/stdout, as Postfix runs smtpd in stand-alone mode: the same
 * SmtpdSession (mta/smtpd/session.ts) over a Duplex made of stdin and stdout, the client shown as
 * `localhost[127.0.0.1]` (Postfix's stand-alone peer), protocol SMTP/ESMTP, no TLS or AUTH, and
 * every accepted message written to maildrop (mta/pickup/maildrop-cleanup.ts) for pickup, as
 * Postfix's stand-alone smtpd hands mail to postdrop. Differences: the smtpd restrictions are not
 * evaluated (a local user may submit anything through plain sendmail anyway; Postfix evaluates
 * them against localhost), and smtpd log lines go to maillog_file only when this user may write it.
 *
 * -bv: prints Postfix's `Mail Delivery Status Report will be mailed to <sender>.` and drops a
 * report for the sender into maildrop. Postern has no verify mode in qmgr, so the report states
 * how each recipient resolves (address class, transport, next hop) rather than a delivery probe.
 */
import { Duplex } from 'node:stream';
import { loadPostfixConfig, type PostfixConfig } from '../../shared/config/postfix/config.js';
import { postfixLogger, type Log } from '../../shared/log/logger.js';
import { openLogSink, type LogSink } from '../../shared/log/sink.js';
import { SmtpInput } from '../smtpd/input.js';
import { SmtpdSession, type SessionTransport } from '../smtpd/session.js';
import { smtpdSettings } from '../smtpd/settings.js';
import { HANDLERS } from '../smtpd/commands.js';
import type { SmtpdPolicy } from '../smtpd/policy/api.js';
import { createResolveContext } from '../resolve/context.js';
import { createResolver } from '../resolve/resolver.js';
import { maildropCleanup } from '../pickup/maildrop-cleanup.js';
import { maildropDir } from '../pickup/pickup.js';
import { writeMaildrop } from '../pickup/maildrop-writer.js';
import { mailDate } from '../cleanup/mail-date.js';

const ACCEPT_ALL: SmtpdPolicy = { evaluate: async () => ({ kind: 'accept' }) };

function quietLog(cfg: PostfixConfig): { log: Log; sink: LogSink | undefined } {
  let sink: LogSink | undefined;
  try {
    // stdout carries the SMTP session: log only to a file (or stderr when maillog_file says so).
    const path = cfg.get('maillog_file');
    if (path !== '' && path !== '/dev/stdout') sink = openLogSink(path);
  } catch {
    sink = undefined;
  }
  const log = postfixLogger({
    sink: sink ?? { write: () => undefined, close: async () => undefined },
    host: cfg.get('myhostname'),
    syslogName: cfg.get('syslog_name') || 'postfix',
    program: 'smtpd',
  });
  return { log, sink };
}

export interface StdioIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  uid: number;
}

/** sendmail -bs: runs one SMTP session on stdin/stdout; resolves when the session ends. */
export async function runSmtpOnStdio(configDir: string, queueDirectory: string, io: StdioIo): Promise<number> {
  const cfg = loadPostfixConfig({ configDir });
  const settings = smtpdSettings(cfg);
  const resolver = createResolver(createResolveContext(cfg, { warn: () => undefined }));
  const { log, sink } = quietLog(cfg);
  const duplex = Duplex.from({ readable: io.stdin as unknown as NodeJS.ReadableStream & AsyncIterable<Buffer>, writable: io.stdout });
  const input = new SmtpInput(duplex, settings.timeout * 1000);
  const transport: SessionTransport = {
    input,
    write: (text) => {
      io.stdout.write(Buffer.from(text, 'latin1'));
    },
    startTls: undefined,
    close: () => input.detach(),
  };
  const cleanup = maildropCleanup({
    dir: maildropDir(queueDirectory), uid: io.uid, myhostname: cfg.get('myhostname'), mailName: cfg.get('mail_name'),
    longQueueIds: cfg.getBool('enable_long_queue_ids'),
  });
  const session = new SmtpdSession(
    { settings, cleanup, policy: ACCEPT_ALL, sasl: undefined, log, qualify: (a) => resolver.qualify(a) },
    transport,
    { clientName: 'localhost', clientAddr: '127.0.0.1', clientPort: 0, serverAddr: '127.0.0.1', serverPort: 0 },
  );
  await session.run(HANDLERS);
  await sink?.close();
  return 0;
}

/** sendmail -bv: the report line on stdout and a resolution report mailed to the sender. */
export async function verifyAddresses(configDir: string, queueDirectory: string, sender: string, recipients: readonly string[], uid: number): Promise<string> {
  const cfg = loadPostfixConfig({ configDir });
  const resolver = createResolver(createResolveContext(cfg, { warn: () => undefined }));
  const myhostname = cfg.get('myhostname');
  const to = resolver.qualify(sender);
  const lines: string[] = [];
  for (const r of recipients) {
    const addr = resolver.qualify(r);
    try {
      const res = resolver.resolve(addr);
      lines.push(res.error
        ? `<${addr}>: ${res.error.dsn} ${res.error.text}`
        : `<${addr}>: delivery via ${res.transport}[${res.nexthop}] (address class ${res.addressClass}; resolved, not probed)`);
    } catch (err) {
      lines.push(`<${addr}>: address resolver failure: ${(err as Error).message}`);
    }
  }
  const body = [
    `From: Mail Delivery System <MAILER-DAEMON@${myhostname}>`,
    'Subject: Mail Delivery Status Report',
    `To: ${to}`,
    'Auto-Submitted: auto-replied',
    `Date: ${mailDate(new Date())}`,
    '',
    `This is the mail system at host ${myhostname}.`,
    '',
    'Enclosed is the mail delivery report that you requested.',
    '',
    '                   The mail system',
    '',
    ...lines,
    '',
  ].join('\r\n');
  await writeMaildrop(maildropDir(queueDirectory), { uid, sender: '', recipients: [to], extract: false }, [Buffer.from(body, 'utf8')][Symbol.iterator]() as unknown as AsyncIterable<Uint8Array>);
  return `Mail Delivery Status Report will be mailed to <${to}>.\n`;
}
