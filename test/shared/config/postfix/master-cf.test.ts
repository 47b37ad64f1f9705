/* master.cf parser: columns, continuation, -o forms, braces, service names, duplicates, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMasterCf, entryParams, effectiveServices, splitQuoted } from '../../../../shared/config/postfix/master-cf.js';
import { formatMasterEntry } from '../../../../shared/config/postfix/format.js';
import { ConfigSyntaxError } from '../../../../shared/errors/config-error.js';

const F = '/x/master.cf';
const entries: Array<[string, string[]]> = [
  ['smtp      inet  n       -       y       -       -       smtpd', ['smtp', 'inet', 'n', '-', 'y', '-', '-', 'smtpd']],
  ['relay unix - - y - - smtp\n  -o syslog_name=postfix/$service_name', ['relay', 'unix', '-', '-', 'y', '-', '-', 'smtp', '-o', 'syslog_name=postfix/$service_name']],
  ['sub inet n - n - - smtpd -o { smtpd_recipient_restrictions = permit_sasl_authenticated, reject }', ['sub', 'inet', 'n', '-', 'n', '-', '-', 'smtpd', '-o', 'smtpd_recipient_restrictions=permit_sasl_authenticated, reject']],
  ['x unix - - n - - smtpd -oa=b -vo c=d', ['x', 'unix', '-', '-', 'n', '-', '-', 'smtpd', '-o', 'a=b', '-v', '-o', 'c=d']],
  // Postfix's own quirk: an 'o' inside "-ofoo=bar" splits it again (observed with postconf -M).
  ['y unix - - n - - smtpd -ofoo=bar', ['y', 'unix', '-', '-', 'n', '-', '-', 'smtpd', '-o', 'f', '-o', '-o=bar']],
  ['d unix - n n - - pipe flags=R argv=/bin/x { -a b }', ['d', 'unix', '-', 'n', 'n', '-', '-', 'pipe', 'flags=R', 'argv=/bin/x', '-a b']],
  ['127.0.0.1:10025 inet n - n - - smtpd', ['127.0.0.1:10025', 'inet', 'n', '-', 'n', '-', '-', 'smtpd']],
  ['[::1]:10026 inet n - n - - smtpd', ['[::1]:10026', 'inet', 'n', '-', 'n', '-', '-', 'smtpd']],
  ['tlsmgr unix - - y 1000? 1 tlsmgr', ['tlsmgr', 'unix', '-', '-', 'y', '1000?', '1', 'tlsmgr']],
  ['postlog unix-dgram n - n - 1 postlogd', ['postlog', 'unix-dgram', 'n', '-', 'n', '-', '1', 'postlogd']],
  ['foo unix - - n - - some-internal-thing', ['foo', 'unix', '-', '-', 'n', '-', '-', 'some-internal-thing']],
];
for (const [text, argv] of entries) {
  test(`master.cf: ${text.split('\n')[0]}`, () => {
    const m = parseMasterCf(`# comment\n${text}\n`, F);
    assert.equal(m.entries.length, 1);
    assert.deepEqual(m.entries[0]?.argv, argv);
  });
}

const errors: Array<[string, string]> = [
  ['smtp inet n - y - -', `file ${F}: line 1: bad field count`],
  ['smtp tcp n - y - - smtpd', 'invalid type field "tcp" in "smtp tcp n - y - - smtpd"'],
  ['smtp inet x - y - - smtpd', 'invalid private field "x" in "smtp inet x - y - - smtpd"'],
  ['smtp inet n - y 1x - smtpd', 'invalid wakeup field "1x" in "smtp inet n - y 1x - smtpd"'],
  ['smtp inet n - y - z smtpd', 'invalid process_limit field "z" in "smtp inet n - y - z smtpd"'],
];
for (const [text, msg] of errors) {
  test(`master.cf error: ${text}`, () => {
    assert.throws(() => parseMasterCf(text, F), (e: unknown) => e instanceof ConfigSyntaxError && e.message === msg);
  });
}

test('-o parameters and last-duplicate-wins services', () => {
  const m = parseMasterCf('a unix - - n - - smtp -o x=1 -o y=2 -o x=3\nb unix - - n - - lmtp\na unix - - n - - smtp -o z=9\n', F);
  assert.deepEqual(Object.fromEntries(entryParams(m.entries[0]?.argv ?? [])), { x: '3', y: '2' });
  const eff = effectiveServices(m);
  assert.deepEqual(eff.map((e) => [e.argv[0], e.line]), [['b', 2], ['a', 3]]);
});

test('splitQuoted keeps braces together', () => {
  assert.deepEqual(splitQuoted('a {b c} d{e f}g'), ['a', '{b c}', 'd{e f}g']);
});

test('-M layout and -Mf folding', () => {
  const argv = ['maildrop', 'unix', '-', 'n', 'n', '-', '-', 'pipe', 'flags=DRXhu', 'user=vmail', 'argv=/usr/bin/maildrop', '-d', '${recipient}'];
  assert.equal(formatMasterEntry(argv, false), 'maildrop   unix  -       n       n       -       -       pipe flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n');
  assert.equal(formatMasterEntry(argv, true), 'maildrop   unix  -       n       n       -       -       pipe flags=DRXhu\n    user=vmail argv=/usr/bin/maildrop -d ${recipient}\n');
  const relay = ['relay', 'unix', '-', '-', 'y', '-', '-', 'smtp', '-o', 'syslog_name=postfix/$service_name'];
  assert.equal(formatMasterEntry(relay, true), 'relay      unix  -       -       y       -       -       smtp\n    -o syslog_name=postfix/$service_name\n');
  assert.equal(formatMasterEntry(['postlog', 'unix-dgram', 'n', '-', 'n', '-', '1', 'postlogd'], false), 'postlog    unix-dgram n  -       n       -       1       postlogd\n');
});
