/*
 * smtpd_milters scenarios shared by the milter tests: a scripted fake milter answer per scenario,
 * the SMTP lines sent, and what real Postfix 3.7.11 answered and logged for them (recorded with
 * test/mta/smtpd/milters.interop.test.ts, which checks the same table against a live Postfix).
 * Also: our MTA on a private configuration (startOurMta), a client that keeps the replies it got
 * when the server hangs up (transcript), and the log normalisation both sides go through.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { MilterCommand, MilterReply } from '../../../mta/milter/codec.js';
import { startMta } from '../../../mta/main.js';
import { freePort } from '../../helpers/free-port.js';
import { tempDir } from '../../helpers/tmp.js';

const NO_REPLY = new Set(['macro', 'abort', 'quit', 'quit_nc']);

export interface Scenario {
  name: string;
  /** The milter's answer to the event it cares about (undefined: CONTINUE). */
  on: (c: MilterCommand) => MilterReply[] | undefined;
  lines: string[];
  /** Replies, multi-line ones joined with CRLF. */
  replies: string[];
  /** The `milter-…` log lines, program and queue ID removed (see normaliseLog). */
  log: string[];
}

export const script = (sc: Scenario) => (c: MilterCommand): MilterReply[] => sc.on(c) ?? (NO_REPLY.has(c.kind) ? [] : [{ kind: 'continue' }]);

const EHLO_FULL = '250-mx.test.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING';
const EHLO_MIN = '250-mx.test.example\r\n250 ENHANCEDSTATUSCODES';
const ENVELOPE = ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', 'QUIT'];
const MESSAGE = ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', 'Subject: x\r\n\r\nbody\r\n.', 'QUIT'];
const C = 'from localhost[127.0.0.1]';
const ENV = 'from=<alice@example.com> to=<bob@example.org> proto=ESMTP helo=<client.example>';
const at = (kind: MilterCommand['kind'], r: MilterReply[]) => (c: MilterCommand) => (c.kind === kind ? r : undefined);

