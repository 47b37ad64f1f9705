/*
 * Four sessions of one user sending random commands at once, mailbox management among them
 * (CREATE, DELETE and RENAME of one mailbox, COPY, MOVE and APPEND into it, SELECT and STATUS of
 * it). Races are answered as what they are: `NO [NONEXISTENT]`/`[TRYCREATE]` for a mailbox gone,
 * `NO [ALREADYEXISTS]` for a name taken, and for a session whose selected mailbox was deleted (or
 * replaced by a new one of its name) Dovecot's `* BYE IMAP session state is inconsistent`. Never
 * an internal error or a log line at error level. Run with a store per session (as separate
 * processes) and with one shared store (as sessions in one mail worker). Then every session still
 * open sees what a new session sees.
 *
 * Dovecot 2.3.19 under the same script answers several of these races with NO [SERVERBUG] and
 * logs errors (seen in a scratch run against a private instance); so did we before this test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msg, startTestServer, TestClient } from './harness.js';
import { rng } from '../../../helpers/rng.js';

const BOXES = ['INBOX', 'Other', 'Third'] as const;

function command(r: () => number, n: number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const seq = 1 + Math.floor(r() * 10);
  const range = pick([`${seq}`, `${seq}:*`, '1:*']);
  const flag = pick(['\\Seen', '\\Flagged', '\\Deleted', '$Work']);
  const m = msg(`a${n}`);
  return pick([
    'NOOP', `STORE ${range} +FLAGS (${flag})`, `STORE ${range} -FLAGS.SILENT (${flag})`, 'EXPUNGE', 'CLOSE',
    `APPEND ${pick(BOXES)} (${flag}) {${Buffer.byteLength(m)}+}\r\n${m}`,
    `MOVE ${range} ${pick(BOXES)}`, `COPY ${range} ${pick(BOXES)}`,
    `FETCH ${range} (UID FLAGS BODY.PEEK[HEADER])`, 'UID SEARCH UNSEEN',
    `STATUS ${pick(BOXES)} (MESSAGES UIDNEXT)`, `SELECT ${pick(BOXES)}`, `EXAMINE ${pick(BOXES)}`, 'LIST "" "*"',
    `RENAME Third Third${n}`, `RENAME Third${n - 1} Third`, 'CREATE Third', 'DELETE Third', 'CREATE Third', 'DELETE Third',
  ]);
}

/** Replies a race (or a random script: STORE in an EXAMINEd mailbox) may give; anything else tagged NO or BAD, or any other BYE, is a failure. */
const RACE_REPLY = /^p\S+ (OK|NO \[(NONEXISTENT|TRYCREATE|ALREADYEXISTS|EXPUNGEISSUED)\]|NO \[NOPERM\] Mailbox is read-only|NO Mailbox doesn't exist|NO Mailbox was deleted under us|NO No messages found|BAD Error in IMAP command \S+: Invalid messageset|BAD No mailbox selected)/;

for (const sharedStores of [false, true]) {
  for (const seed of [1, 2]) {
    test(`four sessions racing on one mailbox (seed ${seed}, ${sharedStores ? 'one shared store' : 'a store each'}): only race replies, no server error`, async (t) => {
      const s = await startTestServer(t, { sharedStores });
      const store = await s.store('u1');
      for (let i = 0; i < 8; i++) await store.deliver('INBOX', Buffer.from(msg(`m${i}`)));
      const clients: TestClient[] = [];
      for (let i = 0; i < 4; i++) {
        const c = await TestClient.connect(s.port);
        t.after(() => c.close());
        await c.login();
        clients.push(c);
      }
      await clients[0]!.cmd('c0', 'CREATE Other');
      await clients[0]!.cmd('c1', 'CREATE Third');
      for (const [i, c] of clients.entries()) await c.cmd(`s${i}`, i === 3 ? 'SELECT Third' : 'SELECT INBOX');
      const r = rng(seed);
      let n = 0;
      const outs = await Promise.all(clients.map(async (c, k) => {
        const out: string[] = [];
        for (let round = 0; round < 4; round++) {
          const last = `p${k}r${round}x24`;
          for (let i = 0; i < 25; i++) c.send(`p${k}r${round}x${i} ${command(r, n++)}\r\n`);
          for (;;) {
            const l = await c.line(30_000).catch(() => undefined);
            if (l === undefined) return out; // closed after its BYE
            out.push(l);
            if (l.startsWith(`${last} `)) break;
          }
        }
        return out;
      }));
      const all = outs.flat();
      const wrong = all.filter((l) => (/^p\S+ /.test(l) && !RACE_REPLY.test(l)) || (l.startsWith('* BYE ') && l !== '* BYE IMAP session state is inconsistent, please relogin.'));
      const errors = s.logs.filter((l) => /: (Error|Panic|Fatal): /.test(l));
      assert.deepEqual(wrong, [], errors.join('\n'));
      assert.deepEqual(errors, []);
      // Not vacuous: the mailbox was deleted and created again under the other sessions.
      assert.ok(all.some((l) => /^p\S+ OK Delete completed/.test(l)) && all.some((l) => /^p\S+ OK Create completed/.test(l)));
      const fresh = await TestClient.connect(s.port);
      t.after(() => fresh.close());
      await fresh.login();
      const strip = (lines: string[]) => lines.filter((l) => l.startsWith('* ') && l.includes(' FETCH ')).map((l) => l.replace(/\\Recent ?/, '').replace(/ \)/, ')').replace(/^\* [0-9]+ /, '* '));
      for (const box of ['INBOX', 'Other']) {
        await fresh.cmd('f0', `EXAMINE ${box}`);
        const want = strip(await fresh.cmd('f1', 'UID FETCH 1:* (FLAGS)'));
        for (const [k, c] of clients.entries()) {
          if (c.closed) continue;
          await c.cmd(`e${k}`, `EXAMINE ${box}`);
          assert.deepEqual(strip(await c.cmd(`f${k}`, 'UID FETCH 1:* (FLAGS)')), want, `session ${k}, ${box}`);
        }
      }
    });
  }
}
