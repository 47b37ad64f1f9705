/*
 * The smtp(8) agent's 8-bit → 7-bit downgrade end to end:
 *  - scripted servers (test/helpers/smtp-sink.ts) with and without 8BITMIME: what arrives, the MAIL
 *    FROM parameters (no SIZE while downgrading, BODY= only to an 8BITMIME server),
 *    disable_mime_output_conversion = yes, BODY=7BIT content, the nesting error (bounce, no message);
 *  - INTEROP: real Postfix 3.7 relaying to the real smtp-sink started with -8 (no 8BITMIME) and
 *    ours delivering the same messages to the same sink: the bytes that arrive must be equal (after
 *    Postfix's own Received: header).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeSmtp, startRealSmtpSink } from '../../../helpers/smtp-sink.js';
import { oracleSkip } from '../../../helpers/oracle.js';
import { makeTraversable, startPostfix } from '../../../helpers/postfix-instance.js';
import { freePort } from '../../../helpers/free-port.js';
import { tempDir } from '../../../helpers/tmp.js';
import { SmtpClient } from '../../../helpers/smtp-client.js';
import { harness, request } from './harness.js';

const isRoot = process.getuid?.() === 0;
const crlf = (lines: string[]): string => lines.map((l) => `${l}\r\n`).join('');
const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

const EIGHT_BIT = crlf([
  'From: <alice@origin.test>',
  'To: <bob@example.test>',
  'Subject: caf\u00e9',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  'Gr\u00fc\u00dfe = 1 ',
  '.dot line \u00e9',
]);

test('no 8BITMIME at the server: 8bit parts arrive quoted-printable, MAIL FROM without SIZE and BODY', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.60'] } });
  const srv = await startFakeSmtp(t, { host: '127.0.0.60', port: h.port, keywords: ['PIPELINING', 'SIZE 10240000', 'DSN'] });
  const agent = h.agent();
  const out = await agent.deliver(request({ nexthop: `ex.test:${h.port}`, to: ['bob@ex.test'], body: EIGHT_BIT, bodyType: '8BITMIME', envid: 'e1' }));
  assert.equal(out[0]!.kind, 'delivered');
  const m = srv.messages[0]!;
  assert.equal(m.mailArgs, 'ENVID=e1');
  assert.equal(m.data, latin1(crlf([
    'From: <alice@origin.test>', 'To: <bob@example.test>', 'Subject: caf\u00e9', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable', '', 'Gr=C3=BC=C3=9Fe =3D 1=20', '.dot line =C3=A9',
  ])));

  // Content without BODY= (bodyType unknown) is downgraded as well, as Postfix does for encoding "".
  await agent.deliver(request({ nexthop: `ex.test:${h.port}`, to: ['bob@ex.test'], body: EIGHT_BIT }));
  assert.match(srv.messages[1]!.data, /^Content-Transfer-Encoding: quoted-printable\r$/m);
  assert.equal(srv.messages[1]!.mailArgs, '');

  // Declared 7BIT: no conversion, SIZE kept, no BODY= (the server lacks 8BITMIME).
  const seven = crlf(['Subject: x', 'Content-Transfer-Encoding: 8bit', '', 'a = b']);
  await agent.deliver(request({ nexthop: `ex.test:${h.port}`, to: ['bob@ex.test'], body: seven, bodyType: '7BIT' }));
  assert.equal(srv.messages[2]!.data, seven);
  assert.equal(srv.messages[2]!.mailArgs, `SIZE=${Buffer.byteLength(seven)}`);
});

test('disable_mime_output_conversion = yes sends 8-bit content as is; an 8BITMIME server gets BODY=', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.61'] }, 'ok.test': { A: ['127.0.0.62'] } });
  const plain = await startFakeSmtp(t, { host: '127.0.0.61', port: h.port, keywords: ['PIPELINING', 'SIZE 10240000'] });
  const eight = await startFakeSmtp(t, { host: '127.0.0.62', port: h.port });
  const size = Buffer.byteLength(EIGHT_BIT);
  await h.agent({ disable_mime_output_conversion: 'yes' }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['b@ex.test'], body: EIGHT_BIT, bodyType: '8BITMIME' }));
  assert.equal(plain.messages[0]!.data, latin1(EIGHT_BIT));
  assert.equal(plain.messages[0]!.mailArgs, `SIZE=${size}`);
  const agent = h.agent();
  await agent.deliver(request({ nexthop: `ok.test:${h.port}`, to: ['b@ok.test'], body: EIGHT_BIT, bodyType: '8BITMIME' }));
  assert.equal(eight.messages[0]!.data, latin1(EIGHT_BIT));
  assert.equal(eight.messages[0]!.mailArgs, `SIZE=${size} BODY=8BITMIME`);
  await agent.deliver(request({ nexthop: `ok.test:${h.port}`, to: ['b@ok.test'], body: 'Subject: s\r\n\r\nx\r\n', bodyType: '7BIT' }));
  assert.equal(eight.messages[1]!.mailArgs, `SIZE=${Buffer.byteLength('Subject: s\r\n\r\nx\r\n')} BODY=7BIT`);
});

test('MIME nesting beyond mime_nesting_limit while downgrading: bounced 5.6.0, the server gets no message', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.63'] } });
  const srv = await startFakeSmtp(t, { host: '127.0.0.63', port: h.port, keywords: ['PIPELINING'] });
  const lines = ['Content-Type: multipart/mixed; boundary=b0', ''];
  for (let i = 1; i <= 5; i++) lines.push(`--b${i - 1}`, `Content-Type: multipart/mixed; boundary=b${i}`, '');
  const out = await h.agent({ mime_nesting_limit: '3' }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['b@ex.test'], body: crlf(lines), bodyType: '8BITMIME' }));
  assert.deepEqual([out[0]!.kind, out[0]!.dsnStatus, out[0]!.kind !== 'delivered' && out[0]!.reason], ['bounced', '5.6.0', 'MIME nesting exceeds safety limit']);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(srv.messages.length, 0);
});

/** Messages for the comparison with real Postfix (complete headers, so its cleanup adds only Received:). */
const COMPARE: string[] = [
  EIGHT_BIT,
  crlf([
    'From: <alice@origin.test>', 'To: <bob@example.test>', 'Subject: mixed', 'Date: Thu, 01 Jan 2026 00:00:00 +0000', 'Message-ID: <m2@origin.test>',
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="outer"', 'Content-Transfer-Encoding: 8bit', '', 'Prolog \u00e9',
    '--outer', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '',
    `${'x'.repeat(70)}\u00e9\u00e9${'y'.repeat(90)}`, 'trailing tab\t', 'trailing space ', 'equals=sign', '',
    '--outer', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', 'AAECAwQF',
    '--outer', 'Content-Type: message/rfc822', 'Content-Transfer-Encoding: 8bit', '',
    'Subject : inner', 'Content-Type: text/html;', '\tcharset=utf-8', 'Content-Transfer-Encoding: 8bit', '', '<p>\u00e0 bient\u00f4t</p>',
    '--outer', 'Content-Type: text/plain', 'Content-Transfer-Encoding: quoted-printable', '', 'already =C3=A9 qp',
    '--outer--', 'Epilog \u00e9',
  ]),
  crlf(['From: <alice@origin.test>', 'To: <bob@example.test>', 'Subject: non-MIME \u00fcber', 'Date: Thu, 01 Jan 2026 00:00:00 +0000', 'Message-ID: <m3@origin.test>', '', 'plain 8-bit \u00fc = as is', '']),
];
COMPARE[0] = crlf(['Date: Thu, 01 Jan 2026 00:00:00 +0000', 'Message-ID: <m1@origin.test>']) + COMPARE[0]!;

