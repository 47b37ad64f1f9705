/*
 * Interop with real Dovecot 2.3's pop3 (run pre-authenticated through `doveadm exec pop3`, POP3 on
 * stdin/stdout, no daemon, private config): the same maildir served by Dovecot and by Postern gives the same
 * STAT, LIST, UIDL, RETR and TOP bytes for every corpus message, and UIDLs Dovecot saved in dovecot-uidlist
 * (`P` fields, as after a Courier migration or pop3_save_uidl) come out unchanged through Postern, so a
 * "leave on server" client that switches servers downloads nothing again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDovecotInstance, type DovecotInstance } from '../../helpers/dovecot-instance.js';
import { oracleSkip } from '../../helpers/oracle.js';
import { openMailStore } from '../../../mda/storage/api.js';
import { corpus, CORPUS, loggedInAuth, logCollector, memIo } from './helpers.js';
import { Pop3Session } from '../../../mda/pop3/session.js';
import { inProcessSessionLocks } from '../../../mda/pop3/session-lock.js';
import { pop3SettingsFromText } from '../../../mda/pop3/settings.js';

const skip = oracleSkip('doveadm');

function chownTree(p: string, uid: number, gid: number): void {
  chownSync(p, uid, gid);
  if (lstatSync(p).isDirectory()) for (const e of readdirSync(p)) chownTree(join(p, e), uid, gid);
}

/** Dovecot's pop3, logged in as the instance's user; returns stdout. */
function dovecotPop3(inst: DovecotInstance, script: string[]): Buffer {
  if (process.getuid?.() === 0) chownTree(inst.home, inst.uid, inst.gid);
  // stdout must be a real pipe: Dovecot adds it to epoll once its output buffer fills (a file cannot be), and a
  // socketpair (Node's 'pipe') would look like an inetd socket to a root-started mail process.
  const out = join(inst.dir, 'pop3.out');
  const r = spawnSync('/bin/sh', ['-c', `/usr/bin/doveadm -c "$CONF" exec pop3 | cat > "$OUT"`], {
    input: script.map((l) => `${l}\r\n`).join(''),
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', USER: inst.user, HOME: inst.home, MAIL: `maildir:${inst.maildir}`, CONF: inst.conf, OUT: out },
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr?.toString());
  return readFileSync(out);
}

/** Postern's POP3 state machine on the same maildir, already logged in; returns what it wrote after login. */
async function posternPop3(inst: DovecotInstance, script: string[], settings: Record<string, string> = {}): Promise<Buffer> {
  const never = loggedInAuth(inst.user);
  const io = memIo();
  const s = new Pop3Session({
    settings: pop3SettingsFromText(settings),
    auth: never,
    openStore: (user) => openMailStore({ mailLocation: `maildir:${inst.maildir}`, user, home: inst.home }),
    locks: inProcessSessionLocks(),
    log: logCollector().factory,
    tlsAvailable: false,
    hostname: 'test',
    pid: 1,
  }, { rip: '127.0.0.1', lip: '127.0.0.1', rport: 1, lport: 110, tls: false }, io);
  await s.handleLine(Buffer.from('AUTH PLAIN AHUxAHNlY3JldA=='));
  assert.equal(io.take(), '+OK Logged in.\r\n');
  const mark = Buffer.concat(io.out).length;
  for (const l of script) await s.handleLine(Buffer.from(l));
  if (!s.closed) await s.onEof();
  return Buffer.concat(io.out).subarray(mark);
}

function firstDiff(a: Buffer, b: Buffer): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `at ${i}: dovecot ${JSON.stringify(a.subarray(Math.max(0, i - 60), i + 60).toString('latin1'))}\n postern ${JSON.stringify(b.subarray(Math.max(0, i - 60), i + 60).toString('latin1'))}`;
}

