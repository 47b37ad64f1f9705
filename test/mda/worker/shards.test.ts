/*
 * Session shards (`plugin { postern_mail_processes = 2 }`, mda/main.ts workerRoute): in the single-uid
 * mode the logged-in IMAP and POP3 sessions are spread over two worker processes of the daemon's own
 * uid, each user always to the same one. Checked against `postern-mda -c CONF` as a child over real
 * sockets (as root it drops to mail_uid 65534 first; otherwise it runs as the test's uid):
 *  - the login lines name a worker as mpid (never the master), users are grouped exactly as
 *    shardOf() says, and both workers are used; IMAP, IMAP over TLS and POP3 of one user share
 *    its worker (as root, the TLS hand-over's socket-pair listener must be reachable after the drop);
 *  - the workers are the master's children and run as the mail uid;
 *  - LMTP is saved by the master and reaches a session in a worker (IDLE sees EXISTS): the
 *    processes share the maildir the way Dovecot's processes do;
 *  - a worker killed with SIGKILL ends only its own sessions; the next login starts a new one;
 *  - both shards start with the daemon, before any login, and are kept when idle; with no IMAP
 *    or POP3 to serve none is started;
 *  - each shard runs the IMAP warm-up as it starts (imap/warmup.ts): every command OK (mail_debug
 *    logs the result), no login line, no scratch directory left; so does a shard started in the
 *    place of one that died.
 * shardOf itself is FNV-1a, checked against the published test vectors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shardOf } from '../../../mda/worker/route.js';
import { pidAlive } from '../../../shared/fs/pid.js';
import { makeSelfSigned } from '../../../shared/tls/selfsigned.js';
import { freePort, retryOnAddrInUse } from '../../helpers/free-port.js';
import { LineClient } from '../../helpers/line-client.js';
import { tempDir } from '../../helpers/tmp.js';
import { startMdaDaemon } from '../lmtp/mda-daemon.js';

test('shardOf: FNV-1a 32-bit of the UTF-8 name, mod n', () => {
  // Published FNV-1a 32-bit vectors (mod 2^32 leaves the hash itself).
  const vectors: [string, number][] = [['', 0x811c9dc5], ['a', 0xe40c292c], ['foobar', 0xbf9cf968]];
  for (const [s, h] of vectors) assert.equal(shardOf(s, 2 ** 32), h, JSON.stringify(s));
  for (const [s, h] of vectors) assert.equal(shardOf(s, 3), h % 3);
  // UTF-8 bytes, not UTF-16 code units: 'é' is c3 a9.
  let h = 0x811c9dc5;
  for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  assert.equal(shardOf('é', 2 ** 32), h);
  assert.equal(shardOf('anyone', 1), 0);
});

/** The master's direct children. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** One LMTP transaction to `user`; asserts the 250. */
async function deliverTo(socket: string, user: string, subject: string): Promise<void> {
  const l = await LineClient.open(socket);
  await l.line();
  l.send(`LHLO mx.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<${user}>\r\nDATA\r\n`);
  await l.until('354 ');
  l.send(`Subject: ${subject}\r\n\r\nhello\r\n.\r\n`);
  assert.match(await l.line(), new RegExp(`^250 2\\.0\\.0 <${user}> .* Saved$`));
  l.close();
}

