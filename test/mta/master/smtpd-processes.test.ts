/*
 * smtpd in processes of its own (postern_smtpd_processes = 2, mta/master): over real sockets, the
 * master binds, two smtpd processes accept and enqueue into the one LMDB queue, and the master's
 * qmgr delivers (discard). Checked, with the processes always accepting (spread sessions 0): every
 * session gets its `250 … queued as ID` from an smtpd process (its own PID in the log, not the
 * master's), IDs are unique, every message leaves the queue; an smtpd process killed with SIGKILL
 * is logged as Postfix's master logs it and replaced, and mail it had stored as active without
 * handing it over is still delivered; stop ends them all. With the default spread (3 sessions):
 * the master alone accepts one client at a time; 3 sessions at once make the processes hold the
 * listening socket (seen in /proc/PID/fd) and accept; 0.5 s after the load is gone they let go of it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MtaStartError, smtpdProcessCount, smtpdSpreadSessions, startMta, type MtaHandle } from '../../../mta/main.js';
import { loadPostfixConfig, type PostfixConfig } from '../../../shared/config/postfix/config.js';
import { QueueStore } from '../../../mta/queue/store.js';
import { isMasterMessage, isSmtpdMessage } from '../../../mta/master/smtpd-protocol.js';
import { SmtpdSpread } from '../../../mta/master/spread.js';
import { freePort } from '../../helpers/free-port.js';
import { SmtpClient, smtpSession } from '../../helpers/smtp-client.js';
import { tempDir } from '../../helpers/tmp.js';
import { sleep, until } from '../../helpers/until.js';
import { pidAlive } from '../../../shared/fs/pid.js';


function configure(dir: string, port: number, spread = 0): string {
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/q`,
    `data_directory = ${dir}/data`,
    'myhostname = mx.test.example',
    `maillog_file = ${dir}/maillog`,
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'mydestination =',
    'default_transport = discard',
    'alias_maps =',
    'alias_database =',
    'postern_smtpd_processes = 2',
    `postern_smtpd_spread_sessions = ${spread}`,
    // A replacement for a process that failed to start would otherwise wait 60 s.
    'service_throttle_time = 2s',
    '',
  ].join('\n'));
  writeFileSync(join(etc, 'master.cf'), [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'discard unix - - n - - discard',
    '',
  ].join('\n'));
  return etc;
}

const message = (i: number): string => ['From: a@client.test', `To: r${i}@remote.test`, `Subject: m${i}`, '', `body ${i}`, '.'].join('\r\n');

async function send(port: number, i: number): Promise<string> {
  const r = await smtpSession(port, ['EHLO client.test', 'MAIL FROM:<a@client.test>', `RCPT TO:<r${i}@remote.test>`, 'DATA', message(i), 'QUIT']);
  const m = /^250 2\.0\.0 Ok: queued as ([0-9A-Z]+)$/.exec(r.at(-2) ?? '');
  assert.ok(m, r.join('\n'));
  return m[1]!;
}

const removed = (log: string): number => log.split(': removed\n').length - 1;

async function withMta(t: TestContext, fn: (mta: MtaHandle, port: number, dir: string) => Promise<void>, spread = 0): Promise<void> {
  const dir = tempDir(t, 'postern-smtpd-procs-');
  const port = await freePort();
  const mta = await startMta({ configDir: configure(dir, port, spread), keepPrivileges: true, stopGraceSeconds: 1 });
  try {
    await fn(mta, port, dir);
  } finally {
    const pids = mta.smtpdPids();
    await mta.stop(1);
    for (const pid of pids) assert.equal(pidAlive(pid), false, `smtpd process ${pid} outlived the master's stop`);
  }
}

test('two smtpd processes accept on the master\'s sockets; qmgr in the master delivers everything', async (t) => {
  await withMta(t, async (mta, port, dir) => {
    const pids = mta.smtpdPids();
    assert.equal(pids.length, 2);
    assert.ok(!pids.includes(process.pid));
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => send(port, i)));
    assert.equal(new Set(ids).size, ids.length, 'queue IDs are unique across processes');
    const log = () => readFileSync(join(dir, 'maillog'), 'utf8');
    await until('every message delivered', () => removed(log()) >= ids.length);
    for (const id of ids) {
      assert.match(log(), new RegExp(`postfix/discard\\[${process.pid}\\]: ${id}: to=<r\\d+@remote\\.test>.*status=sent`), id);
      // The session that received it ran in an smtpd process, which logged under its own PID.
      const m = new RegExp(`postfix/smtpd\\[(\\d+)\\]: ${id}: client=[^[]*\\[127\\.0\\.0\\.1\\]`).exec(log());
      assert.ok(m, `${id}: no smtpd client= line`);
      assert.ok(pids.includes(Number(m[1])), `${id} was received by PID ${m[1]}, not an smtpd process (${pids.join(', ')})`);
    }
    assert.equal([...mta.store.list()].length, 0, 'the queue is empty');
  });
});

test('a killed smtpd process is logged and replaced; mail it stored as active without handing it over is delivered', async (t) => {
  await withMta(t, async (mta, port, dir) => {
    const log = () => readFileSync(join(dir, 'maillog'), 'utf8');
    const [victim, survivor] = mta.smtpdPids() as [number, number];
    // What an smtpd process leaves behind when it dies between its commit and its notice to the
    // master: a message stored straight as active (its direct admission), unknown to qmgr.
    const other = QueueStore.open({ queueDirectory: join(dir, 'q'), idSlot: { index: 1, count: 3 } });
    other.setDirectAdmission({ reserve: () => true, release: () => undefined });
    const stray = await other.enqueue({ sender: 'a@client.test', recipients: [{ address: 'stray@remote.test' }] }, Buffer.from('Subject: stray\n\nbody\n'));
    await other.close();
    assert.equal(stray.queue, 'active');
    await sleep(300);
    assert.doesNotMatch(log(), new RegExp(`${stray.id}: removed`), 'nobody told qmgr about it yet');

    process.kill(victim, 'SIGKILL');
    await until('the master logs the death', () => log().includes(`postfix/master[${process.pid}]: warning: process /usr/lib/postfix/sbin/smtpd pid ${victim} killed by signal 9`));
    await until('the stray message is delivered', () => log().includes(`${stray.id}: removed`));
    await until('a replacement process', () => mta.smtpdPids().length === 2 && !mta.smtpdPids().includes(victim));
    assert.ok(mta.smtpdPids().includes(survivor));
    // Both the survivor and the replacement keep accepting.
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => send(port, 100 + i)));
    await until('the new mail delivered', () => ids.every((id) => log().includes(`${id}: removed`)));
    assert.doesNotMatch(log(), /bad command startup/, 'the process had started fine');
  });
});

/** The inode of the socket listening on 127.0.0.1:port (/proc/net/tcp, state 0A = LISTEN). */
function listeningInode(port: number): string {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[3] === '0A') return f[9]!;
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** True when process `pid` has the socket with this inode open. */
function holdsSocket(pid: number, inode: string): boolean {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).some((fd) => {
    try {
      return readlinkSync(`${dir}/${fd}`) === `socket:[${inode}]`;
    } catch {
      return false;
    }
  });
}