export const SCENARIOS: Scenario[] = [
  {
    name: 'reject at connect',
    on: at('connect', [{ kind: 'reject' }]),
    lines: ENVELOPE,
    replies: ['554 mx.test.example ESMTP not accepting connections', EHLO_MIN, '550 5.7.1 Command rejected', '503 5.5.1 Error: need MAIL command', '503 5.5.1 Error: need RCPT command', '221 2.0.0 Bye'],
    log: [
      `NOQUEUE: milter-reject: CONNECT ${C}: 550 5.7.1 Command rejected; proto=SMTP`,
      `NOQUEUE: milter-reject: EHLO ${C}: 550 5.7.1 Command rejected; proto=SMTP helo=<client.example>`,
      `NOQUEUE: milter-reject: MAIL ${C}: 550 5.7.1 Command rejected; from=<alice@example.com> proto=ESMTP helo=<client.example>`,
    ],
  },
  {
    name: 'tempfail at connect',
    on: at('connect', [{ kind: 'tempfail' }]),
    lines: ENVELOPE,
    replies: ['220 mx.test.example ESMTP Postfix', EHLO_FULL, '451 4.7.1 Service unavailable - try again later', '503 5.5.1 Error: need MAIL command', '503 5.5.1 Error: need RCPT command', '221 2.0.0 Bye'],
    log: [
      `NOQUEUE: milter-reject: CONNECT ${C}: 451 4.7.1 Service unavailable - try again later; proto=SMTP`,
      `NOQUEUE: milter-reject: EHLO ${C}: 451 4.7.1 Service unavailable - try again later; proto=SMTP helo=<client.example>`,
      `NOQUEUE: milter-reject: MAIL ${C}: 451 4.7.1 Service unavailable - try again later; from=<alice@example.com> proto=ESMTP helo=<client.example>`,
    ],
  },
  {
    name: 'reply code at HELO',
    on: at('helo', [{ kind: 'replycode', text: '554 5.7.0 go away' }]),
    lines: ENVELOPE,
    replies: ['220 mx.test.example ESMTP Postfix', EHLO_MIN, '554 5.7.0 go away', '503 5.5.1 Error: need MAIL command', '503 5.5.1 Error: need RCPT command', '221 2.0.0 Bye'],
    log: [
      `NOQUEUE: milter-reject: EHLO ${C}: 554 5.7.0 go away; proto=SMTP helo=<client.example>`,
      `NOQUEUE: milter-reject: MAIL ${C}: 554 5.7.0 go away; from=<alice@example.com> proto=ESMTP helo=<client.example>`,
    ],
  },
  {
    name: 'tempfail at MAIL',
    on: at('mail', [{ kind: 'tempfail' }]),
    lines: ENVELOPE,
    replies: ['220 mx.test.example ESMTP Postfix', EHLO_FULL, '451 4.7.1 Service unavailable - try again later', '503 5.5.1 Error: need MAIL command', '503 5.5.1 Error: need RCPT command', '221 2.0.0 Bye'],
    log: [`NOQUEUE: milter-reject: MAIL ${C}: 451 4.7.1 Service unavailable - try again later; from=<alice@example.com> proto=ESMTP helo=<client.example>`],
  },
  {
    name: 'reject at RCPT',
    on: at('rcpt', [{ kind: 'reject' }]),
    lines: ENVELOPE,
    replies: ['220 mx.test.example ESMTP Postfix', EHLO_FULL, '250 2.1.0 Ok', '550 5.7.1 Command rejected', '554 5.5.1 Error: no valid recipients', '221 2.0.0 Bye'],
    log: [`NOQUEUE: milter-reject: RCPT ${C}: 550 5.7.1 Command rejected; ${ENV}`],
  },
  {
    name: 'shutdown at RCPT',
    on: at('rcpt', [{ kind: 'shutdown' }]),
    lines: ENVELOPE,
    replies: ['220 mx.test.example ESMTP Postfix', EHLO_FULL, '250 2.1.0 Ok', '421 4.7.0 Server closing connection'],
    log: [`NOQUEUE: milter-reject: RCPT ${C}: 421 4.7.0 Server closing connection; ${ENV}`],
  },
  {
    name: 'reject at DATA',
    on: at('data', [{ kind: 'reject' }]),
    lines: ENVELOPE,
    replies: ['220 mx.test.example ESMTP Postfix', EHLO_FULL, '250 2.1.0 Ok', '250 2.1.5 Ok', '550 5.7.1 Command rejected', '221 2.0.0 Bye'],
    log: [`QID: milter-reject: DATA ${C}: 550 5.7.1 Command rejected; ${ENV}`],
  },
  {
    name: 'discard at MAIL',
    on: at('mail', [{ kind: 'discard' }]),
    lines: MESSAGE,
    replies: ['220 mx.test.example ESMTP Postfix', EHLO_FULL, '250 2.1.0 Ok', '250 2.1.5 Ok', '354 End data with <CR><LF>.<CR><LF>', '250 2.0.0 Ok: queued as QID', '221 2.0.0 Bye'],
    log: [`NOQUEUE: milter-discard: MAIL ${C}: milter triggers DISCARD action; from=<alice@example.com> proto=ESMTP helo=<client.example>`],
  },
  ...(
    [
      ['reject', [{ kind: 'reject' }], '550 5.7.1 Command rejected', 'milter-reject', '5.7.1 Command rejected'],
      ['tempfail', [{ kind: 'tempfail' }], '451 4.7.1 Service unavailable - try again later', 'milter-reject', '4.7.1 Service unavailable - try again later'],
      ['reply code', [{ kind: 'replycode', text: '550 5.7.1 spam detected' }], '550 5.7.1 spam detected', 'milter-reject', '5.7.1 spam detected'],
      ['discard', [{ kind: 'discard' }], '250 2.0.0 Ok: queued as QID', 'milter-discard', 'milter triggers DISCARD action'],
      ['quarantine', [{ kind: 'quarantine', reason: 'held for review' }, { kind: 'continue' }], '250 2.0.0 Ok: queued as QID', 'milter-hold', 'milter triggers HOLD action'],
    ] as Array<[string, MilterReply[], string, string, string]>
  ).map(([what, answer, reply, action, text]): Scenario => ({
    name: `${what} at end of message`,
    on: at('bodyeob', answer),
    lines: MESSAGE,
    replies: ['220 mx.test.example ESMTP Postfix', EHLO_FULL, '250 2.1.0 Ok', '250 2.1.5 Ok', '354 End data with <CR><LF>.<CR><LF>', reply, '221 2.0.0 Bye'],
    log: [`QID: ${action}: END-OF-MESSAGE ${C}: ${text}; ${ENV}`],
  })),
];

/** Hold + header, sender and recipient changes at end of message; checked with postcat on both sides. */
export const EDITS: Scenario = {
  name: 'quarantine with header, sender and recipient changes',
  on: at('bodyeob', [
    { kind: 'quarantine', reason: 'held for review' },
    { kind: 'addheader', name: 'X-Added', value: Buffer.from('yes') },
    { kind: 'insheader', index: 0, name: 'X-Top', value: Buffer.from('top') },
    { kind: 'chgfrom', sender: '<new@example.com>', args: '' },
    { kind: 'addrcpt', rcpt: '<extra@example.org>' },
    { kind: 'continue' },
  ]),
  lines: MESSAGE,
  replies: ['220 mx.test.example ESMTP Postfix', EHLO_FULL, '250 2.1.0 Ok', '250 2.1.5 Ok', '354 End data with <CR><LF>.<CR><LF>', '250 2.0.0 Ok: queued as QID', '221 2.0.0 Bye'],
  log: [`QID: milter-hold: END-OF-MESSAGE ${C}: milter triggers HOLD action; from=<new@example.com> to=<bob@example.org> proto=ESMTP helo=<client.example>`],
};

