/* Every MTA log event against the line observed from Postfix 3.7.11 (reference/postfix.md §11). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDelay, mtaEvents } from '../../mta/log-events.js';

test('delay notation', () => {
  const cases: Array<[number, string]> = [
    [0, '0'], [0.004, '0'], [0.02, '0.02'], [0.5, '0.5'], [0.514, '0.51'], [1.34, '1.3'], [1.0, '1'], [12.4, '12'], [123.6, '124'],
  ];
  for (const [x, want] of cases) assert.equal(formatDelay(x), want, String(x));
});

test('events match the observed Postfix lines', () => {
  const e = mtaEvents;
  const cases: Array<[string, string]> = [
    [e.smtpd.connect('localhost[127.0.0.1]'), 'connect from localhost[127.0.0.1]'],
    [
      e.smtpd.reject(undefined, 'RCPT', 'localhost[127.0.0.1]', '554 5.7.1 <x>: Relay access denied', {
        from: 'a@remote.test', to: 'x', proto: 'ESMTP', helo: 'client',
      }),
      'NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <x>: Relay access denied; from=<a@remote.test> to=<x> proto=ESMTP helo=<client>',
    ],
    [e.smtpd.client('A745520E479', 'localhost[127.0.0.1]'), 'A745520E479: client=localhost[127.0.0.1]'],
    [
      e.cleanup.messageId('A745520E479', '<20261127174239.A745520E479@mx.example.test>'),
      'A745520E479: message-id=<20261127174239.A745520E479@mx.example.test>',
    ],
    [e.qmgr.active('A745520E479', 'alice@virt.test', 329, 2), 'A745520E479: from=<alice@virt.test>, size=329, nrcpt=2 (queue active)'],
    [
      e.delivery.outcome({
        queueId: 'A745520E479', to: 'alice@virt.test', relay: 'none', delay: 0.02, delays: [0.01, 0.01, 0, 0],
        dsn: '4.4.1', status: 'deferred', reason: 'connect to mx.example.test[private/dovecot-lmtp]: No such file or directory',
      }),
      'A745520E479: to=<alice@virt.test>, relay=none, delay=0.02, delays=0.01/0.01/0/0, dsn=4.4.1, status=deferred (connect to mx.example.test[private/dovecot-lmtp]: No such file or directory)',
    ],
    [
      e.delivery.outcome({
        queueId: '6704620E29B', to: 'someone@mailname.example.org', origTo: 'someone', relay: 'none', delay: 0.06,
        delays: [0.05, 0.01, 0, 0], dsn: '2.0.0', status: 'sent', reason: 'x',
      }),
      '6704620E29B: to=<someone@mailname.example.org>, orig_to=<someone>, relay=none, delay=0.06, delays=0.05/0.01/0/0, dsn=2.0.0, status=sent (x)',
    ],
    [e.bounce.nonDelivery('A7FF120E47A', '6214920E4BF'), 'A7FF120E47A: sender non-delivery notification: 6214920E4BF'],
    [e.qmgr.removed('A7FF120E47A'), 'A7FF120E47A: removed'],
    [
      e.smtpd.disconnect('localhost[127.0.0.1]', [
        { name: 'ehlo', ok: 1, total: 1 }, { name: 'mail', ok: 1, total: 2 }, { name: 'rcpt', ok: 0, total: 4 },
        { name: 'data', ok: 0, total: 2 }, { name: 'unknown', ok: 0, total: 1 },
      ]),
      'disconnect from localhost[127.0.0.1] ehlo=1 mail=1/2 rcpt=0/4 data=0/2 unknown=0/1 commands=2/10',
    ],
    [
      e.smtpd.disconnect('localhost[127.0.0.1]', [{ name: 'ehlo', ok: 1, total: 1 }, { name: 'quit', ok: 1, total: 1 }]),
      'disconnect from localhost[127.0.0.1] ehlo=1 quit=1 commands=2',
    ],
    [e.smtpd.nonSmtpCommand('localhost[127.0.0.1]', 'Subject: t'), 'non-SMTP command from localhost[127.0.0.1]: Subject: t'],
    [e.pickup.accepted('E89C620E4FA', 0, 'alice@virt.test'), 'E89C620E4FA: uid=0 from=<alice@virt.test>'],
  ];
  for (const [got, want] of cases) assert.equal(got, want);
});

test("fail2ban's postfix-sasl pattern matches the SASL failure warning", () => {
  // From fail2ban config/filter.d/postfix.conf (mode "auth"): warning: host[ip]: SASL (LOGIN|PLAIN|…) authentication failed
  const line = `warning: ${mtaEvents.smtpd.saslFailed('unknown[192.0.2.7]', 'LOGIN', 'UGFzc3dvcmQ6')}`;
  const re = /warning: [-._\w]+\[(?<host>[^\]]+)\]: SASL ([Ll][Oo][Gg][Ii][Nn]|PLAIN|(?:CRAM|DIGEST)-MD5) authentication failed(:[ A-Za-z0-9+/:]*={0,2})?\s*$/;
  const m = re.exec(line);
  assert.ok(m, line);
  assert.equal(m.groups?.['host'], '192.0.2.7');
});