test('spread: the master accepts alone one client at a time; under load the smtpd processes accept too, and let go after it', async (t) => {
  await withMta(t, async (mta, port, dir) => {
    const log = () => readFileSync(join(dir, 'maillog'), 'utf8');
    const receivedBy = (id: string): number | undefined => {
      const m = new RegExp(`postfix/smtpd\\[(\\d+)\\]: ${id}: client=`).exec(log());
      return m ? Number(m[1]) : undefined;
    };
    const pids = mta.smtpdPids();
    assert.equal(pids.length, 2);
    const inode = listeningInode(port);
    const accepting = (): boolean => pids.every((pid) => holdsSocket(pid, inode));
    const idle = (): boolean => pids.every((pid) => !holdsSocket(pid, inode));
    assert.equal(mta.smtpdSpreading(), false);
    assert.ok(idle(), 'an smtpd process holds the listening socket with no load');
    for (let i = 0; i < 3; i++) {
      const id = await send(port, i);
      await until(`${id}'s client= line`, () => receivedBy(id) !== undefined);
      assert.equal(receivedBy(id), process.pid, `${id}: one client at a time is the master's`);
    }
    assert.equal(mta.smtpdSpreading(), false);

    // Three sessions at once in the master: the processes take the listening socket and accept.
    const held = await Promise.all([0, 1, 2].map(async () => {
      const c = await SmtpClient.open('127.0.0.1', port);
      assert.equal((await c.reply()).code, 220);
      return c;
    }));
    await until('the smtpd processes accept', () => mta.smtpdSpreading() && accepting());
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => send(port, 10 + i)));
    assert.equal(new Set(ids).size, ids.length);
    await until('the load delivered', () => ids.every((id) => log().includes(`${id}: removed`)));
    for (const id of ids) assert.ok([process.pid, ...pids].includes(receivedBy(id) ?? 0), id);

    // The load gone, after SPREAD_QUIET_MS the processes close their copies of the socket.
    for (const c of held) c.close();
    await until('the smtpd processes let go', () => !mta.smtpdSpreading() && idle(), 10_000);
    const id = await send(port, 50);
    await until(`${id}'s client= line`, () => receivedBy(id) !== undefined);
    assert.equal(receivedBy(id), process.pid);
    await until(`${id} delivered`, () => log().includes(`${id}: removed`));
  }, 3);
});

