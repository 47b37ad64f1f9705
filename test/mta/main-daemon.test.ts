/*
 * The MTA daemon end to end: bin/postern-mta on a temporary configuration whose virtual_transport
 * is lmtp to a private real Dovecot; a message enqueued through the QueueStore reaches Dovecot's
 * maildir and leaves the queue (`postqueue -p`: Mail queue is empty). Then a SIGKILL while a
 * delivery hangs: after a restart the message is delivered (at-least-once, nothing lost).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueueStore } from '../../mta/queue/store.js';
import { controlRequest } from '../../mta/queue/control-client.js';
import { queuePaths } from '../../mta/queue/paths.js';
import { oracleSkip } from '../helpers/oracle.js';
import { startDovecot } from '../helpers/dovecot-daemon.js';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../shared/daemon-flags.js';
import { tempDir } from '../helpers/tmp.js';
import { startFakeLmtp } from './delivery/fake-lmtp.js';
import { freePort } from '../helpers/free-port.js';
import { smtpSession } from '../helpers/smtp-client.js';
import { until } from '../helpers/until.js';

const TOP = join(import.meta.dirname, '..', '..', '..');
const BIN = join(TOP, 'bin');

function writeConfig(dir: string, lmtpNexthop: string, smtpPort: number): string {
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/q`,
    `data_directory = ${dir}/data`,
    'myhostname = mx.test.example',
    'mydestination =',
    'virtual_mailbox_domains = test.example',
    `virtual_transport = lmtp:${lmtpNexthop}`,
    `maillog_file = ${dir}/maillog`,
    'inet_interfaces = loopback-only',
    'queue_run_delay = 1s',
    'minimal_backoff_time = 1s',
    'maximal_backoff_time = 2s',
    '',
  ].join('\n'));
  writeFileSync(join(etc, 'master.cf'), [
    `127.0.0.1:${smtpPort} inet  n       -       y       -       -       smtpd`,
    'lmtp      unix  -       -       n       -       -       lmtp',
    'error     unix  -       -       n       -       -       error',
    'discard   unix  -       -       n       -       -       discard',
    '',
  ].join('\n'));
  return etc;
}

function startDaemon(t: TestContext, etc: string): ChildProcess {
  const child = spawn(join(BIN, 'postern-mta'), ['-c', etc], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  child.on('exit', (code, sig) => {
    if (code !== 0 && sig === null && err) process.stderr.write(`postern-mta exited ${code}: ${err}\n`);
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

async function enqueue(qdir: string, rcpt: string, subject: string): Promise<string> {
  const store = QueueStore.open({ queueDirectory: qdir });
  try {
    const rec = await store.enqueue({ sender: 'sender@example.org', recipients: [{ address: rcpt }] },
      Buffer.from(`From: sender@example.org\nTo: ${rcpt}\nSubject: ${subject}\n\nhello\n`));
    return rec.id;
  } finally {
    await store.close();
  }
}

function queueCount(qdir: string): number {
  const store = QueueStore.open({ queueDirectory: qdir, readOnly: true });
  try {
    return [...store.list()].length;
  } finally {
    void store.close();
  }
}

const DOVECOT_LMTP = (mail: string) => `protocols = lmtp
postmaster_address = postmaster@test.example
mail_location = maildir:${mail}/%d/%n
passdb {
  driver = passwd-file
  args = @DIR@/passwd
}
userdb {
  driver = passwd-file
  args = @DIR@/passwd
  default_fields = uid=65534 gid=65534 home=${mail}/%d/%n
}
service lmtp {
  unix_listener @DIR@/lmtp {
    mode = 0666
  }
}
`;

/** A temp dir, real Dovecot's LMTP delivering alice@test.example into dir/mail, and our configuration using it. */
async function withDovecotLmtp(t: TestContext): Promise<{ dir: string; mail: string; dv: Awaited<ReturnType<typeof startDovecot>>; smtpPort: number; etc: string }> {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const mail = join(dir, 'mail');
  mkdirSync(mail, { mode: 0o777 });
  chmodSync(mail, 0o777);
  const dv = await startDovecot(t, DOVECOT_LMTP(mail), []);
  writeFileSync(join(dv.dir, 'passwd'), 'alice@test.example::65534:65534::::\n');
  await until('dovecot lmtp socket', () => existsSync(join(dv.dir, 'lmtp')));
  const smtpPort = await freePort();
  const etc = writeConfig(dir, `unix:${join(dv.dir, 'lmtp')}`, smtpPort);
  return { dir, mail, dv, smtpPort, etc };
}

