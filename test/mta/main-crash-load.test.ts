/*
 * The acceptance crash test of the MTA issue: a load generator (four SMTP clients in parallel, N
 * messages in all) sends to a running bin/postern-mta whose only delivery target refuses
 * connections (so accepted mail stays queued); the daemon is SIGKILLed once a part of the messages
 * has been acknowledged, while clients are still mid-transaction; it is restarted, and every
 * message that got `250 2.0.0 Ok: queued as ID` must be in the queue, readable (envelope and
 * body), with its Subject. Bounded N and bounded polls; no wall-clock assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { QueueStore } from '../../mta/queue/store.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/free-port.js';

const TOP = join(import.meta.dirname, '..', '..', '..');
const BIN = join(TOP, 'bin');
const N = 120;
const KILL_AFTER = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One client: sends its messages on one connection until the connection dies (or, after the kill, at random). */
async function client(port: number, subjects: string[], acked: Map<string, string>, killed: () => boolean): Promise<void> {
  const sock = connect(port, '127.0.0.1');
  sock.setEncoding('latin1');
  let buf = '';
  let waiter: (() => void) | undefined;
  let closed = false;
  sock.on('data', (d: string) => {
    buf += d;
    waiter?.();
  });
  sock.on('error', () => undefined);
  sock.on('close', () => {
    closed = true;
    waiter?.();
  });
  const reply = async (): Promise<string | undefined> => {
    for (;;) {
      const m = /^(\d{3}) .*\r\n/m.exec(buf);
      if (m) {
        const end = m.index + m[0].length;
        const r = buf.slice(0, end);
        buf = buf.slice(end);
        return r.trimEnd().split('\r\n').pop();
      }
      if (closed) return undefined;
      await new Promise<void>((r) => (waiter = r));
    }
  };
  const say = async (line: string) => {
    if (!closed) sock.write(`${line}\r\n`);
    return reply();
  };
  try {
    if ((await reply()) === undefined) return;
    if ((await say('EHLO load.test')) === undefined) return;
    for (const subject of subjects) {
      if (killed() && Math.random() < 0.5) break;
      if (!(await say('MAIL FROM:<load@sender.example>'))?.startsWith('250')) return;
      if (!(await say('RCPT TO:<rcpt@remote.example>'))?.startsWith('250')) return;
      if (!(await say('DATA'))?.startsWith('354')) return;
      const r = await say(`Subject: ${subject}\r\n\r\n${'body line\r\n'.repeat(20)}.`);
      if (r === undefined) return;
      const m = /^250 2\.0\.0 Ok: queued as (\w+)$/.exec(r);
      if (m) acked.set(m[1]!, subject);
    }
    await say('QUIT');
  } finally {
    sock.destroy();
  }
}

function startDaemon(etc: string): ChildProcess {
  return spawn(join(BIN, 'postern-mta'), ['-c', etc], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function waitForLog(path: string, pattern: RegExp, count: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      /* not yet */
    }
    if ((text.match(pattern) ?? []).length >= count) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${pattern}`);
}

test('SIGKILL under SMTP load: every acknowledged message is in the queue after a restart', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const smtpPort = await freePort();
  const deadPort = await freePort();
  const etc = join(dir, 'etc');
  const qdir = join(dir, 'q');
  mkdirSync(etc, { recursive: true });
  mkdirSync(qdir, { recursive: true });
  const maillog = join(dir, 'maillog');
  writeFileSync(join(etc, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${qdir}`,
    `data_directory = ${dir}/data`,
    'myhostname = mx.test.example',
    'mydestination =',
    'mynetworks = 127.0.0.0/8',
    'relay_domains = remote.example',
    `relayhost = [127.0.0.1]:${deadPort}`,
    `maillog_file = ${maillog}`,
    'inet_interfaces = loopback-only',
    'queue_run_delay = 1h',
    'minimal_backoff_time = 1h',
    'maximal_backoff_time = 2h',
    '',
  ].join('\n'));
  writeFileSync(join(etc, 'master.cf'), [
    `127.0.0.1:${smtpPort} inet  n       -       y       -       -       smtpd`,
    'smtp      unix  -       -       n       -       -       smtp',
    'relay     unix  -       -       n       -       -       smtp',
    '',
  ].join('\n'));
  let child = startDaemon(etc);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await waitForLog(maillog, /daemon started/g, 1);

  const acked = new Map<string, string>();
  let killed = false;
  const subjects = Array.from({ length: N }, (_, i) => `load ${i}`);
  const clients = [0, 1, 2, 3].map((k) => client(smtpPort, subjects.filter((_, i) => i % 4 === k), acked, () => killed));
  // Kill once KILL_AFTER messages were acknowledged (or the clients are done), mid-stream.
  for (let i = 0; i < 1200 && acked.size < KILL_AFTER; i++) await sleep(25);
  child.kill('SIGKILL');
  killed = true;
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
  await Promise.all(clients);
  const acknowledged = new Map(acked);
  assert.ok(acknowledged.size >= KILL_AFTER, `only ${acknowledged.size} messages were acknowledged before the kill`);

  child = startDaemon(etc);
  await waitForLog(maillog, /daemon started/g, 2);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  const store = QueueStore.open({ queueDirectory: qdir, readOnly: true });
  try {
    const missing: string[] = [];
    for (const [id, subject] of acknowledged) {
      const rec = store.get(id);
      if (!rec) {
        missing.push(id);
        continue;
      }
      assert.deepEqual(rec.recipients.map((r) => r.address), ['rcpt@remote.example']);
      assert.ok(store.readBody(id).toString('latin1').includes(`Subject: ${subject}\r\n`), `${id}: body of ${subject}`);
    }
    assert.deepEqual(missing, [], `acknowledged but lost: ${missing.join(', ')}`);
    assert.deepEqual(store.corruptIds(), []);
  } finally {
    await store.close();
  }
});
