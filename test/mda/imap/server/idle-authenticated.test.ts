/*
 * IDLE in the authenticated state (no mailbox selected), which Dovecot allows: `+ idling`, then
 * DONE ends it with `OK Idle completed.` and the session goes on. It once spun: with no mailbox,
 * IDLE's start check counted as "changed", and the wait for a change resolved at once in a loop of
 * microtasks, so the process never read DONE again and ran at 100 % CPU (any logged-in user could
 * do it). The server runs in a child process here, so that such a loop fails this test by its
 * timeout instead of hanging the test runner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('IDLE without a selected mailbox: DONE ends it, the session serves on', () => {
  const harness = new URL('./harness.js', import.meta.url).href;
  const script = `
    const { startTestServer, TestClient, untimed } = await import(${JSON.stringify(harness)});
    const cleanups = [];
    const s = await startTestServer({ after: (f) => cleanups.push(f) }, {});
    const a = await TestClient.connect(s.port);
    await a.login();
    const out = [];
    a.send('i IDLE\\r\\n');
    out.push(await a.line());
    a.send('DONE\\r\\n');
    out.push(...(await a.until('i')).map(untimed));
    out.push(...(await a.cmd('s', 'SELECT INBOX')).map(untimed).filter((l) => l.startsWith('s ')));
    a.send('j IDLE\\r\\n');
    out.push(await a.line());
    a.send('DONE\\r\\n');
    out.push(...(await a.until('j')).map(untimed));
    a.close();
    for (const f of cleanups.reverse()) await f();
    console.log(JSON.stringify(out));
    process.exit(0);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, 'the server process ended in time (not killed by the timeout)');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), [
    '+ idling',
    'i OK Idle completed.',
    's OK [READ-WRITE] Select completed.',
    '+ idling',
    'j OK Idle completed.',
  ]);
});
