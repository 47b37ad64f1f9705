/*
 * postfix(1) when the daemon is down, worded as the real postfix-script 3.7.11 prints it (observed on
 * a temporary configuration): status/stop/reload/abort, flush through postqueue, unknown commands.
 * The running-daemon cases are in test/mta/main-daemon.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { postfixMain } from '../../../mta/cli/postfix.js';
import { formatPidFile } from '../../../mta/main.js';
import { tempDir } from '../../helpers/tmp.js';

async function run(dir: string, ...args: string[]): Promise<{ status: number; err: string }> {
  let err = '';
  const status = await postfixMain(['-c', join(dir, 'etc'), ...args], { stderr: (s) => (err += s), env: {} });
  return { status, err };
}

function config(dir: string): void {
  mkdirSync(join(dir, 'etc'));
  mkdirSync(join(dir, 'q', 'pid'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'main.cf'), `queue_directory = ${dir}/q\nmyhostname = mx.test.example\nmaillog_file = ${dir}/maillog\n`);
  writeFileSync(join(dir, 'etc', 'master.cf'), 'lmtp unix - - n - - lmtp\n');
}

test('down: status 1, stop/reload/abort fatal 1, flush 69, unknown command', async (t) => {
  const dir = tempDir(t);
  config(dir);
  assert.deepEqual(await run(dir, 'status'), { status: 1, err: 'postfix/postfix-script: the Postfix mail system is not running\n' });
  for (const c of ['stop', 'reload', 'abort']) {
    assert.deepEqual(await run(dir, c), { status: 1, err: 'postfix/postfix-script: fatal: the Postfix mail system is not running\n' });
  }
  assert.deepEqual(await run(dir, 'flush'), {
    status: 69,
    err: 'postqueue: warning: unable to look up public/postern-qmgr: No such file or directory\npostqueue: fatal: Cannot flush mail queue - mail system is down\n',
  });
  assert.deepEqual(await run(dir, 'bogus'), {
    status: 1,
    err: "postfix/postfix-script: fatal: unknown command: 'bogus'. Usage: postfix start (or stop, reload, abort, flush, check, status, set-permissions, upgrade-configuration, logrotate)\n",
  });
  assert.deepEqual(await run(dir, 'check'), { status: 0, err: '' });
});

test('a stale pid file of a dead process means not running; a live one means running', async (t) => {
  const dir = tempDir(t);
  config(dir);
  writeFileSync(join(dir, 'q', 'pid', 'master.pid'), formatPidFile(2 ** 22 + 12345));
  assert.equal((await run(dir, 'status')).status, 1);
  writeFileSync(join(dir, 'q', 'pid', 'master.pid'), formatPidFile(process.pid));
  assert.deepEqual(await run(dir, 'status'), { status: 0, err: `postfix/postfix-script: the Postfix mail system is running: PID: ${process.pid}\n` });
  assert.equal(formatPidFile(42), `${' '.repeat(30)}42\n`);
});
