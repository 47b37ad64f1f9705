/*
 * LMTP protocol tests over a real Unix socket and TCP, against the in-process LmtpServer with
 * the real LdaAgent writing temp maildirs: Dovecot's replies for a pipelined session, unknown
 * users, malformed commands (the server keeps serving), oversize messages, per-recipient DATA
 * replies and the trace headers over TCP. Expected texts are the ones recorded from Dovecot
 * 2.3.19.1 (reference/transcripts.md §5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { LmtpServer, type LmtpServerOptions } from '../../../mda/lmtp/connection.js';
import { LdaAgent } from '../../../mda/deliver/agent.js';
import type { DeliverySettings } from '../../../mda/deliver/settings.js';
import type { UserdbResult } from '../../../mda/auth/db.js';

function settings(over: Partial<DeliverySettings> = {}): DeliverySettings {
  return {
    hostname: 'mail.test.example', login_greeting: 'Dovecot ready.', mail_location: 'maildir:~/Maildir', mail_home: '',
    recipient_delimiter: '+', lmtp_save_to_detail_mailbox: false, lda_mailbox_autocreate: false,
    lda_mailbox_autosubscribe: false, lmtp_add_received_header: true, lmtp_hdr_delivery_address: 'final',
    quota_full_tempfail: false, first_valid_uid: 500, last_valid_uid: 0, first_valid_gid: 1, last_valid_gid: 0,
    mail_uid: '', mail_gid: '', mail_plugins: [], plugin: new Map(), separator: '',
    postern_lmtp_max_message_size: 4096, postern_lmtp_max_recipients: 3, postern_lmtp_max_line_length: 4096,
    postern_lmtp_hard_max_line_length: 65536, postern_lmtp_max_bad_commands: 10, postern_lmtp_idle_timeout: 30_000,
    ...over,
  };
}

async function startServer(t: import('node:test').TestContext, s: DeliverySettings) {
  const dir = tempDir(t, 'postern-lmtp-');
  const logs: string[] = [];
  const users = new Set(['u1@test.example', 'u2@test.example']);
  const agent = new LdaAgent({
    settings: s,
    userdb: {
      normalize: (u) => ({ ok: true, user: u.toLowerCase() }),
      userLookup: async (u): Promise<UserdbResult> => (users.has(u)
        ? { kind: 'found', user: u, fields: [['uid', '1000'], ['gid', '1000'], ['home', join(dir, u)]] }
        : { kind: 'notfound' }),
    },
    logFor: (prefix) => ({ info: (x) => logs.push(`${prefix}: Info: ${x}`), warn: (x) => logs.push(`${prefix}: Warning: ${x}`), error: (x) => logs.push(`${prefix}: Error: ${x}`) }),
    processUid: 1000,
    processGid: 1000,
  });
  const o: LmtpServerOptions = {
    hostname: s.hostname, greeting: s.login_greeting, agent, quotaFullTempfail: false, lineLimit: 4096,
    hardLineLimit: 65536, maxMessageSize: s.postern_lmtp_max_message_size, maxRecipients: s.postern_lmtp_max_recipients,
    maxBadCommands: 10, idleTimeoutMs: 30_000,
  };
  const lmtp = new LmtpServer(o);
  const sock = join(dir, 'lmtp');
  const unix = createServer((c) => lmtp.accept(c, { transport: 'unix' }));
  const tcp = createServer((c) => lmtp.accept(c, { transport: 'tcp' }));
  await new Promise<void>((r) => unix.listen(sock, r));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  t.after(async () => {
    await lmtp.close(0);
    unix.close();
    tcp.close();
  });
  const port = (tcp.address() as { port: number }).port;
  return { dir, logs, sock, port };
}

/** Sends everything at once (pipelined) and collects replies until `lines` reply lines arrived. */
async function exchange(target: string | number, input: string, lines: number): Promise<string[]> {
  const s: Socket = typeof target === 'string' ? connect(target) : connect(target, '127.0.0.1');
  let buf = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout; got:\n${buf}`)), 15_000);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const got = buf.split('\r\n').filter((l) => l !== '');
      if (got.length >= lines) {
        clearTimeout(timer);
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.write(input);
  });
}

test('pipelined session: Dovecot replies, one DATA reply per accepted recipient', async (t) => {
  const srv = await startServer(t, settings());
  const r = await exchange(srv.sock, [
    'LHLO mta.example.org', 'MAIL FROM:<s@example.net> SIZE=10', 'MAIL FROM:<s@example.net> BODY=8BITMIME',
    'RCPT TO:<u1@test.example>', 'RCPT TO:<U2+folder@test.example>', 'RCPT TO:<nosuch@test.example>',
    'RCPT TO:<bad', 'DATA', 'Subject: x\r\n\r\nhello\r\n..dot\r\n.', 'RSET', 'NOOP', 'VRFY u1', 'HELP', 'QUIT', '',
  ].join('\r\n'), 19);
  assert.deepEqual(r.slice(0, 9), [
    '220 mail.test.example Dovecot ready.', '250-mail.test.example', '250-8BITMIME', '250-ENHANCEDSTATUSCODES', '250 PIPELINING',
    '555 5.5.4 Unsupported parameters', '250 2.1.0 OK', '250 2.1.5 OK', '250 2.1.5 OK',
  ]);
  assert.equal(r[9], "550 5.1.1 <nosuch@test.example> User doesn't exist: nosuch@test.example");
  assert.equal(r[10], "501 5.5.4 Invalid TO: Missing '>' at end of path");
  assert.equal(r[11], '354 OK');
  assert.match(r[12]!, /^250 2\.0\.0 <u1@test\.example> ([A-Za-z0-9+/]{22}) Saved$/);
  const id = /<u1@test\.example> (\S+) Saved/.exec(r[12]!)![1]!;
  assert.equal(r[13], `250 2.0.0 <U2+folder@test.example> ${id}:R2 Saved`);
  assert.deepEqual(r.slice(14), ['250 2.0.0 OK', '250 2.0.0 OK', '252 2.3.3 Try RCPT instead', '500 5.5.1 Unknown command', '221 2.0.0 Bye']);
  const files = readdirSync(join(srv.dir, 'u1@test.example', 'Maildir', 'new'));
  assert.equal(files.length, 1);
  const body = readFileSync(join(srv.dir, 'u1@test.example', 'Maildir', 'new', files[0]!), 'latin1');
  // Two recipients: no Delivered-To, no `for`; Unix socket: no IP.
  assert.match(body, new RegExp(`^Return-Path: <s@example\\.net>\\nReceived: from mta\\.example\\.org\\n\\tby mail\\.test\\.example with LMTP\\n\\tid ${id.replace(/[+/]/g, '\\$&')}\\n\\t\\(envelope-from <s@example\\.net>\\); [A-Z][a-z]{2}, `));
  assert.match(body, /\nhello\n\.dot\n$/);
  assert.ok(srv.logs.some((l) => /^lmtp\(u2@test\.example\)<\d+><[^>]+:R2>: Info: msgid=unspecified: saved mail to INBOX$/.test(l)), srv.logs.join('\n'));
});

test('TCP: single recipient gets Delivered-To, `for` and the client IP; second transaction is :T2', async (t) => {
  const srv = await startServer(t, settings());
  const r = await exchange(srv.port, [
    'LHLO mx', 'MAIL FROM:<>', 'RCPT TO:<u1@test.example>', 'DATA', 'Message-ID: <a@b>\r\n\r\nx\r\n.',
    'MAIL FROM:<s@x>', 'RCPT TO:<u1@test.example>', 'DATA', 'x\r\n.', '',
  ].join('\r\n'), 13);
  assert.match(r[8]!, /^250 2\.0\.0 <u1@test\.example> [A-Za-z0-9+/]{22} Saved$/);
  assert.match(r[12]!, /^250 2\.0\.0 <u1@test\.example> [A-Za-z0-9+/]{22}:T2 Saved$/);
  const dir = join(srv.dir, 'u1@test.example', 'Maildir', 'new');
  // The first transaction's file by its content: maildir names (`M<usec>`, not zero-padded) do not sort by time.
  const files = readdirSync(dir);
  assert.equal(files.length, 2);
  const first = files.find((f) => readFileSync(join(dir, f), 'latin1').includes('Message-ID: <a@b>'))!;
  assert.match(readFileSync(join(dir, first), 'latin1'), /^Return-Path: <>\nDelivered-To: u1@test\.example\nReceived: from mx \(\[127\.0\.0\.1\]\)\n\tby mail\.test\.example with LMTP\n\tid \S+\n\t\(envelope-from <>\)\n\tfor <u1@test\.example>; /);
  assert.ok(srv.logs.some((l) => l.endsWith('Info: msgid=<a@b>: saved mail to INBOX')));
});

test('malformed input: order errors, bad syntax, 421 after ten bad commands; other clients unaffected', async (t) => {
  const srv = await startServer(t, settings());
  const r = await exchange(srv.sock, ['RCPT TO:<u1@test.example>', 'DATA', 'LHLO', 'MAIL FROM:<a b@c>', 'MAIL FROM:<a@b>', 'MAIL FROM:<a@b>', 'DATA', 'RCPT TO:<>', 'RCPT TO: <u1@test.example>', ''].join('\r\n'), 10);
  assert.deepEqual(r.slice(1), [
    '503 5.5.0 MAIL needed first', '503 5.5.0 MAIL needed first', '501 Missing hostname',
    '501 5.5.4 Invalid FROM: Invalid character in localpart', '250 2.1.0 OK', '503 5.5.0 MAIL already given',
    '503 5.5.0 No valid recipients', '501 5.5.4 Invalid TO: Null path not allowed', '501 5.5.4 Invalid TO: Unexpected whitespace before path',
  ]);
  const junk = await exchange(srv.sock, `${Array(11).fill('x').join('\r\n')}\r\n!!!\r\n`, 12);
  assert.deepEqual(junk.slice(1, 11), Array(10).fill('500 5.5.1 Unknown command'));
  assert.equal(junk[11], '421 4.7.0 mail.test.example Too many invalid commands.');
  const long = await exchange(srv.sock, `NOOP ${'y'.repeat(5000)}\r\nNOOP\r\n`, 3);
  assert.deepEqual(long.slice(1), ['500 5.5.2 Line too long', '250 2.0.0 OK']);
  const ok = await exchange(srv.sock, 'NOOP\r\n', 2);
  assert.equal(ok[1], '250 2.0.0 OK');
});

test('limits: oversize message gets 552 per recipient, too many recipients 452', async (t) => {
  const srv = await startServer(t, settings());
  const big = `Subject: big\r\n\r\n${'z'.repeat(70)}\r\n`.repeat(100);
  const r = await exchange(srv.sock, ['LHLO x', 'MAIL FROM:<a@b>', 'RCPT TO:<u1@test.example>', 'RCPT TO:<u2@test.example>', 'DATA', `${big}.`, 'MAIL FROM:<a@b>',
    'RCPT TO:<u1@test.example>', 'RCPT TO:<u1+a@test.example>', 'RCPT TO:<u1+b@test.example>', 'RCPT TO:<u2@test.example>', ''].join('\r\n'), 16);
  assert.deepEqual(r.slice(9, 11), ['552 5.2.3 Message size exceeds administrative limit', '552 5.2.3 Message size exceeds administrative limit']);
  assert.equal(r[15], '452 4.5.3 Too many recipients');
});
