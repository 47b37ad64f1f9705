/*
 * A private opendkim for tests: writes NAME.conf in DIR (the given settings plus a loopback inet
 * socket on a free port, a pid file, no syslog), runs `opendkim -f -x` in the foreground, waits for
 * the socket, and stops it when the test ends. Returns the milter spec (`inet:127.0.0.1:PORT`).
 */
import type { TestContext } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { findOracle } from '../../helpers/oracle.js';
import { freePort } from '../../helpers/free-port.js';

export async function startOpendkim(t: TestContext, dir: string, name: string, conf: string): Promise<string> {
  const port = await freePort();
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, `${conf}\nSocket inet:${port}@127.0.0.1\nPidFile ${join(dir, `${name}.pid`)}\nSyslog no\nLogWhy yes\nRequireSafeKeys false\nUMask 007\n`);
  const child: ChildProcess = spawn(findOracle('opendkim')!, ['-f', '-x', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
  const end = Date.now() + 15_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > end) throw new Error(`opendkim ${name} did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return `inet:127.0.0.1:${port}`;
}