test('SmtpdSpread: spreads at the busy mark, gathers after the master was quiet long enough', () => {
  // [event, argument, time] → expected change and state after it.
  type Step = [kind: 'sessions' | 'tick', n: number, now: number, change: string | undefined, active: boolean];
  const steps: Step[] = [
    ['sessions', 1, 0, undefined, false],
    ['sessions', 2, 10, undefined, false],
    ['tick', 0, 5_000, undefined, false],
    ['sessions', 3, 20, 'spread', true],
    ['sessions', 4, 30, undefined, true],
    ['sessions', 1, 100, undefined, true],
    ['tick', 0, 1_000, undefined, true],
    // A second session resets the quiet period.
    ['sessions', 2, 1_500, undefined, true],
    ['sessions', 1, 1_600, undefined, true],
    ['tick', 0, 2_100, undefined, true],
    ['tick', 0, 3_599, undefined, true],
    ['tick', 0, 3_600, 'gather', false],
    ['tick', 0, 9_000, undefined, false],
    ['sessions', 0, 9_100, undefined, false],
    ['sessions', 3, 9_200, 'spread', true],
  ];
  const spread = new SmtpdSpread(3, 2_000);
  assert.equal(spread.masterAccepts, true);
  for (const [kind, n, now, change, active] of steps) {
    const got = kind === 'sessions' ? spread.sessions(n, now) : spread.tick(now);
    assert.equal(got, change, `${kind} ${n} at ${now}`);
    assert.equal(spread.active, active, `${kind} ${n} at ${now}: active`);
  }
  // 0: the processes always accept, the master never does, and nothing changes that.
  const always = new SmtpdSpread(0, 2_000);
  assert.equal(always.active, true);
  assert.equal(always.masterAccepts, false);
  assert.equal(always.sessions(0, 0), undefined);
  assert.equal(always.tick(60_000), undefined);
  assert.equal(always.active, true);
});

test('the IPC messages are checked before anyone acts on them', () => {
  const fromSmtpd: Array<[unknown, boolean]> = [
    [{ type: 'ready' }, true],
    [{ type: 'enqueued', ids: ['A1'], admitted: [] }, true],
    [{ type: 'enqueued', ids: ['A1'] }, false],
    [{ type: 'enqueued', ids: [1], admitted: [] }, false],
    [{ type: 'enqueued', ids: ['x'.repeat(256)], admitted: [] }, false],
    [{ type: 'etrn', domain: 'example.org' }, true],
    [{ type: 'sessions', n: 0 }, true],
    [{ type: 'sessions', n: 12 }, true],
    [{ type: 'sessions', n: -1 }, false],
    [{ type: 'sessions', n: 'many' }, false],
    [{ type: 'etrn', domain: 7 }, false],
    [{ type: 'stop' }, false],
    [null, false],
    ['ready', false],
  ];
  for (const [m, ok] of fromSmtpd) assert.equal(isSmtpdMessage(m), ok, JSON.stringify(m));
  const fromMaster: Array<[unknown, boolean]> = [
    [{ type: 'init', configDir: '/etc/postfix', slot: 1, slots: 3, keepPrivileges: false, endpoints: [] }, true],
    [{ type: 'init', configDir: '/etc/postfix', slot: '1', slots: 3, keepPrivileges: false, endpoints: [] }, false],
    [{ type: 'init', configDir: '/etc/postfix', slot: 1, slots: 3, keepPrivileges: false, endpoints: 2 }, false],
    [{ type: 'listener', index: 0, endpoint: { service: 'smtp', host: '0.0.0.0', port: 25 } }, true],
    [{ type: 'listener', index: '0', endpoint: { service: 'smtp', host: '0.0.0.0', port: 25 } }, false],
    [{ type: 'pause' }, true],
    [{ type: 'credit', n: 64 }, true],
    [{ type: 'credit', n: 0 }, false],
    [{ type: 'credit', n: 1.5 }, false],
    [{ type: 'stop' }, true],
    [{ type: 'ready' }, false],
  ];
  for (const [m, ok] of fromMaster) assert.equal(isMasterMessage(m), ok, JSON.stringify(m));
});

