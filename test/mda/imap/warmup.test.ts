/*
 * The IMAP warm-up (mda/imap/warmup.ts) in this process: its commands are all answered OK (a
 * warm-up that warmed error paths would be worse than none), it stops at its round limit, and it
 * leaves no temporary directory behind: not when it ends, not when its process exits in the middle,
 * and one left by a process killed outright is removed by the next warm-up. The daemon's side
 * (shards run it at start, silently) is in test/mda/worker/shards.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { authSettingsFromText } from '../../../mda/auth/settings.js';
import { imapSettingsFromText } from '../../../mda/imap/settings.js';
import { warmUpImap, warmUpText } from '../../../mda/imap/warmup.js';

const scratchDirs = (): string[] => readdirSync(tmpdir()).filter((e) => e.startsWith('postern-warmup-'));

test('warm-up: every command answered OK, bounded by its rounds, nothing left in the temporary directory', async () => {
  const before = new Set(scratchDirs());
  const imap = imapSettingsFromText({ login_greeting: 'Dovecot ready.', ssl: 'no' }, [{ name: 'Trash', specialUse: '\\Trash', auto: 'create' }]);
  const r = await warmUpImap({ imap, auth: authSettingsFromText({}), maxMs: 60_000, maxRounds: 4 });
  // A round is 17 to 20 commands (SORT, THREAD and EXAMINE in some; IDLE and its DONE count apart).
  assert.ok(r.commands >= 4 * 17 && r.commands <= 4 * 20, `${r.commands} commands`);
  assert.equal(r.failed, 0);
  assert.match(warmUpText(r), /^IMAP warm-up: \d+ commands \(0 failed\) in \d+ ms$/);
  assert.deepEqual(scratchDirs().filter((d) => !before.has(d)), []);
});

test('warm-up: the first command not answered OK ends it (no rounds on a state they were not written for)', async () => {
  // A line limit the round's fourth command (UID FETCH … BODY.PEEK[HEADER.FIELDS (…)]) is over:
  // answered BAD, and the warm-up stops there.
  const imap = imapSettingsFromText({ ssl: 'no', imap_max_line_length: '80' }, []);
  const r = await warmUpImap({ imap, auth: authSettingsFromText({}), maxMs: 60_000, maxRounds: 4 });
  assert.deepEqual([r.commands, r.failed], [4, 1]);
});

test('warm-up: a scratch directory left by a process that is gone is removed; a live process\'s is not', async (t) => {
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const orphan = mkdtempSync(join(tmpdir(), `postern-warmup-${dead}-`));
  const live = mkdtempSync(join(tmpdir(), `postern-warmup-${process.pid}-`));
  t.after(() => rmSync(live, { recursive: true, force: true }));
  t.after(() => rmSync(orphan, { recursive: true, force: true }));
  const imap = imapSettingsFromText({ login_greeting: 'Dovecot ready.', ssl: 'no' }, []);
  const r = await warmUpImap({ imap, auth: authSettingsFromText({}), maxMs: 60_000, maxRounds: 1 });
  assert.equal(r.failed, 0);
  assert.ok(!existsSync(orphan), 'the dead process\'s directory is gone');
  assert.ok(existsSync(live), 'a live process\'s directory stays');
});

test('warm-up: a process that exits in the middle of it (a shard stopped by SIGTERM) leaves no directory', async () => {
  const before = new Set(scratchDirs());
  const module = new URL('../../../mda/imap/warmup.js', import.meta.url).href;
  const settings = new URL('../../../mda/imap/settings.js', import.meta.url).href;
  const auth = new URL('../../../mda/auth/settings.js', import.meta.url).href;
  const script = `
    const { warmUpImap } = await import(${JSON.stringify(module)});
    const { imapSettingsFromText } = await import(${JSON.stringify(settings)});
    const { authSettingsFromText } = await import(${JSON.stringify(auth)});
    void warmUpImap({ imap: imapSettingsFromText({ ssl: 'no' }, []), auth: authSettingsFromText({}), maxMs: 60_000 });
    const { readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const mine = () => readdirSync(tmpdir()).filter((e) => e.startsWith('postern-warmup-' + process.pid + '-'));
    for (let i = 0; i < 200 && mine().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 300));
    process.stdout.write(String(mine().length));
    process.exit(0);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.stdout, '1', `the warm-up was running when the process exited: ${r.stderr}`);
  assert.deepEqual(scratchDirs().filter((d) => !before.has(d)), []);
});