test('daemon delivers queued mail to real Dovecot over LMTP; postfix status/stop', { skip: oracleSkip('dovecot') }, async (t) => {
  const { dir, mail, dv, smtpPort, etc } = await withDovecotLmtp(t);
  const qdir = join(dir, 'q');
  mkdirSync(qdir, { recursive: true });

  const start = spawnSync(join(BIN, 'postfix'), ['-c', etc, 'start'], { encoding: 'utf8' });
  assert.equal(start.stderr, 'postfix/postfix-script: starting the Postfix mail system\n');
  assert.equal(start.status, 0);
  t.after(() => {
    spawnSync(join(BIN, 'postfix'), ['-c', etc, 'stop']);
  });
  const status = spawnSync(join(BIN, 'postfix'), ['-c', etc, 'status'], { encoding: 'utf8' });
  assert.match(status.stderr, /^postfix\/postfix-script: the Postfix mail system is running: PID: \d+\n$/);
  // The detached daemon runs with the daemons' Node options (shared/daemon-flags.ts).
  const daemonPid = /PID: (\d+)/.exec(status.stderr)![1]!;
  const cmdline = readFileSync(`/proc/${daemonPid}/cmdline`, 'utf8').split('\0');
  for (const flag of DAEMON_NODE_FLAGS) assert.ok(cmdline.includes(flag), cmdline.join(' '));
  // And its environment (DAEMON_ENV), unless this run's environment set the variables itself.
  const environ = readFileSync(`/proc/${daemonPid}/environ`, 'utf8').split('\0');
  for (const [k, v] of Object.entries(DAEMON_ENV)) assert.ok(environ.includes(`${k}=${process.env[k] ?? v}`), `${k}: ${environ.filter((e) => e.startsWith(`${k}=`)).join(' ')}`);
  const again = spawnSync(join(BIN, 'postfix'), ['-c', etc, 'start'], { encoding: 'utf8' });
  assert.equal(again.stderr, 'postfix/postfix-script: fatal: the Postfix mail system is already running\n');
  assert.equal(again.status, 1);

  const id = await enqueue(qdir, 'alice@test.example', 'to dovecot');
  await controlRequest(queuePaths(qdir).controlSocket, { verb: 'WAKEUP' });
  const newDir = join(mail, 'test.example', 'alice', 'new');
  await until('delivery into the maildir', () => existsSync(newDir) && readdirSync(newDir).length === 1);
  const msg = readFileSync(join(newDir, readdirSync(newDir)[0]!), 'utf8');
  assert.match(msg, /Subject: to dovecot/);
  assert.match(msg, /^Return-Path: <sender@example.org>/);
  await until('the queue to empty', () => queueCount(qdir) === 0);
  const pq = spawnSync(join(BIN, 'postqueue'), ['-c', etc, '-p'], { encoding: 'utf8' });
  assert.equal(pq.stdout, 'Mail queue is empty\n');
  const log = readFileSync(join(dir, 'maillog'), 'utf8');
  assert.match(log, /postfix\/master\[\d+\]: daemon started -- version 3\.7\.11, configuration /);
  assert.match(log, new RegExp(`postfix/qmgr\\[\\d+\\]: ${id}: from=<sender@example.org>, size=\\d+, nrcpt=1 \\(queue active\\)`));
  assert.match(log, new RegExp(`postfix/lmtp\\[\\d+\\]: ${id}: to=<alice@test.example>, relay=mx.test.example\\[${join(dv.dir, 'lmtp').replace(/[.]/g, '\\.')}\\], delay=[\\d.]+, delays=[\\d./]+, dsn=2\\.0\\.0, status=sent \\(250 2\\.0\\.0 <alice@test.example> `));
  assert.match(log, new RegExp(`postfix/qmgr\\[\\d+\\]: ${id}: removed`));

  // The same path through smtpd → cleanup → queue → qmgr → LMTP.
  const replies = await smtpSession(smtpPort, ['EHLO client.test', 'MAIL FROM:<sender@example.org>', 'RCPT TO:<alice@test.example>', 'DATA',
    'Subject: via smtpd\r\n\r\nhello\r\n.', 'QUIT']);
  assert.match(replies[5]!, /^250 2\.0\.0 Ok: queued as [0-9A-F]+$/, replies.join('\n'));
  await until('the smtpd message in the maildir', () => readdirSync(newDir).length === 2);
  await until('the queue to empty again', () => queueCount(qdir) === 0);
  assert.ok(readdirSync(newDir).some((f) => /Subject: via smtpd/.test(readFileSync(join(newDir, f), 'utf8'))));

  const stop = spawnSync(join(BIN, 'postfix'), ['-c', etc, 'stop'], { encoding: 'utf8' });
  assert.equal(stop.stderr, 'postfix/postfix-script: stopping the Postfix mail system\npostfix/postfix-script: waiting for the Postfix mail system to terminate\n');
  const down = spawnSync(join(BIN, 'postfix'), ['-c', etc, 'status'], { encoding: 'utf8' });
  assert.equal(down.stderr, 'postfix/postfix-script: the Postfix mail system is not running\n');
  assert.equal(down.status, 1);
  assert.match(readFileSync(join(dir, 'maillog'), 'utf8'), /postfix\/master\[\d+\]: terminating on signal 15/);
});

