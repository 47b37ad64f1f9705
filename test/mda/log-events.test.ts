import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mdaEvents } from '../../mda/log-events.js';
import { loginDisconnectReason } from '../../mda/imap/session.js';

test('Dovecot login lines', () => {
  assert.equal(
    mdaEvents.login.success({ user: 'alice', method: 'PLAIN', rip: '127.0.0.1', lip: '127.0.0.1', mpid: 1234, tls: false, secured: true, session: 'abc' }),
    'Login: user=<alice>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=1234, secured, session=<abc>',
  );
  assert.equal(
    mdaEvents.login.success({ user: 'bob', method: 'LOGIN', rip: '192.0.2.1', lip: '192.0.2.2', mpid: 7, tls: true, secured: true, session: 'x' }),
    'Login: user=<bob>, method=LOGIN, rip=192.0.2.1, lip=192.0.2.2, mpid=7, TLS, session=<x>',
  );
});

test("fail2ban's dovecot filter matches our auth-failure line", () => {
  const text = mdaEvents.login.disconnected({
    reason: 'Connection closed', detail: 'auth failed, 1 attempts in 2 secs', user: 'alice', method: 'PLAIN', rip: '192.0.2.9', lip: '192.0.2.1',
    tls: false, secured: false, session: 'q1',
  });
  const line = `Nov 27 17:41:14 imap-login: Info: ${text}`;
  assert.equal(text, 'Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1, session=<q1>');
  // The core of fail2ban's filter.d/dovecot.conf failregex for login processes.
  const re = /(?:imap|pop3|managesieve|submission)-login: (?:Info: )?(?:Aborted login|Disconnected|Remote closed connection|Client has quit the connection)(?::(?: [^ \(]+)+)? \((?:auth failed, \d+ attempts(?: in \d+ secs)?|tried to use (?:disabled|disallowed) \S+ auth|proxy dest auth failed)\):(?: user=<[^>]*>,)?(?: method=\S+,)? rip=(?<host>[0-9a-f.:]+)(?:[^>]*(?:, session=<\S+>)?)\s*$/;
  const m = re.exec(line);
  assert.ok(m, line);
  assert.equal(m.groups?.['host'], '192.0.2.9');
});

// Lines observed from Dovecot 2.3.19's imap-login on loopback (the session ids aside).
test('login disconnect lines as imap-login writes them', () => {
  const base = { user: '', rip: '127.0.0.1', lip: '127.0.0.1', tls: false, secured: true, session: 's' };
  const cases: [string, string, string][] = [
    ['Connection closed', 'no auth attempts in 0 secs', 'Disconnected: Connection closed (no auth attempts in 0 secs): user=<>, rip=127.0.0.1, lip=127.0.0.1, secured, session=<s>'],
    ['Logged out', 'no auth attempts in 0 secs', 'Disconnected: Aborted login by logging out (no auth attempts in 0 secs): user=<>, rip=127.0.0.1, lip=127.0.0.1, secured, session=<s>'],
    ['Shutting down', 'no auth attempts in 1 secs', 'Disconnected: Shutting down (no auth attempts in 1 secs): user=<>, rip=127.0.0.1, lip=127.0.0.1, secured, session=<s>'],
    ['Disconnected for inactivity', 'no auth attempts in 180 secs', 'Disconnected: Inactivity (no auth attempts in 180 secs): user=<>, rip=127.0.0.1, lip=127.0.0.1, secured, session=<s>'],
  ];
  for (const [reason, detail, want] of cases) {
    assert.equal(mdaEvents.login.disconnected({ ...base, reason: loginDisconnectReason(reason), detail }), want, reason);
  }
});
