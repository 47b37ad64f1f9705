/* Real clients against Postern's smtpd: Python's smtplib and swaks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startOurs } from './harness.js';

/** Runs a client asynchronously: the server under test lives in this process's event loop. */
function run(cmd: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const PY = `
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
code, msg = s.ehlo('py.example')
print(code, 'chunking' in s.esmtp_features, 'pipelining' in s.esmtp_features)
print(s.sendmail('a@remote.example', ['u@test.example'], 'Subject: py\\r\\n\\r\\nbody\\r\\n.leading dot\\r\\n'))
try:
    s.sendmail('a@remote.example', ['x@elsewhere.example'], 'x')
except smtplib.SMTPRecipientsRefused as e:
    print(list(e.recipients.values())[0])
print(s.verify('u@test.example'))
s.quit()
`;

test('Python smtplib sends a message, sees a refused relay and VRFY', async (t) => {
  const o = await startOurs(t);
  const r = await run('python3', ['-c', PY, String(o.port)]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines, [
    '250 True True', '{}', "(454, b'4.7.1 <x@elsewhere.example>: Relay access denied')", "(252, b'2.0.0 u@test.example')",
  ]);
  assert.equal(o.cleanup.submitted[0]!.content.toString(), 'Subject: py\r\n\r\nbody\r\n.leading dot\r\n');
});

test('swaks: plain and pipelined submissions', { skip: existsSync('/usr/bin/swaks') ? false : 'swaks not installed' }, async (t) => {
  const o = await startOurs(t);
  for (const extra of [[], ['--pipeline'], ['--quit-after', 'DATA'].slice(0, 0)]) {
    const r = await run('/usr/bin/swaks', ['--server', '127.0.0.1', '--port', String(o.port), '--from', 'a@remote.example', '--to', 'u@test.example', '--helo', 'swaks.example', ...extra]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /<-  250 2\.0\.0 Ok: queued as [0-9A-F]+/);
  }
  assert.equal(o.cleanup.submitted.length, 3);
});