function uidOf(pid: number): number {
  const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

test('postern_mail_processes = 2: sessions spread over two workers by user, sharing the maildirs with the master', { timeout: 120_000 }, async (t) => {
  const names = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
  assert.deepEqual(new Set(names.map((n) => shardOf(n, 2))), new Set([0, 1]), 'the chosen names cover both shards');
  const certDir = tempDir(t, 'postern-shards-tls-');
  const cert = makeSelfSigned({ commonName: 'mail.test.example', bits: 1024 });
  writeFileSync(join(certDir, 'cert.pem'), cert.certPem);
  writeFileSync(join(certDir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  let [imap, imaps, pop3] = [0, 0, 0];
  const d = await retryOnAddrInUse(async () => {
    [imap, imaps, pop3] = [await freePort(), await freePort(), await freePort()];
    return startMdaDaemon(t, {
      protocols: 'lmtp imap pop3',
      users: names.map((name) => ({ name, password: `pw-${name}` })),
      extraConf: `disable_plaintext_auth = no
ssl = yes
ssl_cert = <${certDir}/cert.pem
ssl_key = <${certDir}/key.pem
service imap-login {
  inet_listener imap {
    port = ${imap}
  }
  inet_listener imaps {
    port = ${imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${pop3}
  }
  # ssl = yes would also listen on Dovecot's default pop3s port, 995, which tests running at the same time share.
  inet_listener pop3s {
    port = 0
  }
}
plugin {
  postern_mail_processes = 2
}
`,
    });
  });
  const mpidOf = (user: string, service: string): number[] => [...d.log().matchAll(new RegExp(`${service}-login: Info: Login: user=<${user}>,[^\\n]*mpid=(\\d+)`, 'g'))].map((m) => Number(m[1]));
  /** mpidOf once `count` login lines are in the log: the master's line can reach the file after the worker's reply. */
  const loggedMpids = async (user: string, service: string, count: number): Promise<number[]> => {
    for (let i = 0; i < 100 && mpidOf(user, service).length < count; i++) await new Promise((r) => setTimeout(r, 50));
    return mpidOf(user, service);
  };

  const sessions = new Map<string, LineClient>();
  for (const n of names) {
    const c = await LineClient.open(imap);
    await c.line();
    c.send(`a LOGIN ${n} pw-${n}\r\nb SELECT INBOX\r\n`);
    assert.match((await c.until('a ')).at(-1)!, /^a OK \[CAPABILITY .*\] Logged in$/);
    assert.match((await c.until('b ')).at(-1)!, /^b OK \[READ-WRITE\]/);
    sessions.set(n, c);
  }
  const workerOf = new Map<string, number>();
  for (const n of names) workerOf.set(n, (await loggedMpids(n, 'imap', 1))[0]!);
  const pids = new Set(workerOf.values());
  assert.equal(pids.size, 2, `two workers: ${JSON.stringify([...workerOf])}`);
  assert.ok(!pids.has(d.pid), 'no session is served by the master');
  for (const a of names) for (const b of names) {
    assert.equal(workerOf.get(a) === workerOf.get(b), shardOf(a, 2) === shardOf(b, 2), `${a} and ${b}`);
  }
  assert.deepEqual(new Set(childrenOf(d.pid)), pids, 'the workers are the master\'s children');
  for (const p of pids) assert.equal(uidOf(p), d.uid, 'the workers run as the mail uid');

  // Over implicit TLS (the master keeps the TLS and pipes the plaintext to the worker through its
  // socket-pair listener, made before the privilege drop when started as root).
  const secure = await LineClient.open(imaps, { tls: true });
  await secure.line();
  secure.send('a LOGIN u3 pw-u3\r\nb SELECT INBOX\r\nc NOOP\r\n');
  assert.match((await secure.until('a ')).at(-1)!, /^a OK \[CAPABILITY .*\] Logged in$/);
  assert.match((await secure.until('b ')).at(-1)!, /^b OK \[READ-WRITE\]/);
  assert.match((await secure.until('c ')).at(-1)!, /^c OK NOOP completed/);
  assert.deepEqual(await loggedMpids('u3', 'imap', 2), [workerOf.get('u3'), workerOf.get('u3')]);
  secure.send('z LOGOUT\r\n');
  await secure.until('z ');
  secure.close();

  // A second session of u1 lands on the same worker; so does POP3.
  const again = await LineClient.open(imap);
  await again.line();
  again.send('a LOGIN u1 pw-u1\r\n');
  await again.until('a ');
  assert.deepEqual(await loggedMpids('u1', 'imap', 2), [workerOf.get('u1'), workerOf.get('u1')]);
  again.send('z LOGOUT\r\n');
  await again.until('z ');
  again.close();
  const p = await LineClient.open(pop3);
  assert.match(await p.line(), /^\+OK /);
  p.send('USER u2\r\nPASS pw-u2\r\n');
  assert.match(await p.line(), /^\+OK/);
  assert.equal(await p.line(), '+OK Logged in.');
  assert.deepEqual(await loggedMpids('u2', 'pop3', 1), [workerOf.get('u2')]);
  p.send('QUIT\r\n');
  p.close();

  // LMTP, saved by the master, reaches u1's session in its worker.
  const u1 = sessions.get('u1')!;
  u1.send('i IDLE\r\n');
  assert.equal(await u1.line(), '+ idling');
  await deliverTo(d.lmtpSocket, 'u1', 'across processes');
  const seen: string[] = [];
  while (!seen.includes('* 1 EXISTS')) seen.push(await u1.line());
  u1.send('DONE\r\n');
  assert.match((await u1.until('i ')).at(-1)!, /^i OK Idle completed/);
  u1.send('f FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n');
  assert.ok((await u1.until('f ')).some((x) => x.includes('Subject: across processes')));

  // SIGKILL one worker: its sessions end, the others' go on, and a new login starts a new worker.
  const victim = workerOf.get('u1')!;
  const victimUsers = names.filter((n) => workerOf.get(n) === victim);
  const survivors = names.filter((n) => workerOf.get(n) !== victim);
  process.kill(victim, 'SIGKILL');
  for (const n of victimUsers) {
    const c = sessions.get(n)!;
    await new Promise<void>((resolve) => (c.sock.destroyed || c.sock.readableEnded ? resolve() : c.sock.once('close', () => resolve())));
  }
  for (const n of survivors) {
    const c = sessions.get(n)!;
    c.send('n NOOP\r\n');
    assert.match((await c.until('n ')).at(-1)!, /^n OK NOOP completed/);
  }
  // Delivery to u1 goes on while u1 has no worker.
  await deliverTo(d.lmtpSocket, 'u1', 'after the crash');
  const back = await LineClient.open(imap);
  await back.line();
  back.send('a LOGIN u1 pw-u1\r\nb SELECT INBOX\r\n');
  await back.until('a ');
  assert.ok((await back.until('b ')).includes('* 2 EXISTS'), 'both acknowledged messages are there');
  const fresh = (await loggedMpids('u1', 'imap', 3)).at(-1)!;
  assert.ok(fresh !== victim && !pids.has(fresh), 'a new worker serves u1');
  back.close();
  for (const c of sessions.values()) c.close();
  assert.doesNotThrow(() => process.kill(d.pid, 0), 'the master lives on');
  assert.equal(childrenOf(d.pid).includes(victim), false);
});

test('session shards are kept when idle: past postern_mail_worker_idle_timeout the same two workers serve, and no spare is started', { timeout: 120_000 }, async (t) => {
  const names = ['u1', 'u2', 'u3', 'u4'];
  assert.deepEqual(new Set(names.map((n) => shardOf(n, 2))), new Set([0, 1]), 'the chosen names cover both shards');
  let imap = 0;
  const d = await retryOnAddrInUse(async () => {
    imap = await freePort();
    return startMdaDaemon(t, {
      protocols: 'lmtp imap',
      users: names.map((name) => ({ name, password: `pw-${name}` })),
      extraConf: `disable_plaintext_auth = no
service imap-login {
  inet_listener imap {
    port = ${imap}
  }
}
plugin {
  postern_mail_processes = 2
  postern_mail_worker_idle_timeout = 1 sec
}
`,
    });
  });
  const mpids = (): number[] => [...d.log().matchAll(/imap-login: Info: Login: user=<[^>]+>,[^\n]*mpid=(\d+)/g)].map((m) => Number(m[1]));
  const loginAll = async (): Promise<void> => {
    for (const n of names) {
      const c = await LineClient.open(imap);
      await c.line();
      c.send(`a LOGIN ${n} pw-${n}\r\nb SELECT INBOX\r\nz LOGOUT\r\n`);
      assert.match((await c.until('a ')).at(-1)!, /^a OK \[CAPABILITY .*\] Logged in$/);
      await c.until('z ');
      c.close();
    }
  };
  // Forked as the daemon started, before any login (pool.ts startShards).
  const started = new Set(childrenOf(d.pid));
  assert.equal(started.size, 2, 'both shards start with the daemon');
  await loginAll();
  const first = new Set(mpids());
  assert.equal(first.size, 2, 'two workers');
  assert.deepEqual(first, started, 'the logins are served by the shards started with the daemon');
  assert.deepEqual(new Set(childrenOf(d.pid)), first, 'the workers and nothing else: shards need no spare');
  // Four times the idle timeout with no session: a per-uid worker would have been retired by now
  // (system-users.test.ts waits for that with the same setting).
  await new Promise((r) => setTimeout(r, 4000));
  assert.deepEqual(new Set(childrenOf(d.pid)), first, 'both workers are still running');
  await loginAll();
  assert.deepEqual(new Set(mpids()), first, 'and serve the next logins');
  // The shards' IMAP warm-up ran (postern_imap_warmup's default) and, without mail_debug, said nothing.
  assert.doesNotMatch(d.log(), /Debug:|warm-up/);
});

test('session shards warm up as they start: with mail_debug each logs its result; the warm-up session is never logged as a login', { timeout: 120_000 }, async (t) => {
  let imap = 0;
  const before = new Set(readdirSync(tmpdir()).filter((e) => e.startsWith('postern-warmup-')));
  const d = await retryOnAddrInUse(async () => {
    imap = await freePort();
    return startMdaDaemon(t, {
      protocols: 'lmtp imap',
      users: [{ name: 'u1', password: 'pw-u1' }],
      extraConf: `disable_plaintext_auth = no
mail_debug = yes
service imap-login {
  inet_listener imap {
    port = ${imap}
  }
}
plugin {
  postern_mail_processes = 2
  postern_imap_warmup = 1 sec
}
`,
    });
  });
  const warmed = (): RegExpMatchArray[] => [...d.log().matchAll(/mail-worker: Debug: IMAP warm-up: (\d+) commands \((\d+) failed\) in \d+ ms/g)];
  for (let i = 0; i < 300 && warmed().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  const lines = warmed();
  assert.equal(lines.length, 2, d.log());
  for (const m of lines) {
    assert.ok(Number(m[1]) > 0, m[0]);
    assert.equal(m[2], '0', m[0]);
  }
  // One session of u1: LOGIN, `between`, LOGOUT.
  const session = async (between: string): Promise<void> => {
    const c = await LineClient.open(imap);
    await c.line();
    c.send(`a LOGIN u1 pw-u1\r\n${between}z LOGOUT\r\n`);
    assert.match((await c.until('a ')).at(-1)!, /^a OK /);
    await c.until('z ');
    c.close();
  };
  await session('b SELECT INBOX\r\n');
  // Only u1's session is a login; the warm-up sessions left no line and no directory.
  assert.deepEqual([...d.log().matchAll(/Login: user=<([^>]*)>/g)].map((m) => m[1]), ['u1']);
  assert.doesNotMatch(d.log(), /imap\(warm-up\)/);
  assert.deepEqual(readdirSync(tmpdir()).filter((e) => e.startsWith('postern-warmup-') && !before.has(e)), []);

  // A shard that dies is replaced at the next login, and its successor warms up too.
  const victim = Number(/Login: user=<u1>.*mpid=(\d+)/.exec(d.log())?.[1]);
  assert.ok(victim > 0, d.log());
  process.kill(victim, 'SIGKILL');
  for (let i = 0; i < 100 && pidAlive(victim); i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // the master's exit handler
  await session('');
  for (let i = 0; i < 300 && warmed().length < 3; i++) await new Promise((r) => setTimeout(r, 100));
  const after = warmed();
  assert.equal(after.length, 3, d.log());
  assert.equal(after[2]![2], '0', after[2]![0]);
  assert.deepEqual([...d.log().matchAll(/Login: user=<([^>]*)>/g)].map((m) => m[1]), ['u1', 'u1'], 'the warm-up is still no login');
});

test('session shards with no IMAP or POP3 to serve: no worker is started (the master saves LMTP deliveries)', { timeout: 60_000 }, async (t) => {
  const d = await startMdaDaemon(t, {
    protocols: 'lmtp',
    users: [{ name: 'u1', password: 'pw-u1' }],
    extraConf: `plugin {
  postern_mail_processes = 2
}
`,
  });
  assert.deepEqual(childrenOf(d.pid), []);
});