/**
 * Real Postfix 3.7.11's held message for EDITS (postcat -q, the header part; PREPEND X-Prep from
 * check_recipient_access when `prepend` is set): INSHEADER 0 goes above everything, the PREPENDed
 * header above Postfix's own Received:.
 */
export const EDITS_HEADERS = (prepend: boolean) => [
  'X-Top: top',
  ...(prepend ? ['X-Prep: yes'] : []),
  'Received: from client.example (',
  'Subject: x',
  'Message-Id:',
  'Date:',
  'From: alice@example.com',
  'X-Added: yes',
];

/** The restrictions both sides run the scenarios with: an access-table PREPEND for bob. */
export const PREPEND_BOB = 'check_recipient_access inline:{{bob@example.org=PREPEND X-Prep: yes}}, permit';

/** Sends each line, waiting for its reply; stops at a hang-up and returns the replies so far. */
export async function transcript(port: number, lines: readonly string[], timeoutMs = 20_000): Promise<string[]> {
  const sock = connect(port, '127.0.0.1');
  sock.setEncoding('latin1');
  let buf = '';
  const replies: string[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  sock.on('data', (d: string) => {
    buf += d;
    let m: RegExpExecArray | null;
    while ((m = /^\d{3}(?: [^\r\n]*)?\r\n/m.exec(buf))) {
      const end = m.index + m[0].length;
      replies.push(buf.slice(0, end).trimEnd());
      buf = buf.slice(end);
    }
    wake?.();
  });
  sock.on('error', () => undefined);
  sock.on('close', () => {
    closed = true;
    wake?.();
  });
  const deadline = Date.now() + timeoutMs;
  const waitFor = async (n: number): Promise<boolean> => {
    while (replies.length < n && !closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 200);
      });
    }
    return replies.length >= n;
  };
  try {
    if (!(await waitFor(1))) return replies;
    for (const [i, l] of lines.entries()) {
      if (closed) break;
      sock.write(`${l}\r\n`);
      if (!(await waitFor(i + 2))) break;
    }
  } finally {
    sock.destroy();
  }
  return replies;
}

/** The `milter-…` lines of a maillog, without time, host, program[pid] and with queue IDs as QID. */
export function normaliseLog(log: string, queueIds: readonly string[]): string[] {
  return log
    .split('\n')
    .filter((l) => / milter-(reject|discard|hold): /.test(l))
    .map((l) => {
      // The client's name is the resolver's (runsc, localhost …): both sides report it as localhost.
      let s = l.replace(/^.*?\]: /, '').replace(/ from [^ ]*\[127\.0\.0\.1\]/, ' from localhost[127.0.0.1]');
      for (const id of queueIds) s = s.replaceAll(id, 'QID');
      return s;
    });
}

export function queueIdsOf(replies: readonly string[], log: string): string[] {
  const ids = new Set<string>();
  for (const r of replies) for (const m of r.matchAll(/queued as (\w+)/g)) ids.add(m[1]!);
  for (const m of log.matchAll(/: (\w+): client=/g)) ids.add(m[1]!);
  return [...ids];
}

export function normaliseReplies(replies: readonly string[], queueIds: readonly string[]): string[] {
  return replies.map((r) => queueIds.reduce((s, id) => s.replaceAll(id, 'QID'), r));
}

export interface OurMta {
  port: number;
  etc: string;
  log(): string;
  stop(): Promise<void>;
}

/** Our MTA on a private configuration shaped like the Postfix instance's (mydestination example.org, local mail discarded). */
export async function startOurMta(t: TestContext, main: Record<string, string>): Promise<OurMta> {
  const dir = tempDir(t, 'postern-milter-');
  const etc = join(dir, 'etc');
  mkdirSync(etc);
  const port = await freePort();
  const cf: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: join(dir, 'q'),
    data_directory: join(dir, 'data'),
    myhostname: 'mx.test.example',
    mydestination: 'example.org',
    mynetworks: '',
    local_transport: 'discard',
    local_recipient_maps: '',
    alias_maps: '',
    alias_database: '',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    maillog_file: join(dir, 'maillog'),
    smtpd_banner: '$myhostname ESMTP Postfix',
    smtputf8_enable: 'yes',
    ...main,
  };
  writeFileSync(join(etc, 'main.cf'), Object.entries(cf).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  writeFileSync(join(etc, 'master.cf'), [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'smtp unix - - n - - smtp',
    'error unix - - n - - error',
    'discard unix - - n - - discard',
    '',
  ].join('\n'));
  const mta = await startMta({ configDir: etc, keepPrivileges: true, stopGraceSeconds: 1 });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await mta.stop(1);
  };
  t.after(stop);
  const logFile = join(dir, 'maillog');
  return {
    port,
    etc,
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    stop,
  };
}
