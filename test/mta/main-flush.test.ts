/*
 * The MTA daemon (bin/postern-mta) with smtp delivery through relayhost to a scripted SMTP server:
 *  - a 450 reply keeps mail deferred and mailq shows the remote reply as the recipient's reason;
 *  - ETRN for one site makes only that site's deferred mail due (`250 Queuing started`; 459
 *    outside fast_flush_domains); `postqueue -i ID` and `-s site` act on that message/site only;
 *  - a 550 reply bounces: the DSN that reaches the sender carries `Remote-MTA: dns; host` and
 *    `Diagnostic-Code: smtp; 550 5.1.1 …` (reference/postfix.md §6.6);
 *  - check_recipient_access HOLD puts the message in the hold queue (`postqueue -p` shows `!`,
 *    postcat shows hold/ID), DISCARD answers 250 and keeps nothing; both logged as Postfix does.
 * Backoff times are an hour, so nothing is retried unless asked; waits are bounded polls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueueStore } from '../../mta/queue/store.js';
import type { QueueRecord } from '../../mta/queue/types.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/free-port.js';
import { startFakeSmtp } from '../helpers/smtp-sink.js';
import { smtpSession } from '../helpers/smtp-client.js';

const TOP = join(import.meta.dirname, '..', '..', '..');
const BIN = join(TOP, 'bin');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let onTimeout: () => void = () => undefined;

async function until(what: string, fn: () => boolean, ms = 20_000): Promise<void> {
  for (let i = 0; i < ms / 50; i++) {
    if (fn()) return;
    await sleep(50);
  }
  onTimeout();
  throw new Error(`timed out waiting for ${what}`);
}

function records(qdir: string): QueueRecord[] {
  const store = QueueStore.open({ queueDirectory: qdir, readOnly: true });
  try {
    return [...store.list()];
  } finally {
    void store.close();
  }
}

const tool = (name: string, args: string[]) => spawnSync(join(BIN, name), args, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });

test('ETRN, postqueue -i/-s, remote replies in mailq and DSNs, HOLD and DISCARD through the daemon', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  let refuse = true;
  const sink = await startFakeSmtp(t, {
    rcpt: (args) => {
      if (/bad@remote\.example/.test(args)) return '550 5.1.1 <bad@remote.example>: Recipient address rejected: User unknown in virtual mailbox table';
      if (refuse && /@(remote|other)\.example/.test(args)) return '450 4.2.0 <later>: try again later';
      return undefined;
    },
  });
  const smtpPort = await freePort();
  const etc = join(dir, 'etc');
  const qdir = join(dir, 'q');
  mkdirSync(etc, { recursive: true });
  mkdirSync(qdir, { recursive: true });
  writeFileSync(join(etc, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${qdir}`,
    `data_directory = ${dir}/data`,
    'myhostname = mx.test.example',
    'mydestination =',
    'mynetworks = 127.0.0.0/8',
    'relay_domains = remote.example, other.example',
    `relayhost = [127.0.0.1]:${sink.port}`,
    'smtp_tls_security_level = none',
    'smtpd_recipient_restrictions = check_recipient_access inline:{{held@remote.example=HOLD},{disc@remote.example=DISCARD}}, permit_mynetworks, reject',
    `maillog_file = ${dir}/maillog`,
    'inet_interfaces = loopback-only',
    'queue_run_delay = 1h',
    'minimal_backoff_time = 1h',
    'maximal_backoff_time = 2h',
    'delay_logging_resolution_limit = 3',
    '',
  ].join('\n'));
  writeFileSync(join(etc, 'master.cf'), [
    `127.0.0.1:${smtpPort} inet  n       -       y       -       -       smtpd`,
    'smtp      unix  -       -       n       -       -       smtp',
    'relay     unix  -       -       n       -       -       smtp',
    'error     unix  -       -       n       -       -       error',
    '',
  ].join('\n'));
  const child: ChildProcess = spawn(join(BIN, 'postern-mta'), ['-c', etc], { stdio: ['ignore', 'ignore', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const log = () => {
    try {
      return readFileSync(join(dir, 'maillog'), 'utf8');
    } catch {
      return '';
    }
  };
  // On a timeout the daemon's log is the evidence: it goes to stderr.
  onTimeout = () => process.stderr.write(`--- maillog ---\n${log()}`);
  await until('the daemon to start', () => /daemon started/.test(log()));

  const send = async (to: string, from = 'alice@sender.example'): Promise<string> => {
    const r = await smtpSession(smtpPort, ['EHLO client.test', `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA', `Subject: to ${to}\r\n\r\nhello\r\n.`, 'QUIT']);
    const m = /^250 2\.0\.0 Ok: queued as (\w+)$/.exec(r[5]!);
    assert.ok(m, r.join('\n'));
    return m[1]!;
  };
  const a = await send('later@remote.example');
  const b = await send('x@other.example');
  const c = await send('bad@remote.example');
  const held = await send('held@remote.example');
  const discarded = await send('disc@remote.example');

  const byId = (id: string) => records(qdir).find((r) => r.id === id);
  await until('A and B deferred', () => byId(a)?.queue === 'deferred' && byId(b)?.queue === 'deferred');
  await until('the bounce of C delivered to the sender', () => sink.messages.some((m) => m.from === '' && m.data.includes(c)));

  // mailq: the remote reply is the recipient's delay reason.
  const mq = tool('mailq', ['-c', etc]).stdout;
  assert.ok(mq.includes('(host 127.0.0.1[127.0.0.1] said: 450 4.2.0 <later>: try again later (in reply to RCPT TO command))'), mq);
  assert.match(mq, new RegExp(`^${held}!\\s+\\d+ `, 'm'));
  assert.ok(!mq.includes(discarded));
  assert.equal(byId(discarded), undefined);
  assert.equal(byId(held)?.queue, 'hold');
  assert.match(tool('postcat', ['-c', etc, '-e', '-q', held]).stdout, new RegExp(`^\\*\\*\\* ENVELOPE RECORDS hold/${held} \\*\\*\\*$`, 'm'));
  const l = log();
  assert.match(l, /postfix\/smtpd\[\d+\]: NOQUEUE: hold: RCPT from \S+\[127\.0\.0\.1\]: <held@remote\.example>: Recipient address triggers HOLD action; from=<alice@sender\.example> to=<held@remote\.example> proto=ESMTP helo=<client\.test>/);
  assert.match(l, /NOQUEUE: discard: RCPT from \S+\[127\.0\.0\.1\]: <disc@remote\.example>: Recipient address triggers DISCARD action; from=<alice@sender\.example> to=<disc@remote\.example> proto=ESMTP helo=<client\.test>/);

  // The DSN for the 550 (reference §6.6).
  const dsn = sink.messages.find((m) => m.from === '' && m.data.includes(c))!;
  assert.deepEqual(dsn.to, ['alice@sender.example']);
  const text = dsn.data.replace(/\r\n/g, '\n');
  assert.match(text, /^Subject: Undelivered Mail Returned to Sender$/m);
  assert.ok(text.includes('<bad@remote.example>: host 127.0.0.1[127.0.0.1] said: 550 5.1.1\n    <bad@remote.example>: Recipient address rejected: User unknown in virtual\n    mailbox table (in reply to RCPT TO command)\n'), text);
  assert.ok(text.includes([
    'Final-Recipient: rfc822; bad@remote.example',
    'Original-Recipient: rfc822;bad@remote.example',
    'Action: failed',
    'Status: 5.1.1',
    'Remote-MTA: dns; 127.0.0.1',
    'Diagnostic-Code: smtp; 550 5.1.1 <bad@remote.example>: Recipient address',
    '    rejected: User unknown in virtual mailbox table',
  ].join('\n')), text);

  // ETRN: only remote.example's deferred mail is retried.
  refuse = false;
  const attemptsBefore = byId(b)!.attempts;
  const etrn = await smtpSession(smtpPort, ['EHLO client.test', 'ETRN remote.example', 'ETRN nosuch.example', 'ETRN', 'QUIT']);
  assert.deepEqual(etrn.slice(2, 5), ['250 Queuing started', '459 <nosuch.example>: service unavailable', '500 Syntax: ETRN domain']);
  await until('A delivered after ETRN', () => byId(a) === undefined);
  assert.ok(sink.messages.some((m) => m.to.includes('later@remote.example')));
  await sleep(300);
  assert.equal(byId(b)?.queue, 'deferred');
  assert.equal(byId(b)?.attempts, attemptsBefore);
  assert.equal(byId(held)?.queue, 'hold');

  // postqueue -s for a site outside fast_flush_domains is refused; -i ID schedules that message only.
  refuse = true;
  const d2 = await send('y@other.example');
  await until('D2 deferred', () => byId(d2)?.queue === 'deferred');
  refuse = false;
  const pi = tool('postqueue', ['-c', etc, '-i', b]);
  assert.equal(pi.status, 0, pi.stderr);
  await until('B delivered after postqueue -i', () => byId(b) === undefined);
  await sleep(300);
  assert.equal(byId(d2)?.queue, 'deferred');
  const ps = tool('postqueue', ['-c', etc, '-s', 'other.example']);
  assert.equal(ps.status, 0, ps.stderr);
  await until('D2 delivered after postqueue -s', () => byId(d2) === undefined);
  assert.equal(byId(held)?.queue, 'hold');
  assert.match(log(), new RegExp(`postfix/smtp\\[\\d+\\]: ${a}: to=<later@remote\\.example>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${sink.port}, delay=[\\d.]+, delays=[\\d.]+/[\\d.]+/[\\d.]+/[\\d.]+, dsn=2\\.0\\.0, status=sent`));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
});
