/*
 * postcat -q over the LMDB queue: the layout of a real Postfix 3.7.11 `postcat -q` (a deferred
 * message with DSN parameters, observed and pasted below, server_address/server_port lines removed
 * because Postern does not store them), the -e/-h/-b/-o/-v selections, hashed queue paths, the
 * missing-ID error; and, with a private real Postfix, the same message held there and here printed
 * line by line alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ARRIVAL_MS, queueFixture, runTool, withStore } from '../queue/cli-helpers.js';
import { oracleSkip } from '../../helpers/oracle.js';
import { startPostfix } from '../../helpers/postfix-instance.js';
import { smtpSession } from '../../helpers/smtp-client.js';
import { queueFileRecords, recordLength } from '../../../mta/cli/postcat-records.js';
import type { QueueRecord } from '../../../mta/queue/types.js';

const CONTENT = [
  'Received: from x (localhost [127.0.0.1])',
  '\tby mx.test.example (Postfix) with ESMTP id 3F80F21202B',
  '\tfor <bob@remote.example>; Fri, 27 Nov 2026 20:29:20 +0000 (UTC)',
  'Subject: dsn',
  'Message-Id: <20261127202921.3F80F21202B@mx.test.example>',
  'Date: Fri, 27 Nov 2026 20:29:20 +0000 (UTC)',
  'From: a@virt.test',
  '',
  'body',
];

/** Real Postfix 3.7.11, `postcat -q 3F80F21202B` (server_address/server_port removed). */
const REAL = `*** ENVELOPE RECORDS deferred/3/3F80F21202B ***
message_size:             309             695               1              12             309               0
message_arrival_time: Fri Nov 27 20:29:20 2026
create_time: Fri Nov 27 20:29:20 2026
named_attribute: log_ident=3F80F21202B
named_attribute: rewrite_context=local
named_attribute: envelope_id=env123
named_attribute: ret_flags=2
sender: a@virt.test
named_attribute: log_client_name=localhost
named_attribute: log_client_address=127.0.0.1
named_attribute: log_client_port=36208
named_attribute: log_message_origin=localhost[127.0.0.1]
named_attribute: log_helo_name=x
named_attribute: log_protocol_name=ESMTP
named_attribute: client_name=localhost
named_attribute: reverse_client_name=localhost
named_attribute: client_address=127.0.0.1
named_attribute: client_port=36208
named_attribute: helo_name=x
named_attribute: protocol_name=ESMTP
named_attribute: client_address_type=2
named_attribute: notify_flags=6
named_attribute: dsn_orig_rcpt=rfc822;Bob@Remote.example
original_recipient: bob@remote.example
recipient: bob@remote.example
*** MESSAGE CONTENTS deferred/3/3F80F21202B ***
${CONTENT.join('\n')}
*** HEADER EXTRACTED deferred/3/3F80F21202B ***
*** MESSAGE FILE END deferred/3/3F80F21202B ***
`;

const ARRIVAL = Date.UTC(2026, 10, 27, 20, 29, 20);

function sampleRecord(): QueueRecord {
  return {
    v: 1, id: '3F80F21202B', queue: 'deferred', arrivalTime: ARRIVAL, sender: 'a@virt.test', size: 309, segments: 1,
    envid: 'env123', ret: 'HDRS', forcedExpire: false, nextAttempt: ARRIVAL, attempts: 1,
    attrs: { origin: 'smtpd', client_name: 'localhost', client_address: '127.0.0.1', client_port: '36208', helo_name: 'x', protocol: 'ESMTP' },
    recipients: [{ address: 'bob@remote.example', orcpt: 'rfc822;Bob@Remote.example', notify: ['SUCCESS', 'FAILURE'], status: 'pending' }],
  };
}

