/*
 * The IMAP warm-up (mda/imap/warmup.ts) in this process: its commands are all answered OK (a
 * warm-up that warmed error paths would be worse than none), it stops at its round limit, and it
 * leaves no temporary directory behind. The daemon's side (shards run it at start, silently) is in
 * test/mda/worker/shards.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
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