test('same maildir: Dovecot pop3 and Postern give identical STAT, LIST, UIDL, RETR and TOP for the whole corpus', { skip }, async (t) => {
  const inst = createDovecotInstance(t);
  const entries = corpus();
  inst.addMessages(entries.map((e, i) => ({ base: `${1700000000 + i}.M${i}P1.test`, bytes: readFileSync(join(CORPUS, e.file)) })));
  const n = entries.length;
  const script = ['STAT', 'LIST', 'UIDL'];
  for (let i = 1; i <= n; i++) script.push(`LIST ${i}`, `UIDL ${i}`, `RETR ${i}`, `TOP ${i} 0`, `TOP ${i} 3`);
  script.push('RETR 0', `RETR ${n + 1}`, 'TOP 1', 'QUIT');
  const dovecot = dovecotPop3(inst, script);
  const ours = await posternPop3(inst, script);
  assert.ok(dovecot.length > 1000, 'Dovecot answered');
  if (!dovecot.equals(ours)) {
    // Narrow the failure down to one message for a readable report.
    for (let i = 1; i <= n; i++) {
      const one = [`LIST ${i}`, `UIDL ${i}`, `RETR ${i}`, `TOP ${i} 0`, `TOP ${i} 3`];
      const d = dovecotPop3(inst, one);
      const o = await posternPop3(inst, one);
      assert.ok(d.equals(o), `${entries[i - 1]!.file}: ${firstDiff(d, o)}`);
    }
    assert.fail(firstDiff(dovecot, ours));
  }
});

test('leave on server: UIDLs Dovecot showed (and migrated uidlist P fields) are what Postern shows', { skip }, async (t) => {
  const inst = createDovecotInstance(t);
  const files = corpus().slice(0, 12);
  inst.addMessages(files.map((e, i) => ({ base: `${1700000100 + i}.M${i}P2.test`, bytes: readFileSync(join(CORPUS, e.file)) })));
  // A client downloads with "leave on server" through Dovecot: UIDL + RETR, no DELE.
  const first = dovecotPop3(inst, ['UIDL', 'RETR 1', 'RETR 2', 'QUIT']);
  const uidlOf = (b: Buffer) => b.toString('latin1').split('.\r\n')[0]!;
  const ours = await posternPop3(inst, ['UIDL', 'QUIT']);
  assert.equal(uidlOf(ours), uidlOf(first));
  // UIDLs migrated from Courier (courier-dovecot-migrate.pl) are P fields in dovecot-uidlist; both servers show them.
  const path = join(inst.maildir, 'dovecot-uidlist');
  const uidlist = readFileSync(path, 'utf8').replace(/^(\d+) (.*?):/gm, (_m, uid: string, rest: string) => `${uid} ${rest}PUID${uid}-courier.legacy :`);
  writeFileSync(path, uidlist);
  const saved = uidlOf(dovecotPop3(inst, ['UIDL', 'QUIT']));
  assert.match(saved, /^\+OK\r\n1 UID1-courier\.legacy\r\n2 UID2-courier\.legacy\r\n/);
  assert.equal(uidlOf(await posternPop3(inst, ['UIDL', 'QUIT'])), saved);
});

test('deletions and \\Seen made through Postern are what Dovecot then sees', { skip }, async (t) => {
  const inst = createDovecotInstance(t);
  const files = corpus().slice(0, 4);
  inst.addMessages(files.map((e, i) => ({ base: `${1700000200 + i}.M${i}P3.test`, bytes: readFileSync(join(CORPUS, e.file)) })));
  const before = dovecotPop3(inst, ['UIDL', 'QUIT']).toString('latin1').split('\r\n');
  const out = (await posternPop3(inst, ['RETR 2', 'DELE 1', 'QUIT'])).toString('latin1');
  assert.match(out, /\+OK Logging out, messages deleted\.\r\n$/);
  const after = dovecotPop3(inst, ['UIDL', 'QUIT']).toString('latin1').split('\r\n');
  assert.deepEqual(after.slice(1, 4).map((l) => l.split(' ')[1]), before.slice(2, 5).map((l) => l.split(' ')[1]));
  if (process.getuid?.() === 0) chownTree(inst.home, inst.uid, inst.gid);
  const flags = inst.doveadm(['fetch', 'flags', 'mailbox', 'INBOX']).stdout.toString();
  assert.match(flags, /^flags: \\Seen$/m);
});
