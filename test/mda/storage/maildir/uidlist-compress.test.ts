/*
 * dovecot-uidlist after expunges, against real Dovecot 2.3: an expunge leaves its record in the
 * file, and a sync drops the dead records once the live ones are at most 75 % of all
 * (maildir-uidlist.c UIDLIST_COMPRESS_PERCENTAGE; mda/storage/maildir/mailbox.ts). Dovecot builds
 * the state; then Dovecot and our backend each sync an identical copy of it, and must leave the
 * same records and the same next UID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { oracleSkip } from '../../../helpers/oracle.js';
import { createDovecotInstance, type DovecotInstance } from '../../../helpers/dovecot-instance.js';
import { tempDir } from '../../../helpers/tmp.js';
import { openMailStore } from '../../../../mda/storage/api.js';

const skip = oracleSkip('doveadm');

function records(maildir: string): { next: string; uids: number[] } {
  const [header, ...lines] = readFileSync(join(maildir, 'dovecot-uidlist'), 'utf8').split('\n').filter(Boolean);
  return { next: / (N\d+) /.exec(`${header!} `)![1]!, uids: lines.map((l) => Number(l.split(' ')[0])) };
}

/** Dovecot with 8 messages (UIDs 1-8), then `n` sessions that each expunge the first message. */
function dovecotAfterExpunges(t: import('node:test').TestContext, n: number): DovecotInstance {
  const dc = createDovecotInstance(t);
  dc.addMessages(Array.from({ length: 8 }, (_, i) => ({ base: `m${i}`, bytes: Buffer.from(`Subject: ${i}\r\n\r\nbody ${i}\r\n`) })));
  dc.imap('a SELECT INBOX\r\nb LOGOUT\r\n');
  for (let i = 0; i < n; i++) dc.imap('a SELECT INBOX\r\nb STORE 1 +FLAGS (\\Deleted)\r\nc EXPUNGE\r\nd LOGOUT\r\n');
  return dc;
}

/** Our backend opens a copy of `maildir` read-write (one sync); its messages' UIDs and the copy's path. */
async function oursSync(t: import('node:test').TestContext, maildir: string): Promise<{ live: number[]; copy: string }> {
  const copy = join(tempDir(t, 'postern-uidlist-'), 'Maildir');
  cpSync(maildir, copy, { recursive: true });
  const store = await openMailStore({ mailLocation: `maildir:${copy}`, user: 'u1', hostname: 'postern' });
  try {
    const v = await store.openMailbox('INBOX', { readOnly: false });
    const uids = v.messages().map((m) => m.uid);
    await v.close();
    return { live: uids, copy };
  } finally {
    await store.close();
  }
}

for (const expunged of [1, 2]) {
  test(`after ${expunged} expunge(s) of 8 messages, our sync leaves dovecot-uidlist as Dovecot's does`, { skip }, async (t) => {
    const dc = dovecotAfterExpunges(t, expunged);
    // Dovecot's expunging sessions leave every record in the file.
    assert.deepEqual(records(dc.maildir).uids, [1, 2, 3, 4, 5, 6, 7, 8]);
    const { live, copy } = await oursSync(t, dc.maildir);
    const ours = records(copy);
    dc.imap('a SELECT INBOX\r\nb LOGOUT\r\n');
    const theirs = records(dc.maildir);
    assert.deepEqual(ours, theirs);
    assert.deepEqual(live, [1, 2, 3, 4, 5, 6, 7, 8].slice(expunged));
    // 1 dead of 8: kept; 2 dead of 8 (live 6 = 75 %): compressed.
    assert.deepEqual(theirs.uids, expunged === 1 ? [1, 2, 3, 4, 5, 6, 7, 8] : [3, 4, 5, 6, 7, 8]);
  });
}