/** The dump's transactions: smtp-sink's X- headers and Received: line removed, LF line ends. */
function dumped(path: string): { mailArgs: string; message: string }[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'latin1');
  return text.split(/^(?=X-Client-Addr: )/m).filter((s) => s.length > 0).map((s) => {
    const mailArgs = /^X-Mail-Args: (.*)$/m.exec(s)?.[1] ?? '';
    const body = s.replace(/^(X-[A-Za-z-]+: .*\n)+Received: from .*\n(\t.*\n)*/, '').replace(/\n$/, '');
    return { mailArgs, message: body };
  });
}

/** Removes the first header (Postfix's own Received:) with its continuation lines. */
const dropFirstHeader = (m: string): string => m.replace(/^Received: .*\n([ \t].*\n)*/, '');

test('INTEROP: the downgrade matches real Postfix 3.7 relaying to smtp-sink -8', {
  skip: oracleSkip('postfix', 'smtp-sink') || (isRoot ? false : 'needs root to start a private Postfix'),
  timeout: 120_000,
}, async (t) => {
  const dir = tempDir(t, 'postern-8to7-');
  makeTraversable(dir);
  chmodSync(dir, 0o777);
  const dump = join(dir, 'sink.dump');
  const sinkPort = await freePort();
  await startRealSmtpSink(t, '127.0.0.64', sinkPort, ['-8', '-D', dump], 'postfix');
  const pf = await startPostfix(t, {
    main: { relayhost: `[127.0.0.64]:${sinkPort}`, mynetworks: '127.0.0.0/8', smtp_tls_security_level: 'none', smtpd_tls_security_level: 'none' },
  });
  for (const [i, msg] of COMPARE.entries()) {
    const c = await SmtpClient.open(pf.host, pf.port);
    await c.reply();
    await c.cmd('EHLO client.test');
    assert.equal((await c.cmd('MAIL FROM:<alice@origin.test> BODY=8BITMIME')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<bob@example.test>')).code, 250);
    assert.equal((await c.data(msg)).code, 250, `message ${i}`);
    await c.cmd('QUIT');
    c.close();
    const end = Date.now() + 30_000;
    while (dumped(dump).length < i + 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.equal(dumped(dump).length, i + 1, `Postfix relayed message ${i}\n${pf.log()}`);
  }
  await pf.stop();
  const h = await harness(t, { 'sink.test': { A: ['127.0.0.64'] } });
  const agent = h.agent({ smtp_tls_security_level: 'none' });
  for (const msg of COMPARE) {
    const out = await agent.deliver(request({ nexthop: `[sink.test]:${sinkPort}`, to: ['bob@example.test'], body: msg, bodyType: '8BITMIME' }));
    assert.equal(out[0]!.kind, 'delivered', JSON.stringify(out));
  }
  const all = dumped(dump);
  assert.equal(all.length, COMPARE.length * 2);
  for (let i = 0; i < COMPARE.length; i++) {
    const theirs = all[i]!;
    const ours = all[COMPARE.length + i]!;
    assert.equal(ours.message, dropFirstHeader(theirs.message), `message ${i}`);
    assert.equal(ours.mailArgs, theirs.mailArgs);
  }
  // Postfix did convert (the comparison is not of two untouched copies), and the result is 7-bit.
  assert.match(all[0]!.message, /^Content-Transfer-Encoding: quoted-printable$/m);
  assert.match(all[1]!.message, /^Content-Transfer-Encoding: 7bit$/m);
  assert.ok(!/[\x80-\xff]/.test(all[COMPARE.length]!.message.split('\n\n').slice(1).join('\n\n')));
});