test('postern_smtpd_processes (from 1, unset 1) and postern_smtpd_spread_sessions (from 0, unset 3)', (t) => {
  const dir = tempDir(t, 'postern-smtpd-params-');
  writeFileSync(join(dir, 'main.cf'), '');
  const bad = (name: string, v: string): string => `bad numerical configuration: ${name} = ${v}`;
  // [parameter, reader, value (undefined: unset), expected number or error text]
  const table: Array<[string, (cfg: PostfixConfig) => number, string | undefined, number | string]> = [
    ['postern_smtpd_processes', smtpdProcessCount, undefined, 1],
    ['postern_smtpd_processes', smtpdProcessCount, '', 1],
    ['postern_smtpd_processes', smtpdProcessCount, '1', 1],
    ['postern_smtpd_processes', smtpdProcessCount, '2', 2],
    ['postern_smtpd_processes', smtpdProcessCount, ' 4 ', 4],
    ['postern_smtpd_processes', smtpdProcessCount, '0', bad('postern_smtpd_processes', '0')],
    ['postern_smtpd_processes', smtpdProcessCount, '-1', bad('postern_smtpd_processes', '-1')],
    ['postern_smtpd_processes', smtpdProcessCount, 'two', bad('postern_smtpd_processes', 'two')],
    ['postern_smtpd_processes', smtpdProcessCount, '1.5', bad('postern_smtpd_processes', '1.5')],
    ['postern_smtpd_spread_sessions', smtpdSpreadSessions, undefined, 3],
    ['postern_smtpd_spread_sessions', smtpdSpreadSessions, '', 3],
    ['postern_smtpd_spread_sessions', smtpdSpreadSessions, '0', 0],
    ['postern_smtpd_spread_sessions', smtpdSpreadSessions, '1', 1],
    ['postern_smtpd_spread_sessions', smtpdSpreadSessions, ' 8 ', 8],
    ['postern_smtpd_spread_sessions', smtpdSpreadSessions, '-1', bad('postern_smtpd_spread_sessions', '-1')],
    ['postern_smtpd_spread_sessions', smtpdSpreadSessions, 'many', bad('postern_smtpd_spread_sessions', 'many')],
  ];
  for (const [name, read, value, want] of table) {
    const what = `${name} = ${String(value)}`;
    const get = (): number => read(loadPostfixConfig({ configDir: dir, overrides: value === undefined ? {} : { [name]: value } }));
    if (typeof want === 'number') assert.equal(get(), want, what);
    else assert.throws(get, (e: unknown) => e instanceof MtaStartError && e.message === want, what);
  }
});

test('postern_smtpd_processes with no smtpd service in master.cf starts no smtpd process', async (t) => {
  const dir = tempDir(t, 'postern-smtpd-none-');
  const etc = configure(dir, await freePort());
  // A null client: master.cf without any `inet … smtpd` line.
  writeFileSync(join(etc, 'master.cf'), 'discard unix - - n - - discard\n');
  // Before the fix the master forked processes with nothing to listen on, waited for them to be
  // ready, killed them after 30 s and failed to start.
  const mta = await startMta({ configDir: etc, keepPrivileges: true, stopGraceSeconds: 1 });
  try {
    assert.deepEqual(mta.smtpdPids(), []);
  } finally {
    await mta.stop(1);
  }
});
