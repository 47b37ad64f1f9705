/*
 * Change notification for IDLE (mda/storage/maildir/watch.ts): another process's file in new/
 * reaches a listener through fs.watch; a mailbox's watchers outlive its last listener for
 * WATCH_LINGER_MS, so the next IDLE reuses them (and still hears changes), and are closed after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { notifyMailboxChanged, watchedMailboxes, watchMailbox, WATCH_LINGER_MS } from '../../../../mda/storage/maildir/watch.js';
import { tempDir } from '../../../helpers/tmp.js';

function maildir(t: Parameters<typeof tempDir>[0]): string {
  const dir = join(tempDir(t, 'postern-watch-'), 'Maildir');
  for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  return dir;
}

/** Resolves at the listener's next call, or with false after `ms`. */
function nextCall(subscribe: (l: () => void) => () => void, ms = 3000): { called: Promise<boolean>; stop: () => void } {
  let stop = (): void => undefined;
  const called = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    stop = subscribe(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  return { called, stop };
}

test('a watch reused within the linger still hears another process\'s delivery', async (t) => {
  const dir = maildir(t);
  const before = watchedMailboxes();
  const first = nextCall((l) => watchMailbox(dir, l));
  first.stop();
  assert.equal(watchedMailboxes(), before + 1, 'the watchers linger after the last listener left');
  const second = nextCall((l) => watchMailbox(dir, l));
  writeFileSync(join(dir, 'new', '1700000000.M1P1.otherhost'), 'From: a@b\n\nx\n');
  assert.equal(await second.called, true, 'a file another process put in new/ was not noticed');
  second.stop();
});

test('without listeners nothing is called; the watchers close once the linger is over', async (t) => {
  const dir = maildir(t);
  const before = watchedMailboxes();
  let calls = 0;
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const stop = watchMailbox(dir, () => void calls++);
  stop();
  notifyMailboxChanged(dir);
  t.mock.timers.tick(WATCH_LINGER_MS - 1);
  assert.equal(calls, 0, 'a listener that left was called');
  assert.equal(watchedMailboxes(), before + 1);
  t.mock.timers.tick(1);
  assert.equal(watchedMailboxes(), before, 'the lingering watchers were not closed');
});
