/*
 * What real Postfix 3.7 sends a milter, recorded: a private Postfix with smtpd_milters pointing at
 * the recording fake milter receives one SMTP session (EHLO, an unknown command, MAIL with ESMTP
 * parameters, RCPT, DATA with a folded header, QUIT). Then MilterSession is driven with the same
 * inputs (client, commands, the header fields and body Postfix passed on, the macro values Postfix
 * computed) and must produce the same packet sequence, macros included.
 *
 * Recorded with Postfix 3.7.11 (the table below is what the test checks against):
 *   OPTNEG v6 actions 0x1ff protocol 0x1fffff
 *   D C j {daemon_name} {daemon_addr} v _          CONNECT localhost inet port 127.0.0.1
 *   D H (no pairs: no TLS)                         HELO client.example
 *   D U (no pairs: milter_unknown_command_macros is empty)  UNKNOWN "XFOO" (the verb only)
 *   D M {mail_addr} {mail_host} {mail_mailer}      MAIL <alice@example.com> SIZE=100 BODY=8BITMIME
 *     (no `i`, no {auth_*}: no queue ID yet, no SASL)
 *   D R {rcpt_addr} {rcpt_host} {rcpt_mailer}      RCPT <bob@example.org> NOTIFY=NEVER
 *     (still no `i`: smtpd opens the cleanup stream after the milter accepted the first RCPT)
 *   D T i                                          DATA
 *   D L i before every HEADER (our Received: hidden, Message-Id and Date added by cleanup)
 *   D N i  EOH     D B i  BODY     D E i  BODYEOB
 *   ABORT ABORT (smtpd's and cleanup's transaction ends)   QUIT
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oracleSkip } from '../../helpers/oracle.js';
import { startPostfix } from '../../helpers/postfix-instance.js';
import { smtpSession } from '../../helpers/smtp-client.js';
import { continueAll, startFakeMilter } from './fake-milter.js';
import { DEFAULT_MILTER_SETTINGS, MilterSession } from '../../../mta/milter/client.js';
import { macroLookup } from '../../../mta/milter/macros.js';
import { SMFIC, type MilterCommand } from '../../../mta/milter/codec.js';

type Cmd<K extends MilterCommand['kind']> = Extract<MilterCommand, { kind: K }>;

test('our client sends what Postfix 3.7 sends for the same SMTP session', { skip: oracleSkip('postfix') }, async (t) => {
  const fm = await startFakeMilter(t, {});
  const pf = await startPostfix(t, {
    main: { smtpd_milters: fm.spec, mydestination: 'example.org', local_transport: 'discard', local_recipient_maps: '', myhostname: 'mx.test.example' },
  });
  try {
    await smtpSession(pf.port, [
      'EHLO client.example',
      'XFOO bar',
      'MAIL FROM:<alice@example.com> SIZE=100 BODY=8BITMIME',
      'RCPT TO:<bob@example.org> NOTIFY=NEVER',
      'DATA',
      'From: alice@example.com\r\nTo: bob@example.org\r\nSubject: hi\r\n  folded\r\n\r\nline 1\r\n\r\nline 3\r\n.',
      'QUIT',
    ]);
  } catch {
    // Postfix closes after 221; the helper may see the reset.
  }
  // The readiness probe of startPostfix is a session of its own (connect, quit); take the real one.
  const deadline = Date.now() + 10_000;
  let real: MilterCommand[] | undefined;
  while (!(real = fm.connections.find((c) => c.some((x) => x.kind === 'helo') && c.at(-1)?.kind === 'quit')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(real, `no complete session recorded: ${JSON.stringify(fm.connections.map((c) => c.map((x) => x.kind)))}`);

  const kinds = real.map((c) => (c.kind === 'macro' ? `D${String.fromCharCode(c.forCode)}` : c.kind));
  assert.deepEqual(kinds, [
    'optneg', 'DC', 'connect', 'DH', 'helo', 'DU', 'unknown', 'DM', 'mail', 'DR', 'rcpt', 'DT', 'data',
    'DL', 'header', 'DL', 'header', 'DL', 'header', 'DL', 'header', 'DL', 'header', 'DN', 'eoh', 'DB', 'body', 'DE', 'bodyeob',
    'abort', 'abort', 'quit',
  ]);
  const macroNames = (code: number) => (real!.find((c) => c.kind === 'macro' && c.forCode === code) as Cmd<'macro'>).macros.map(([n]) => n);
  assert.deepEqual(macroNames(SMFIC.CONNECT), ['j', '{daemon_name}', '{daemon_addr}', 'v', '_']);
  assert.deepEqual(macroNames(SMFIC.MAIL), ['{mail_addr}', '{mail_host}', '{mail_mailer}']);
  assert.deepEqual(macroNames(SMFIC.RCPT), ['{rcpt_addr}', '{rcpt_host}', '{rcpt_mailer}']);
  const value = (code: number, name: string) => (real!.find((c) => c.kind === 'macro' && c.forCode === code) as Cmd<'macro'>).macros.find(([n]) => n === name)?.[1];
  assert.equal(value(SMFIC.CONNECT, 'v'), 'Postfix 3.7.11');
  assert.equal(value(SMFIC.CONNECT, '_'), 'localhost [127.0.0.1]');
  const headers = real.filter((c): c is Cmd<'header'> => c.kind === 'header');
  assert.deepEqual(headers.map((h) => h.name), ['From', 'To', 'Subject', 'Message-Id', 'Date']);
  assert.equal(headers[2]!.value.toString(), 'hi\n  folded');

  // Replay through our client with the same inputs and the macro values Postfix computed.
  const ours = await startFakeMilter(t, { script: continueAll });
  const conn = real.find((c): c is Cmd<'connect'> => c.kind === 'connect')!;
  const queueId = value(SMFIC.DATA, 'i')!;
  const values = {
    j: value(SMFIC.CONNECT, 'j')!,
    daemonName: value(SMFIC.CONNECT, '{daemon_name}')!,
    daemonAddr: value(SMFIC.CONNECT, '{daemon_addr}')!,
    v: value(SMFIC.CONNECT, 'v')!,
    clientName: 'localhost',
    clientPtr: 'localhost',
    clientAddr: '127.0.0.1',
  };
  let stage: Record<string, string | undefined> = {};
  const m = new MilterSession(ours.spec, DEFAULT_MILTER_SETTINGS, (name) => macroLookup({ ...values, ...stage })(name));
  await m.connect({ hostname: conn.hostname, address: conn.address!, port: conn.port!, family: conn.family });
  await m.helo('client.example');
  await m.unknown('XFOO');
  stage = { mailAddr: value(SMFIC.MAIL, '{mail_addr}'), mailHost: value(SMFIC.MAIL, '{mail_host}'), mailMailer: value(SMFIC.MAIL, '{mail_mailer}') };
  await m.envfrom((real.find((c) => c.kind === 'mail') as Cmd<'mail'>).args);
  stage = { ...stage, rcptAddr: value(SMFIC.RCPT, '{rcpt_addr}'), rcptHost: value(SMFIC.RCPT, '{rcpt_host}'), rcptMailer: value(SMFIC.RCPT, '{rcpt_mailer}') };
  await m.envrcpt((real.find((c) => c.kind === 'rcpt') as Cmd<'rcpt'>).args);
  stage = { queueId };
  await m.data();
  const fields = headers.map((h) => ({ name: h.name, raw: Buffer.concat([Buffer.from(`${h.name}: `), h.value]) }));
  const body = (real.find((c) => c.kind === 'body') as Cmd<'body'>).chunk;
  await m.message(fields, body);
  // Postfix ends the transaction twice (cleanup, then smtpd's mail_reset); the wiring may do the same.
  await m.abort();
  await m.abort();
  await m.quit();
  await ours.closed(1);
  assert.deepEqual(ours.connections[0], real);
});
