/*
 * Restriction engine without a real Postfix: DNS-based restrictions against a static zone,
 * login mismatch, pipelining, plaintext, data/end-of-data/ETRN lists, smtpd_delay_reject = no,
 * HOLD/DISCARD, mynetworks forms, restriction classes, unknown restrictions, table failures,
 * and the relay-safety check. Expected texts follow Postfix 3.7 (see interop.test.ts for the
 * ones compared live).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSmtpdPolicy } from '../../../../mta/smtpd/policy/engine.js';
import { createStaticDnsClient, type StaticZone } from '../../../../mta/dns/static-dns.js';
import { formatReply } from '../../../../shared/proto/smtp-reply.js';
import type { SmtpdFacts, SmtpdStage } from '../../../../mta/smtpd/policy/api.js';
import { testConfig } from '../../resolve/config-helper.js';

const ZONE: StaticZone = {
  mx: { 'good.example': [{ exchange: 'mx.good.example', priority: 10 }], 'null.example': [{ exchange: '', priority: 0 }], 'badmx.example': [{ exchange: 'mx.bad.example', priority: 5 }] },
  a: { 'aonly.example': ['192.0.2.7'], 'mx.good.example': ['192.0.2.8'], 'mx.bad.example': ['203.0.113.9'], 'h.example': ['192.0.2.9'], '2.0.0.127.zen.example': ['127.0.0.2'], '3.0.0.127.zen.example': ['127.0.0.10'], 'spam.example.dbl.example': ['127.0.1.2'] },
  txt: { '2.0.0.127.zen.example': ['listed for testing'] },
  retry: ['slow.example'],
};

function facts(p: Partial<SmtpdFacts> = {}): SmtpdFacts {
  return {
    client: { name: 'unknown', addr: '198.51.100.1', port: 1234 },
    server: { addr: '192.0.2.1', port: 25 },
    helo: 'h.example', sender: 'a@good.example', recipient: 'root@mx.example.test',
    tls: false, protocol: 'ESMTP', recipientCount: 0, pipelined: false,
    ...p,
  };
}

async function ask(main: Record<string, string>, f: Partial<SmtpdFacts>, stage: SmtpdStage = 'rcpt'): Promise<string> {
  const log: string[] = [];
  const cfg = testConfig({ compatibility_level: '3.6', mydestination: '$myhostname', alias_maps: '', local_recipient_maps: '', ...main });
  const p = createSmtpdPolicy(cfg, { dns: createStaticDnsClient(ZONE), sleep: async () => undefined, log: (l) => log.push(l) });
  const d = await p.evaluate(stage, facts(f));
  if (d.kind === 'accept') return 'accept';
  if (d.kind === 'hold' || d.kind === 'discard') return `${d.kind}: ${d.reason}`;
  return `${d.kind}${d.disconnect ? '+close' : ''} ${formatReply(d.reply).trim()}`;
}

const R = (list: string): Record<string, string> => ({ smtpd_recipient_restrictions: list });

const cases: [string, Record<string, string>, Partial<SmtpdFacts>, string, SmtpdStage?][] = [
  ['unknown sender domain', R('reject_unknown_sender_domain'), { sender: 'a@nowhere.example' }, 'defer 450 4.1.8 <a@nowhere.example>: Sender address rejected: Domain not found'],
  ['sender domain with MX', R('reject_unknown_sender_domain'), { sender: 'a@good.example' }, 'accept'],
  ['sender domain with A only', R('reject_unknown_sender_domain'), { sender: 'a@aonly.example' }, 'accept'],
  ['sender null MX', R('reject_unknown_sender_domain'), { sender: 'a@null.example' }, 'reject 556 5.7.27 <a@null.example>: Sender address rejected: Domain null.example does not accept mail (nullMX)'],
  ['recipient null MX', { ...R('reject_unknown_recipient_domain, permit'), smtpd_relay_restrictions: 'permit, reject_unauth_destination' }, { recipient: 'x@null.example' }, 'reject 556 5.1.10 <x@null.example>: Recipient address rejected: Domain null.example does not accept mail (nullMX)'],
  ['unknown recipient domain, 550', { ...R('reject_unknown_recipient_domain, permit'), smtpd_relay_restrictions: 'permit, reject_unauth_destination', unknown_address_reject_code: '550' }, { recipient: 'x@nowhere.example' }, 'reject 550 5.1.2 <x@nowhere.example>: Recipient address rejected: Domain not found'],
  ['local recipient domain is not looked up', R('reject_unknown_recipient_domain, reject_unauth_destination'), {}, 'accept'],
  ['DNS trouble defers only if permitted', R('reject_unknown_sender_domain, permit'), { sender: 'a@slow.example' }, 'defer 450 4.1.8 <a@slow.example>: Sender address rejected: Domain not found'],
  ['DNS trouble then reject', R('reject_unknown_sender_domain, reject'), { sender: 'a@slow.example' }, 'reject 554 5.7.1 <root@mx.example.test>: Recipient address rejected: Access denied'],
  ['unknown helo hostname', R('reject_unknown_helo_hostname'), { helo: 'nx.example' }, 'defer 450 4.7.1 <nx.example>: Helo command rejected: Host not found'],
  ['unknown client hostname', R('reject_unknown_client_hostname'), {}, 'defer 450 4.7.1 Client host rejected: cannot find your hostname, [198.51.100.1]'],
  ['unknown reverse client hostname', R('reject_unknown_reverse_client_hostname'), { client: { name: 'unknown', addr: '198.51.100.1', port: 1, reverseName: 'unknown' } }, 'defer 450 4.7.1 Client host rejected: cannot find your reverse hostname, [198.51.100.1]'],
  ['known client hostname', R('reject_unknown_client_hostname'), { client: { name: 'c.example', addr: '198.51.100.1', port: 1 } }, 'accept'],
  ['RBL listed', R('reject_rbl_client zen.example'), { client: { name: 'unknown', addr: '127.0.0.2', port: 1 } }, 'reject 554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.example; listed for testing'],
  ['RBL listed without TXT', R('reject_rbl_client zen.example'), { client: { name: 'unknown', addr: '127.0.0.3', port: 1 } }, 'reject 554 5.7.1 Service unavailable; Client host [127.0.0.3] blocked using zen.example'],
  ['RBL filter excludes', R('reject_rbl_client zen.example=127.0.0.[2..4]'), { client: { name: 'unknown', addr: '127.0.0.3', port: 1 } }, 'accept'],
  ['RBL not listed', R('reject_rbl_client zen.example'), {}, 'accept'],
  ['RHSBL sender', R('reject_rhsbl_sender dbl.example'), { sender: 'a@spam.example' }, 'reject 554 5.7.1 Service unavailable; Sender address [spam.example] blocked using dbl.example'],
  ['DNSWL permits', R('permit_dnswl_client zen.example, reject'), { client: { name: 'unknown', addr: '127.0.0.2', port: 1 } }, 'accept'],
  ['sender login: not owned', R('reject_sender_login_mismatch'), { sender: 'boss@mx.example.test', sasl: { method: 'PLAIN', username: 'mallory' } }, 'reject 553 5.7.1 <boss@mx.example.test>: Sender address rejected: not owned by user mallory'],
  ['sender login: owned', R('reject_sender_login_mismatch'), { sender: 'boss@mx.example.test', sasl: { method: 'PLAIN', username: 'boss' } }, 'accept'],
  ['sender login: not logged in', R('reject_sender_login_mismatch'), { sender: 'boss@mx.example.test' }, 'reject 553 5.7.1 <boss@mx.example.test>: Sender address rejected: not logged in'],
  ['sender login: unowned address, unauthenticated', R('reject_sender_login_mismatch'), { sender: 'other@good.example' }, 'accept'],
  ['sender login: known variant ignores unowned', R('reject_known_sender_login_mismatch'), { sender: 'other@good.example', sasl: { method: 'PLAIN', username: 'x' } }, 'accept'],
  ['sasl permits', R('permit_sasl_authenticated, reject'), { sasl: { method: 'PLAIN', username: 'x' } }, 'accept'],
  ['pipelining', R('reject_unauth_pipelining'), { pipelined: true }, 'reject 503 5.5.0 <root@mx.example.test>: Recipient address rejected: Improper use of SMTP command pipelining'],
  ['plaintext', R('reject_plaintext_session'), {}, 'defer 450 4.7.1 Session encryption is required'],
  ['tls passes plaintext check', R('reject_plaintext_session'), { tls: true }, 'accept'],
  ['mynetworks IPv6 bracket form', { ...R('permit_mynetworks, reject'), mynetworks: '[::1]/128 [2001:db8::]/32' }, { client: { name: 'x', addr: '2001:db8::5', port: 1 }, recipient: 'x@gmail.com' }, 'accept'],
  ['mynetworks mapped IPv4', { ...R('permit_mynetworks, reject'), mynetworks: '10.0.0.0/8' }, { client: { name: 'x', addr: '::ffff:10.1.2.3', port: 1 } }, 'accept'],
  ['mynetworks negation', { ...R('permit_mynetworks, reject'), mynetworks: '!10.0.0.1 10.0.0.0/8' }, { client: { name: 'x', addr: '10.0.0.1', port: 1 } }, 'reject 554 5.7.1 <root@mx.example.test>: Recipient address rejected: Access denied'],
  ['mynetworks table', { ...R('permit_mynetworks, reject'), mynetworks: 'inline:{ 10.9.9.9=ok }' }, { client: { name: 'x', addr: '10.9.9.9', port: 1 } }, 'accept'],
  ['HOLD', R('check_sender_access inline:{ a@good.example=HOLD }'), {}, 'hold: <a@good.example>: Sender address rejected: triggers HOLD action'],
  ['DISCARD', R('check_sender_access inline:{ a@good.example=DISCARD }, reject'), {}, 'discard: <a@good.example>: Sender address rejected: triggers DISCARD action'],
  ['421 disconnects', R('check_sender_access inline:{ {a@good.example=421 go away} }'), {}, 'defer+close 421 4.7.1 <a@good.example>: Sender address rejected: go away'],
  ['unknown restriction', R('bogus_thing'), {}, 'defer 451 4.3.5 Server configuration error'],
  ['missing table', R('check_sender_access texthash:/nonexistent/postern/access'), {}, 'defer 451 4.3.5 <root@mx.example.test>: Recipient address rejected: Server configuration error'],
  ['no relay guard at all', { smtpd_relay_restrictions: '', smtpd_recipient_restrictions: 'permit' }, {}, 'defer 451 4.3.5 Server configuration error'],
  ['defer_if_permit restriction', R('defer_if_permit, permit'), {}, 'defer 450 4.7.1 <root@mx.example.test>: Recipient address rejected: defer_if_permit requested'],
  ['data list', { smtpd_data_restrictions: 'reject' }, {}, 'reject 554 5.7.1 <DATA>: Data command rejected: Access denied', 'data'],
  ['end-of-data list', { smtpd_end_of_data_restrictions: 'reject' }, {}, 'reject 554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied', 'end-of-data'],
  ['etrn list', { smtpd_etrn_restrictions: 'reject' }, { etrnDomain: 'foo.example' }, 'reject 554 5.7.1 <foo.example>: Etrn command rejected: Access denied', 'etrn'],
  ['delay_reject: MAIL accepted', { smtpd_sender_restrictions: 'reject' }, {}, 'accept', 'mail'],
  ['no delay_reject: MAIL rejected', { smtpd_sender_restrictions: 'reject', smtpd_delay_reject: 'no' }, {}, 'reject 554 5.7.1 <a@good.example>: Sender address rejected: Access denied', 'mail'],
  ['no delay_reject: client at connect', { smtpd_client_restrictions: 'reject', smtpd_delay_reject: 'no' }, {}, 'reject 554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied', 'connect'],
  ['no delay_reject: RCPT skips client list', { smtpd_client_restrictions: 'reject', smtpd_delay_reject: 'no' }, {}, 'accept'],
  ['permit ends only its list', { smtpd_client_restrictions: 'permit', smtpd_sender_restrictions: 'reject' }, {}, 'reject 554 5.7.1 <a@good.example>: Sender address rejected: Access denied'],
  ['relay list and recipient list both apply', { smtpd_relay_restrictions: 'permit', smtpd_recipient_restrictions: 'reject_unauth_destination' }, { recipient: 'x@gmail.com' }, 'reject 554 5.7.1 <x@gmail.com>: Relay access denied'],
  ['unlisted sender', { smtpd_reject_unlisted_sender: 'yes', local_recipient_maps: 'inline:{ root=x }' }, { sender: 'nobody@mx.example.test' }, 'reject 550 5.1.0 <nobody@mx.example.test>: Sender address rejected: User unknown in local recipient table'],
  ['show_user_unknown_table_name = no', { show_user_unknown_table_name: 'no', local_recipient_maps: 'inline:{ root=x }' }, { recipient: 'nobody@mx.example.test' }, 'reject 550 5.1.1 <nobody@mx.example.test>: Recipient address rejected: User unknown'],
  ['smtpd_reject_unlisted_recipient = no', { smtpd_reject_unlisted_recipient: 'no', local_recipient_maps: 'inline:{ root=x }' }, { recipient: 'nobody@mx.example.test' }, 'accept'],
  ['canonical entry makes a recipient valid', { local_recipient_maps: 'inline:{ root=x }', canonical_maps: 'inline:{ {alias@mx.example.test=root} }' }, { recipient: 'alias@mx.example.test' }, 'accept'],
  ['warn_if_reject logs instead', R('warn_if_reject, reject, permit'), {}, 'accept'],
  ['sleep', R('sleep 1, permit'), {}, 'accept'],
  ['MX access', R('check_sender_mx_access inline:{ {203.0.113.9=REJECT bad mx} }'), { sender: 'a@badmx.example' }, 'reject 554 5.7.1 <a@badmx.example>: Sender address rejected: bad mx'],
  ['MX access refuses OK', R('check_sender_mx_access inline:{ mx.good.example=OK }, reject'), {}, 'reject 554 5.7.1 <root@mx.example.test>: Recipient address rejected: Access denied'],
  ['check_client_access by name walk', R('check_client_access inline:{ example.net=REJECT }'), { client: { name: 'a.b.example.net', addr: '198.51.100.1', port: 1 } }, 'reject 554 5.7.1 <a.b.example.net[198.51.100.1]>: Client host rejected: Access denied'],
  ['check_client_access by network prefix', R('check_client_access inline:{ 198.51=REJECT }'), {}, 'reject 554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied'],
  ['recipient access with restriction class', { ...R('check_recipient_access inline:{ root@mx.example.test=strict }'), smtpd_restriction_classes: 'strict', strict: 'reject_unknown_sender_domain, permit' }, { sender: 'a@nowhere.example' }, 'defer 450 4.1.8 <a@nowhere.example>: Sender address rejected: Domain not found'],
];

for (const [name, main, f, expected, stage] of cases) {
  test(`policy: ${name}`, async () => {
    const loginMaps = 'inline:{ boss@mx.example.test=boss }';
    assert.equal(await ask({ smtpd_sender_login_maps: loginMaps, ...main }, f, stage), expected);
  });
}
