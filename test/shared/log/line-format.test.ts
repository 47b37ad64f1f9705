import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strftime } from '../../../shared/log/strftime.js';
import { formatDovecotLine, formatPostfixLine, logSafe } from '../../../shared/log/line-format.js';
import { dovecotLogger, postfixLogger } from '../../../shared/log/logger.js';
import { memorySink, openLogSink } from '../../../shared/log/sink.js';
import { tempDir } from '../../helpers/tmp.js';

// Local time: build dates from components so the test holds in any TZ.
const t1 = new Date(2026, 10, 7, 7, 2, 9); // Nov 07 07:02:09

test('strftime conversions used by Postfix and Dovecot time stamps', () => {
  const cases: Array<[string, string]> = [
    ['%b %d %H:%M:%S ', 'Nov 07 07:02:09 '],
    ['%e', ' 7'],
    ['%Y-%m-%d', '2026-11-07'],
    ['%F %T', '2026-11-07 07:02:09'],
    ['%j', '311'],
    ['100%%', '100%'],
    ['%Q', '%Q'],
    ['trailing %', 'trailing %'],
  ];
  for (const [fmt, want] of cases) assert.equal(strftime(fmt, t1), want, fmt);
});

test('Postfix line: first host label, severity after the pid, control characters made safe', () => {
  const base = { time: t1, host: 'mx.example.test', progname: 'postfix/smtpd', pid: 15672 } as const;
  assert.equal(
    formatPostfixLine({ ...base, severity: 'info', text: 'connect from localhost[127.0.0.1]' }),
    'Nov 07 07:02:09 mx postfix/smtpd[15672]: connect from localhost[127.0.0.1]',
  );
  assert.equal(
    formatPostfixLine({ ...base, severity: 'warning', text: 'non-SMTP command from x[1.2.3.4]: Subject: t' }),
    'Nov 07 07:02:09 mx postfix/smtpd[15672]: warning: non-SMTP command from x[1.2.3.4]: Subject: t',
  );
  assert.equal(logSafe('a\r\nb\x00c\td'), 'a??b?c\td');
});

test('Dovecot line: log_timestamp, prefix, level word', () => {
  assert.equal(
    formatDovecotLine({ time: t1, timestamp: '%b %d %H:%M:%S ', prefix: 'imap-login', level: 'Info', text: 'Login: user=<a>' }),
    'Nov 07 07:02:09 imap-login: Info: Login: user=<a>',
  );
});

test('postfixLogger writes syslog_name/program[pid] lines to its sink', () => {
  const sink = memorySink();
  const log = postfixLogger({ sink, host: 'mx.example.test', syslogName: 'postfix/submission', program: 'smtpd', pid: 42, now: () => t1 });
  log.info('connect from a[127.0.0.1]');
  log.error('queue file write error');
  assert.deepEqual(sink.lines, [
    'Nov 07 07:02:09 mx postfix/submission/smtpd[42]: connect from a[127.0.0.1]',
    'Nov 07 07:02:09 mx postfix/submission/smtpd[42]: error: queue file write error',
  ]);
});

test('dovecotLogger routes info and errors to their own paths', () => {
  const errors = memorySink();
  const infos = memorySink();
  const forPrefix = dovecotLogger({ errorSink: errors, infoSink: infos, debugSink: infos, timestamp: '', now: () => t1 });
  const log = forPrefix('auth');
  log.info('passwd-file(a,127.0.0.1): unknown user');
  log.error('passwd-file /x: open failed');
  assert.deepEqual(infos.lines, ['auth: Info: passwd-file(a,127.0.0.1): unknown user']);
  assert.deepEqual(errors.lines, ['auth: Error: passwd-file /x: open failed']);
});

test('a file sink appends lines through winston and flushes on close', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'maillog');
  const sink = openLogSink(path);
  sink.write('one');
  sink.write('two');
  await sink.close();
  const again = openLogSink(path);
  again.write('three');
  await again.close();
  assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\nthree\n');
});

test('a file sink keeps lines written after close, in order, without a write-after-end error', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'maillog');
  const sink = openLogSink(path);
  sink.write('one');
  const closing = sink.close();
  sink.write('late');
  await closing;
  sink.write('later');
  await new Promise((r) => setImmediate(r));
  assert.equal(readFileSync(path, 'utf8'), 'one\nlate\nlater\n');
});