test('record layout: sizes, data offset and content offsets as a Postfix queue file', () => {
  const body = Buffer.from(CONTENT.join('\r\n') + '\r\n', 'latin1');
  const recs = queueFileRecords(sampleRecord(), body);
  // The real file: 309 bytes of content records from data offset 695. Without the two server_*
  // attributes (server_address=127.0.0.1: 26 bytes, server_port=35159: 19 bytes) and with a
  // whole-millisecond arrival time (`sec 0` instead of `sec usec`, 5 bytes shorter) ours starts 50 earlier.
  assert.equal(recs[0]!.payload, '            309             645               1              12             309               0');
  const mesg = recs.find((r) => r.kind === 'mesg')!;
  assert.equal(mesg.offset, 643);
  assert.equal(recordLength(0), 2);
  assert.equal(recordLength(127), 129);
  assert.equal(recordLength(128), 131);
});

test('postcat -q prints the Postfix layout; -e -h -b -o -v select and decorate', async (t) => {
  const fx = queueFixture(t);
  const id = await withStore(fx, async (s) => {
    const body = Buffer.from(CONTENT.join('\r\n') + '\r\n', 'latin1');
    const rec = await s.enqueue({
      sender: 'a@virt.test', envid: 'env123', ret: 'HDRS',
      recipients: [{ address: 'bob@remote.example', orcpt: 'rfc822;Bob@Remote.example', notify: ['SUCCESS', 'FAILURE'] }],
      attrs: { origin: 'smtpd', client_name: 'localhost', client_address: '127.0.0.1', client_port: '36208', helo_name: 'x', protocol: 'ESMTP' },
    }, body);
    await s.takeDue(10);
    await s.applyOutcomes(rec.id, [{ index: 0, kind: 'deferred', dsnStatus: '4.4.1', reason: 'connect to 127.0.0.1[127.0.0.1]:1: Connection refused' }]);
    return rec.id;
  });
  const expected = REAL.replaceAll('deferred/3/3F80F21202B', `deferred/${id[0]}/${id}`).replace('log_ident=3F80F21202B', `log_ident=${id}`)
    .replace(/20:29:20 2026/g, '17:42:39 2026').replace('309             695', '309             645');
  const full = await runTool('postcat', ['-c', fx.configDir, '-q', id]);
  assert.equal(full.stderr, '');
  assert.equal(full.status, 0);
  assert.equal(full.stdout, expected);
  assert.equal(ARRIVAL_MS % 1000, 0);

  const hdr = await runTool('postcat', ['-c', fx.configDir, '-h', '-q', id]);
  assert.equal(hdr.stdout, CONTENT.slice(0, 7).join('\n') + '\n');
  const bdy = await runTool('postcat', ['-c', fx.configDir, '-bq', id]);
  assert.equal(bdy.stdout, '\nbody\n');
  const hb = await runTool('postcat', ['-c', fx.configDir, '-hb', '-q', id]);
  assert.equal(hb.stdout, CONTENT.join('\n') + '\n');
  const env = await runTool('postcat', ['-c', fx.configDir, '-e', '-q', id]);
  const envLines = env.stdout.split('\n');
  assert.ok(envLines.includes(`*** MESSAGE CONTENTS deferred/${id[0]}/${id} ***`));
  assert.ok(!envLines.includes('body'));
  const v = await runTool('postcat', ['-c', fx.configDir, '-v', '-q', id]);
  assert.ok(v.stdout.includes('\nregular_text: From: a@virt.test\nregular_text: \nregular_text: body\n'));
  const o = await runTool('postcat', ['-c', fx.configDir, '-o', '-q', id]);
  const ol = o.stdout.split('\n');
  assert.equal(ol[1], '        0 message_size:             309             645               1              12             309               0');
  assert.equal(ol[2], '       97 message_arrival_time: Fri Nov 27 17:42:39 2026');
  assert.ok(ol.includes(`      643 *** MESSAGE CONTENTS deferred/${id[0]}/${id} ***`));
  assert.ok(ol.includes('      645 Received: from x (localhost [127.0.0.1])'));
  assert.ok(ol.includes(`      954 *** HEADER EXTRACTED deferred/${id[0]}/${id} ***`));

  await withStore(fx, (s) => s.hold({ ids: [id], queues: ['deferred'] }));
  const held = await runTool('postcat', ['-c', fx.configDir, '-e', '-q', id]);
  assert.equal(held.stdout.split('\n')[0], `*** ENVELOPE RECORDS hold/${id} ***`);

  const missing = await runTool('postcat', ['-c', fx.configDir, '-q', 'ABCDEF']);
  assert.deepEqual([missing.status, missing.stdout, missing.stderr], [1, '', 'postcat: fatal: open queue file ABCDEF: No such file or directory\n']);
  const bad = await runTool('postcat', ['-Z']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^postcat: invalid option -- 'Z'\npostcat: fatal: usage: postcat \[-b \(body text\)\]/);
});

