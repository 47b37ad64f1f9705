/*
 * Interop: the same main.cf given to a private real Postfix 3.7 and to our restriction engine;
 * for each (client address, HELO, sender, recipient) the RCPT reply of real Postfix must equal our
 * decision's reply. Access maps use texthash:, cidr:, inline: and an lmdb: map built by the real
 * postmap (our reader reads Postfix's LMDB format). Client names come from Postfix's own
 * `connect from NAME[ADDR]` log lines so reverse-DNS differences between hosts do not matter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPostfixConfig } from '../../../../shared/config/postfix/config.js';
import { formatReply } from '../../../../shared/proto/smtp-reply.js';
import { createSmtpdPolicy } from '../../../../mta/smtpd/policy/engine.js';
import { createStaticDnsClient } from '../../../../mta/dns/static-dns.js';
import type { Decision, SmtpdFacts } from '../../../../mta/smtpd/policy/api.js';
import { oracleSkip } from '../../../helpers/oracle.js';
import { tempDir } from '../../../helpers/tmp.js';
import { makeTraversable, startPostfix } from '../../../helpers/postfix-instance.js';
import { smtpSession } from './smtp-probe.js';

interface Case {
  from: string;
  helo: string;
  sender: string;
  rcpt: string;
}

function files(t: import('node:test').TestContext): string {
  const dir = tempDir(t, 'postern-policy-interop-');
  makeTraversable(dir);
  chmodSync(dir, 0o755);
  const w = (name: string, text: string): void => writeFileSync(join(dir, name), text, { mode: 0o644 });
  w('access', ['rej.example REJECT', 'rejtext.example REJECT go away', 'defer.example DEFER', 'n4.example 450 custom four',
    'n5.example 550 5.1.9 custom five', 'ok.example OK', 'dip.example DEFER_IF_PERMIT', 'dir.example DEFER_IF_REJECT why',
    'list.example reject_non_fqdn_helo_hostname, reject', 'cls.example myclass', 'user@full.example REJECT full address',
    'postmaster@ OK', 'sub.parent.example DUNNO', 'parent.example REJECT parent', '<> REJECT no bounces here', ''].join('\n'));
  w('clients', ['127.0.0.9 REJECT', '127.0.0.10/32 DEFER_IF_PERMIT', '127.0.0.11 reject_unauth_destination', ''].join('\n'));
  w('transport', ['bounce.test error:5.1.1 Test: no such user here', 'bounce2.test error:no such user', 'retry.test retry:4.4.4 try again', ''].join('\n'));
  w('relay_rcpts', 'known@rel.test x\n');
  w('vmbox', 'a@vm.test x\n@vmall.test x\n');
  w('valias', 'va.test x\na@va.test root@mx.test.example\n');
  w('main.cf', 'compatibility_level = 3.6\n');
  execFileSync('/usr/sbin/postmap', ['-c', dir, `lmdb:${join(dir, 'valias')}`]);
  return dir;
}

async function compare(t: import('node:test').TestContext, main: Record<string, string>, cases: Case[]): Promise<void> {
  const pf = await startPostfix(t, { main });
  const policy = createSmtpdPolicy(loadPostfixConfig({ configDir: pf.configDir }), { dns: createStaticDnsClient({}) });
  const mismatches: string[] = [];
  for (const c of cases) {
    const replies = await smtpSession(pf.host, pf.port, c.from, [`EHLO ${c.helo}`, `MAIL FROM:<${c.sender}>`, `RCPT TO:<${c.rcpt}>`, 'QUIT']);
    const real = replies[3] ?? '';
    const m = new RegExp(`connect from (\\S+)\\[${c.from.replaceAll('.', '\\.')}\\]`).exec(pf.log());
    const facts: SmtpdFacts = {
      client: { name: m?.[1] ?? 'unknown', addr: c.from, port: 0 },
      server: { addr: pf.host, port: pf.port },
      helo: c.helo, sender: c.sender, recipient: c.rcpt,
      tls: false, protocol: 'ESMTP', recipientCount: 0, pipelined: false,
    };
    const d: Decision = await policy.evaluate('rcpt', facts);
    const ours = d.kind === 'reject' || d.kind === 'defer' ? formatReply(d.reply).trim() : '250 2.1.5 Ok';
    if (process.env["POSTERN_INTEROP_TRACE"]) console.log(`${c.from} ${c.helo} <${c.sender}> <${c.rcpt}> => ${real}`);
    if (ours !== real) mismatches.push(`${JSON.stringify(c)}\n   postfix: ${real}\n   postern: ${ours}`);
  }
  assert.deepEqual(mismatches, []);
}

const skip = oracleSkip('postfix', 'postmap');

test('RCPT replies match real Postfix: classes, recipient validation, access maps', { skip, timeout: 180_000 }, async (t) => {
  const dir = files(t);
  const main: Record<string, string> = {
    mydestination: 'mx.test.example, localhost',
    mynetworks: '127.0.0.0/30',
    recipient_delimiter: '+',
    relay_domains: 'rel.test bounce.test bounce2.test retry.test',
    relay_recipient_maps: `texthash:${dir}/relay_rcpts`,
    virtual_mailbox_domains: 'vm.test vmall.test',
    virtual_mailbox_maps: `texthash:${dir}/vmbox`,
    virtual_alias_maps: `lmdb:${dir}/valias`,
    transport_maps: `texthash:${dir}/transport`,
    smtpd_restriction_classes: 'myclass',
    myclass: 'reject_unauth_destination, defer',
    smtpd_client_restrictions: `check_client_access cidr:${dir}/clients`,
    smtpd_helo_restrictions: 'check_helo_access inline:{ rejhelo.example=REJECT, {texthelo.example=554 5.7.1 no such helo} }',
    smtpd_sender_restrictions: `check_sender_access texthash:${dir}/access, reject_non_fqdn_sender`,
    smtpd_recipient_restrictions: 'reject_non_fqdn_recipient, reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, permit_mynetworks, reject_unauth_destination',
  };
  const c = (from: string, helo: string, sender: string, rcpt: string): Case => ({ from, helo, sender, rcpt });
  const L = '127.0.0.1';
  const R = '127.0.0.5';
  await compare(t, main, [
    c(L, 'h.example', 'a@b.example', 'root@mx.test.example'),
    c(L, 'h.example', 'a@b.example', 'nosuch@mx.test.example'),
    c(L, 'h.example', 'a@b.example', 'root+ext@mx.test.example'),
    c(L, 'h.example', 'a@b.example', 'x@gmail.com'),
    c(R, 'h.example', 'a@b.example', 'x@gmail.com'),
    c(R, 'h.example', 'a@b.example', 'x@localhost'),
    c(R, 'h.example', 'a@b.example', 'root'),
    c(R, 'h.example', 'a@b.example', 'known@rel.test'),
    c(R, 'h.example', 'a@b.example', 'unknown@rel.test'),
    c(R, 'h.example', 'a@b.example', 'a@vm.test'),
    c(R, 'h.example', 'a@b.example', 'b@vm.test'),
    c(R, 'h.example', 'a@b.example', 'anyone@vmall.test'),
    c(R, 'h.example', 'a@b.example', 'a@va.test'),
    c(R, 'h.example', 'a@b.example', 'b@va.test'),
    c(R, 'h.example', 'a@b.example', 'x@bounce.test'),
    c(R, 'h.example', 'a@b.example', 'x@bounce2.test'),
    c(R, 'h.example', 'a@b.example', 'x@retry.test'),
    c(R, 'h.example', 'a@b.example', 'root@localhost.localdomain'),
    c(R, 'h.example', 'a@rej.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@rejtext.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@defer.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@n4.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@n5.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@ok.example', 'x@gmail.com'),
    c(R, 'h.example', 'a@dip.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@dir.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@dir.example', 'x@gmail.com'),
    c(R, 'foo', 'a@list.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@cls.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@cls.example', 'x@gmail.com'),
    c(R, 'h.example', 'user@full.example', 'root@mx.test.example'),
    c(R, 'h.example', 'user+tag@full.example', 'root@mx.test.example'),
    c(R, 'h.example', 'other@full.example', 'root@mx.test.example'),
    c(R, 'h.example', 'postmaster@anything.example', 'x@gmail.com'),
    c(R, 'h.example', 'a@sub.parent.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@deep.sub.parent.example', 'root@mx.test.example'),
    c(R, 'h.example', 'a@x.parent.example', 'root@mx.test.example'),
    c(R, 'h.example', '', 'root@mx.test.example'),
    c(R, 'h.example', 'a@nodot', 'root@mx.test.example'),
    c(R, 'h.example', 'a@b.example', 'x@nodot'),
    c(R, 'foo', 'a@b.example', 'root@mx.test.example'),
    c(R, 'bad_name!', 'a@b.example', 'root@mx.test.example'),
    c(R, '[127.0.0.1]', 'a@b.example', 'root@mx.test.example'),
    c(R, 'rejhelo.example', 'a@b.example', 'root@mx.test.example'),
    c(R, 'texthelo.example', 'a@b.example', 'root@mx.test.example'),
    c('127.0.0.9', 'h.example', 'a@b.example', 'root@mx.test.example'),
    c('127.0.0.10', 'h.example', 'a@b.example', 'root@mx.test.example'),
    c('127.0.0.10', 'h.example', 'a@rej.example', 'root@mx.test.example'),
    c('127.0.0.11', 'h.example', 'a@b.example', 'x@gmail.com'),
    c('127.0.0.11', 'h.example', 'a@b.example', 'root@mx.test.example'),
  ]);
});

test('RCPT replies match real Postfix: compatibility_level 0, relay order, soft_bounce, warn_if_reject', { skip, timeout: 180_000 }, async (t) => {
  const main: Record<string, string> = {
    compatibility_level: '0',
    mydestination: 'mx.test.example',
    mynetworks: '127.0.0.1/32',
    soft_bounce: 'yes',
    smtpd_recipient_restrictions: 'warn_if_reject, reject_non_fqdn_recipient, permit_mynetworks, reject_unauth_destination, check_recipient_access inline:{ {blocked@mx.test.example=REJECT blocked} }',
  };
  const c = (from: string, rcpt: string, sender = 'a@b.example'): Case => ({ from, helo: 'h.example', sender, rcpt });
  await compare(t, main, [
    c('127.0.0.1', 'x@gmail.com'),
    c('127.0.0.5', 'x@gmail.com'),
    c('127.0.0.5', 'x@nodot'),
    c('127.0.0.5', 'root@mx.test.example'),
    c('127.0.0.5', 'blocked@mx.test.example'),
    c('127.0.0.5', 'nosuch@mx.test.example'),
  ]);
});
