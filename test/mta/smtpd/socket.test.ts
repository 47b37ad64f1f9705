/*
 * Postern's smtpd over real sockets with a stub Cleanup and policy: content handed to cleanup,
 * oversize messages (nothing partial reaches cleanup), error limits with the injected sleep, the
 * idle timeout, too many recipients, log lines, STARTTLS with a self-signed certificate, AUTH with a
 * fake SASL backend, implicit TLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { converse, startOurs, RawClient } from './harness.js';
import { makeSelfSigned } from '../../../shared/tls/selfsigned.js';
import type { SaslBackend } from '../../../mta/smtpd/session.js';
import type { SaslStep } from '../../../mta/smtpd/sasl/dovecot-client.js';

test('DATA content reaches cleanup unstuffed with CRLF lines, envelope and client info', async (t) => {
  const o = await startOurs(t);
  const r = await converse(o.port, [
    'EHLO client.example\r\n', 'MAIL FROM:<a@remote.example> BODY=8BITMIME RET=HDRS ENVID=e1\r\n',
    'RCPT TO:<u@test.example> NOTIFY=SUCCESS ORCPT=rfc822;u@test.example\r\n', 'RCPT TO:<postmaster@test.example>\r\n',
    'DATA\r\n', 'Subject: t\r\n\r\n..dot\nbare\r\n.\r\n', 'QUIT\r\n',
  ]);
  assert.match(r[6]!, /^250 2\.0\.0 Ok: queued as [0-9A-F]+$/);
  assert.equal(o.cleanup.submitted.length, 1);
  const m = o.cleanup.submitted[0]!;
  assert.equal(m.content.toString(), 'Subject: t\r\n\r\n.dot\r\nbare\r\n');
  assert.equal(m.message.sender, 'a@remote.example');
  assert.deepEqual(m.message.recipients.map((x) => x.address), ['u@test.example', 'postmaster@test.example']);
  assert.deepEqual(m.message.recipients[0]!.notify, ['SUCCESS']);
  assert.equal(m.message.ret, 'HDRS');
  assert.equal(m.message.envid, 'e1');
  assert.equal(m.message.bodyType, '8BITMIME');
  assert.deepEqual(m.message.client, { name: 'localhost', addr: '127.0.0.1', port: m.message.client!.port, protocol: 'ESMTP', helo: 'client.example' });
  const qid = r[6]!.split(' ').pop()!;
  assert.equal(m.message.queueId, qid);
  assert.ok(o.logs.includes('connect from localhost[127.0.0.1]'));
  assert.ok(o.logs.includes(`${qid}: client=localhost[127.0.0.1]`));
  await new Promise((res) => setTimeout(res, 50));
  assert.ok(o.logs.includes('disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6'), o.logs.join('\n'));
});

test('unqualified recipients are qualified with $myorigin for cleanup; HELO gives protocol SMTP', async (t) => {
  const o = await startOurs(t);
  o.handle.settings; // started
  await converse(o.port, ['HELO c\r\n', 'MAIL FROM:<>\r\n', 'RCPT TO:<u@test.example>\r\n', 'DATA\r\n', 'x\r\n.\r\n', 'QUIT\r\n']);
  const m = o.cleanup.submitted[0]!;
  assert.equal(m.message.sender, '');
  assert.equal(m.message.client!.protocol, 'SMTP');
});

test('oversize DATA: 552 5.3.4 Error: message file too big, cleanup commits nothing, the session goes on', async (t) => {
  const o = await startOurs(t, { message_size_limit: '1000' });
  const r = await converse(o.port, [
    'EHLO c\r\n', 'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<u@test.example>\r\n', 'DATA\r\n', `${'x'.repeat(100)}\r\n`.repeat(50) + '.\r\n', 'NOOP\r\n',
  ]);
  assert.equal(r[5], '552 5.3.4 Error: message file too big');
  assert.equal(r[6], '250 2.0.0 Ok');
  assert.equal(o.cleanup.submitted.length, 0);
  assert.equal(o.cleanup.aborted, 1);
  assert.ok(o.logs.some((l) => /^warning: [0-9A-F]+: queue file size limit exceeded$/.test(l)));
});

test('too many recipients: 452 4.5.3 Error: too many recipients', async (t) => {
  const o = await startOurs(t, { smtpd_recipient_limit: '2' });
  const r = await converse(o.port, ['EHLO c\r\n', 'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<a@test.example>\r\n', 'RCPT TO:<b@test.example>\r\n', 'RCPT TO:<c@test.example>\r\n']);
  assert.equal(r[5], '452 4.5.3 Error: too many recipients');
});

test('error limits: sleeps from the soft limit on, 421 4.7.0 at the hard limit', async (t) => {
  const sleeps: number[] = [];
  const o = await startOurs(t, { smtpd_soft_error_limit: '2', smtpd_hard_error_limit: '4', smtpd_error_sleep_time: '3s' }, {
    sleep: async (ms) => { sleeps.push(ms); },
  });
  const c = await RawClient.open(o.port);
  await c.reply();
  const got: string[] = [];
  for (let i = 0; i < 4; i++) {
    c.send('FOO\r\n');
    got.push(await c.reply());
  }
  got.push(await c.reply());
  assert.deepEqual(got, [
    '500 5.5.2 Error: command not recognized', '500 5.5.2 Error: command not recognized',
    '500 5.5.2 Error: command not recognized', '500 5.5.2 Error: command not recognized',
    '421 4.7.0 mx.test.example Error: too many errors',
  ]);
  assert.deepEqual(sleeps, [3000, 3000, 3000]);
  assert.ok(await c.waitClosed());
  await new Promise((res) => setTimeout(res, 50));
  assert.ok(o.logs.includes('too many errors after UNKNOWN from localhost[127.0.0.1]'), o.logs.join('\n'));
  assert.ok(o.logs.includes('disconnect from localhost[127.0.0.1] unknown=0/4 commands=0/4'));
});

test('idle timeout: 421 4.4.2 host Error: timeout exceeded, logged as timeout after X', async (t) => {
  const o = await startOurs(t, {}, { settings: { timeout: 0.3 } });
  const c = await RawClient.open(o.port);
  await c.reply();
  c.send('EHLO c\r\n');
  await c.reply();
  assert.equal(await c.reply(), '421 4.4.2 mx.test.example Error: timeout exceeded');
  await new Promise((res) => setTimeout(res, 50));
  assert.ok(o.logs.includes('timeout after EHLO from localhost[127.0.0.1]'));
});

test('lost connection during DATA is logged with the byte count; nothing is queued', async (t) => {
  const o = await startOurs(t);
  const c = await RawClient.open(o.port);
  await c.reply();
  for (const l of ['EHLO c\r\n', 'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<u@test.example>\r\n', 'DATA\r\n']) {
    c.send(l);
    await c.reply();
  }
  c.send('abc\r\n');
  await new Promise((res) => setTimeout(res, 100));
  c.close();
  await new Promise((res) => setTimeout(res, 100));
  assert.ok(o.logs.includes('lost connection after DATA (5 bytes) from localhost[127.0.0.1]'), o.logs.join('\n'));
  assert.equal(o.cleanup.submitted.length, 0);
});

test('smtpd_helo_required and disable_vrfy_command, smtpd_discard_ehlo_keywords', async (t) => {
  const o = await startOurs(t, { smtpd_helo_required: 'yes', disable_vrfy_command: 'yes', smtpd_discard_ehlo_keywords: 'chunking, dsn' });
  const r = await converse(o.port, ['MAIL FROM:<a@b.example>\r\n', 'VRFY u@test.example\r\n', 'EHLO c\r\n']);
  assert.equal(r[1], '503 5.5.1 Error: send HELO/EHLO first');
  assert.equal(r[2], '502 5.5.1 VRFY command is disabled');
  assert.equal(r[3], '250-mx.test.example\n250-PIPELINING\n250-SIZE 10240000\n250-ETRN\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250 SMTPUTF8');
});

const cert = makeSelfSigned({ commonName: 'mx.test.example', bits: 1024 });
const credentials = { key: [cert.keyPem], cert: [cert.certPem] };

class FakeSasl implements SaslBackend {
  async mechanisms() {
    return [{ name: 'PLAIN', flags: ['plaintext' as const] }, { name: 'LOGIN', flags: ['plaintext' as const] }];
  }
  async start(mech: string, initial: string | undefined): Promise<SaslStep> {
    if (initial === undefined) return { kind: 'continue', challenge: '', id: 1 };
    return this.check(initial);
  }
  async continue(_id: number, response: string): Promise<SaslStep> {
    return this.check(response);
  }
  private check(b64: string): SaslStep {
    const [, user, pass] = Buffer.from(b64, 'base64').toString().split('\0');
    return user === 'u1' && pass === 'pw' ? { kind: 'ok', user: 'u1' } : { kind: 'fail', reason: undefined, temporary: false };
  }
}

test('AUTH: EHLO lists AUTH (and AUTH= with broken_sasl_auth_clients), 235 / 535 / 503 already authenticated; ESMTPA', async (t) => {
  const o = await startOurs(t, { smtpd_sasl_auth_enable: 'yes', broken_sasl_auth_clients: 'yes' }, { sasl: new FakeSasl() });
  const good = Buffer.from('\0u1\0pw').toString('base64');
  const bad = Buffer.from('\0u1\0nope').toString('base64');
  const r = await converse(o.port, [
    'EHLO c\r\n', `AUTH PLAIN ${bad}\r\n`, 'AUTH PLAIN\r\n', `${good}\r\n`, `AUTH PLAIN ${good}\r\n`,
    'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<x@elsewhere.example>\r\n', 'DATA\r\n', 'x\r\n.\r\n',
  ]);
  assert.match(r[1]!, /\n250-AUTH PLAIN LOGIN\n250-AUTH=PLAIN LOGIN\n250-ENHANCEDSTATUSCODES/);
  assert.equal(r[2], '535 5.7.8 Error: authentication failed: (reason unavailable)');
  assert.equal(r[3], '334 ');
  assert.equal(r[4], '235 2.7.0 Authentication successful');
  assert.equal(r[5], '503 5.5.1 Error: already authenticated');
  assert.equal(r[7], '250 2.1.5 Ok');
  assert.equal(o.cleanup.submitted[0]!.message.client!.protocol, 'ESMTPA');
  assert.ok(o.logs.includes('warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: (reason unavailable)'));
  assert.ok(!o.logs.some((l) => l.includes(good) || l.includes(bad)));
});

test('AUTH with smtpd_tls_auth_only: not offered before TLS', async (t) => {
  const o = await startOurs(t, { smtpd_sasl_auth_enable: 'yes', smtpd_tls_auth_only: 'yes' }, { sasl: new FakeSasl() });
  const r = await converse(o.port, ['EHLO c\r\n', 'AUTH PLAIN\r\n']);
  assert.doesNotMatch(r[1]!, /AUTH/);
  assert.equal(r[2], '503 5.5.1 Error: authentication not enabled');
});

function starttls(port: number, script: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    void (async () => {
      const c = await RawClient.open(port);
      const out = [await c.reply()];
      c.send('EHLO c\r\n');
      out.push(await c.reply());
      c.send('STARTTLS\r\nNOOP\r\n'); // the pipelined NOOP must be dropped
      out.push(await c.reply());
      c.socket.removeAllListeners('data');
      const s = tlsConnect({ socket: c.socket, rejectUnauthorized: false });
      let buf = '';
      s.on('data', (d) => { buf += d.toString(); });
      s.once('error', reject);
      s.once('secureConnect', async () => {
        for (const l of script) {
          const before = buf.length;
          s.write(l);
          const end = Date.now() + 3000;
          while (Date.now() < end && !/(^|\n)\d{3} [^\n]*\r\n$/.test(buf.slice(before))) await new Promise((r) => setTimeout(r, 20));
        }
        s.destroy();
        resolve([...out, ...buf.trimEnd().split('\r\n')]);
      });
    })().catch(reject);
  });
}

test('STARTTLS with a self-signed certificate; plaintext pipelined after STARTTLS is dropped; ESMTPS', async (t) => {
  const o = await startOurs(t, { smtpd_tls_security_level: 'may' }, { credentials });
  const r = await starttls(o.port, ['EHLO c\r\n', 'STARTTLS\r\n', 'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<u@test.example>\r\n', 'DATA\r\n', 'x\r\n.\r\n', 'QUIT\r\n']);
  assert.match(r[1]!, /250-STARTTLS/);
  assert.equal(r[2], '220 2.0.0 Ready to start TLS');
  assert.equal(r[3], '250-mx.test.example');
  assert.ok(!r.includes('250-STARTTLS', 3));
  assert.ok(r.includes('554 5.5.1 Error: TLS already active'));
  assert.equal(o.cleanup.submitted[0]!.message.client!.protocol, 'ESMTPS');
});

test('smtpd_tls_security_level = encrypt: 530 5.7.0 Must issue a STARTTLS command first', async (t) => {
  const o = await startOurs(t, { smtpd_tls_security_level: 'encrypt' }, { credentials });
  const r = await converse(o.port, ['EHLO c\r\n', 'MAIL FROM:<a@b.example>\r\n', 'NOOP\r\n']);
  assert.equal(r[2], '530 5.7.0 Must issue a STARTTLS command first');
  assert.equal(r[3], '250 2.0.0 Ok');
});

test('smtpd_tls_wrappermode: TLS from the first byte, no STARTTLS offered', async (t) => {
  const o = await startOurs(t, { smtpd_tls_wrappermode: 'yes', smtpd_tls_security_level: 'encrypt' }, { credentials });
  const lines = await new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ port: o.port, host: '127.0.0.1', rejectUnauthorized: false });
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('220 mx') && !buf.includes('EHLO-SENT')) {
        buf += 'EHLO-SENT';
        s.write('EHLO c\r\n');
      }
      if (/250 CHUNKING\r\n$/.test(buf)) {
        s.destroy();
        resolve(buf);
      }
    });
    s.once('error', reject);
  });
  assert.match(lines, /^220 mx\.test\.example ESMTP Postfix/);
  assert.doesNotMatch(lines, /STARTTLS/);
});
