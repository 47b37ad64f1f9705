/* Table tests for Dovecot 2.3 `%` expansion. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { expandVars, expandVarsChecked, userVars } from '../../../../shared/config/dovecot/var-expand.js';

const V = { ...userVars('John.Doe@Example.COM'), h: '/var/vmail/example.com/john', s: 'imap', l: '192.0.2.1', r: '198.51.100.7', p: '4242', i: '5000', session: 'AbCd', hostname: 'mx1' };

const ROWS: ReadonlyArray<readonly [string, string]> = [
  ['%u', 'John.Doe@Example.COM'],
  ['%n', 'John.Doe'],
  ['%d', 'Example.COM'],
  ['%h/Maildir', '/var/vmail/example.com/john/Maildir'],
  ['%s %l %r %p %i', 'imap 192.0.2.1 198.51.100.7 4242 5000'],
  ['%%u', '%u'],
  ['100%%', '100%'],
  ['%{user} %{username} %{domain} %{home}', 'John.Doe@Example.COM John.Doe Example.COM /var/vmail/example.com/john'],
  ['%{service} %{lip} %{local_ip} %{rip} %{remote_ip} %{pid} %{uid}', 'imap 192.0.2.1 192.0.2.1 198.51.100.7 198.51.100.7 4242 5000'],
  ['%{session} %{hostname}', 'AbCd mx1'],
  ['%Lu', 'john.doe@example.com'],
  ['%Ud', 'EXAMPLE.COM'],
  ['%L{user}', 'john.doe@example.com'],
  ['%Ln@%Ld', 'john.doe@example.com'],
  ['%1n', 'J'],
  ['%3n', 'Joh'],
  ['%2.1n', 'h'],
  ['%1.3n', 'ohn'],
  ['%-2.2i', '00'],
  ['%-3i', '000'],
  ['%08Xi', '00001388'],
  ['%Xi', '1388'],
  ['%Rn', 'eoD.nhoJ'],
  ['%Md', createHash('md5').update('Example.COM').digest('hex')],
  ['%{md5:user}', createHash('md5').update('John.Doe@Example.COM').digest('hex')],
  ['%LDd', 'dc=example,dc=com'],
  ['%Ed', 'Example.COM'],
  ['%{if;%d;ne;;%d;none}', 'Example.COM'],
  ['%{if;%i;>;1000;big;small}', 'big'],
  ['%{if;%s;eq;pop3;P;I}', 'I'],
  ['maildir:/var/vmail/%d/%n', 'maildir:/var/vmail/Example.COM/John.Doe'],
  ['%', '%'],
];

for (const [tpl, want] of ROWS) {
  test(`expandVars ${JSON.stringify(tpl)}`, () => {
    assert.equal(expandVars(tpl, V), want);
  });
}

test('unknown variables stay as written and are reported', () => {
  const r = expandVarsChecked('%z %{nosuch} %u', { u: 'a' });
  assert.equal(r.value, '%z %{nosuch} a');
  assert.deepEqual(r.unknown, ['z', 'nosuch']);
});

test('a known variable without a value expands to nothing', () => {
  assert.equal(expandVars('[%d]', userVars('bare')), '[]');
  assert.equal(expandVars('[%h]', {}), '[]');
});

test('%{env:NAME} reads the given environment only', () => {
  assert.equal(expandVarsChecked('%{env:HOME}', {}, { HOME: '/root' }).value, '/root');
  assert.equal(expandVars('%{env:HOME}', {}), '');
});

test('%H and %N hash, modulo the width', () => {
  const h = expandVars('%Hu', { u: 'user' });
  assert.match(h, /^[0-9a-f]+$/);
  const n = Number.parseInt(expandVars('%4Nu', { u: 'user' }), 16);
  assert.ok(n >= 0 && n < 4);
});

test('userVars splits at the first @', () => {
  assert.deepEqual(userVars('a@b@c'), { u: 'a@b@c', n: 'a', d: 'b@c' });
});