test('a message held in real Postfix and the same message here print alike', { skip: oracleSkip('postfix', 'postcat', 'postsuper') }, async (t) => {
  const pf = await startPostfix(t, { main: { mynetworks: '127.0.0.0/8', relayhost: '[127.0.0.1]:1', smtpd_recipient_restrictions: 'check_recipient_access inline:{{held@remote.example=HOLD}}, permit_mynetworks, reject' } });
  const replies = await smtpSession(pf.port, [
    'EHLO client.example', 'MAIL FROM:<alice@virt.test> ENVID=e1', 'RCPT TO:<held@remote.example> NOTIFY=FAILURE,DELAY', 'RCPT TO:<b@remote.example>',
    'DATA', 'Subject: held\r\nFrom: alice@virt.test\r\n\r\nfirst\r\n..dotted\r\n' + 'x'.repeat(3000) + '\r\n.', 'QUIT',
  ]);
  const realId = /queued as (\w+)/.exec(replies[6]!)![1]!;
  const real = spawnSync('postcat', ['-c', pf.configDir, '-q', realId], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }).stdout;
  const realOffsets = spawnSync('postcat', ['-c', pf.configDir, '-o', '-q', realId], { encoding: 'utf8' }).stdout;
  assert.match(real, new RegExp(`^\\*\\*\\* ENVELOPE RECORDS hold/${realId} \\*\\*\\*`));

  const field = (name: string) => new RegExp(`^named_attribute: ${name}=(.*)$`, 'm').exec(real)![1]!;
  const contentText = real.slice(real.indexOf('***\n', real.indexOf('*** MESSAGE CONTENTS')) + 4, real.indexOf('*** HEADER EXTRACTED'));
  const fx = queueFixture(t);
  const ours = await withStore(fx, async (s) => {
    const rec = await s.enqueue({
      id: realId, sender: 'alice@virt.test', envid: 'e1', queue: 'hold',
      recipients: [{ address: 'held@remote.example', notify: ['FAILURE', 'DELAY'] }, { address: 'b@remote.example' }],
      attrs: { origin: 'smtpd', client_name: field('client_name'), client_address: field('client_address'), client_port: field('client_port'), helo_name: field('helo_name'), protocol: field('protocol_name') },
    }, Buffer.from(contentText.replace(/\n/g, '\r\n'), 'latin1'));
    return rec.id;
  });
  assert.equal(ours, realId);
  const mine = await runTool('postcat', ['-c', fx.configDir, '-q', realId]);
  const strip = (s: string) => s.split('\n').filter((l) => !/^(named_attribute: server_(address|port)=|message_arrival_time:|create_time:|message_size:)/.test(l));
  assert.deepEqual(strip(mine.stdout), strip(real));
  // Content offsets relative to the M record are those of the real file (long lines as L records).
  const rel = (s: string) => {
    const lines = s.split('\n').filter((l) => /^ {0,8}\d+ /.test(l));
    const m = lines.findIndex((l) => l.includes('*** MESSAGE CONTENTS'));
    const base = Number(lines[m]!.trim().split(' ')[0]);
    return lines.slice(m).map((l) => `${Number(l.trim().split(' ')[0]) - base} ${l.replace(/^ *\d+ /, '')}`);
  };
  const mineOffsets = await runTool('postcat', ['-c', fx.configDir, '-o', '-q', realId]);
  assert.deepEqual(rel(mineOffsets.stdout), rel(realOffsets));
  const sizeOf = (s: string) => /^message_size: +(\d+)/m.exec(s)![1];
  assert.equal(sizeOf(mine.stdout), sizeOf(real));
});