test('SIGKILL during a delivery: after restart the message is delivered, nothing lost', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const sock = join(dir, 'lmtp.sock');
  const hang = await startFakeLmtp(sock, { stallAtDataEnd: true });
  chmodSync(sock, 0o666);
  const etc = writeConfig(dir, `unix:${sock}`, await freePort());
  const qdir = join(dir, 'q');
  mkdirSync(qdir, { recursive: true });
  const d1 = startDaemon(t, etc);
  await until('control socket', () => existsSync(queuePaths(qdir).controlSocket));
  const id = await enqueue(qdir, 'bob@test.example', 'crash');
  await controlRequest(queuePaths(qdir).controlSocket, { verb: 'WAKEUP' });
  await until('the body to reach the hanging server', () => hang.bodies.length === 1);
  d1.kill('SIGKILL');
  await new Promise((r) => d1.once('exit', r));
  await hang.close();
  assert.equal(queueCount(qdir), 1, 'still queued after the crash');

  const ok = await startFakeLmtp(sock);
  chmodSync(sock, 0o666);
  t.after(() => ok.close());
  const d2 = startDaemon(t, etc);
  await until('redelivery after restart', () => ok.bodies.length >= 1, 20_000);
  await until('the queue to empty', () => queueCount(qdir) === 0);
  assert.match(ok.bodies[0]!, /Subject: crash/);
  d2.kill('SIGTERM');
  await new Promise((r) => d2.once('exit', r));
  assert.equal(d2.exitCode, 0);
  assert.match(readFileSync(join(dir, 'maillog'), 'utf8'), new RegExp(`${id}: removed`));
});

test('sendmail → pickup → delivery, and an LMTP 550 becomes a bounce delivered to the sender', { skip: oracleSkip('dovecot') }, async (t) => {
  const { dir, mail, smtpPort, etc } = await withDovecotLmtp(t);
  mkdirSync(join(dir, 'q'), { recursive: true });
  const daemon = startDaemon(t, etc);
  await until('control socket', () => existsSync(queuePaths(join(dir, 'q')).controlSocket));
  const newDir = join(mail, 'test.example', 'alice', 'new');
  const inbox = () => (existsSync(newDir) ? readdirSync(newDir).map((f) => readFileSync(join(newDir, f), 'utf8')) : []);

  // Local submission: sendmail writes maildrop and exits 0 only when the file is durable; pickup feeds cleanup.
  const sm = spawnSync(join(BIN, 'sendmail'), ['-f', 'alice@test.example', 'alice@test.example'], {
    input: 'Subject: from sendmail\n\nlocal\n',
    env: { ...process.env, MAIL_CONFIG: etc },
    encoding: 'utf8',
  });
  assert.equal(sm.status, 0, sm.stderr);
  await until('the sendmail message in the maildir', () => inbox().some((m) => /Subject: from sendmail/.test(m)), 30_000);
  const local = inbox().find((m) => /Subject: from sendmail/.test(m))!;
  assert.match(local, /^Received: by mx\.test\.example \(Postfix, from userid \d+\)$/m);
  assert.match(local, /^Message-Id: </m);

  // Accepted at RCPT (no recipient table lists the domain's users), refused by Dovecot's LMTP: bounced.
  const replies = await smtpSession(smtpPort, ['EHLO client.test', 'MAIL FROM:<alice@test.example>', 'RCPT TO:<nosuch@test.example>', 'DATA',
    'Subject: to nobody\r\n\r\nhello\r\n.', 'QUIT']);
  assert.match(replies[3]!, /^250 2\.1\.5 Ok$/);
  const queued = /queued as ([0-9A-F]+)$/.exec(replies[5]!)?.[1];
  assert.ok(queued, replies.join('\n'));
  await until('the bounce in the sender maildir', () => inbox().some((m) => /Subject: Undelivered Mail Returned to Sender/.test(m)), 30_000);
  const dsn = inbox().find((m) => /Subject: Undelivered Mail Returned to Sender/.test(m))!;
  assert.match(dsn, /^Return-Path: <>$/m);
  assert.match(dsn, new RegExp(`^X-Postfix-Queue-ID: ${queued}$`, 'm'));
  assert.match(dsn, /^Final-Recipient: rfc822; nosuch@test\.example$/m);
  assert.match(dsn, /^Action: failed$/m);
  assert.match(dsn, /^Status: 5\.1\.1$/m);
  await until('the queue to empty', () => queueCount(join(dir, 'q')) === 0);
  const log = readFileSync(join(dir, 'maillog'), 'utf8');
  assert.match(log, new RegExp(`postfix/bounce\\[\\d+\\]: ${queued}: sender non-delivery notification: [0-9A-F]+`));
  assert.match(log, /postfix\/pickup\[\d+\]: [0-9A-F]+: uid=\d+ from=<alice@test\.example>/);
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
});
