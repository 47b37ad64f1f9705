/*
 * INTEROP: how many invalid commands a session may send, against the real Dovecot 2.3 (a private
 * daemon with imap-login). The same scripts go to both servers, one command at a time, and the
 * replies must be the same line for line (timings removed), including where the connection ends:
 *  - before login every BAD counts and nothing resets the count; the third is answered by
 *    `* BYE Too many invalid IMAP commands.` alone;
 *  - after login only command errors (`BAD Error in IMAP command …`) count, any other reply
 *    (`BAD No mailbox selected` too) resets the count, and the twentieth command error is answered
 *    and followed by the BYE;
 *  - a selected mailbox deleted by another session: a command that needs its files gets
 *    `NO Mailbox was deleted under us.` (FETCH of a body: `* BYE FETCH failed: …`), and the next
 *    sync ends the session with `* BYE IMAP session state is inconsistent, please relogin.`, logged
 *    as `Disconnected: … in=…` (every later command failed with NO [SERVERBUG] before); IDLE
 *    syncs as it starts, so it notices too.
 * Dovecot's answers are produced at test time, never stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startImapDovecot } from '../../../helpers/dovecot-daemon.js';
import { oracleSkip } from '../../../helpers/oracle.js';
import { startTestServer, TestClient, untimed } from './harness.js';

const asRoot = process.getuid?.() === 0;
const skip = oracleSkip('dovecot') || (asRoot ? false : 'needs root to start a private Dovecot');

const unknown = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i} FOO`);

/** Scripts of commands; `LOGIN` logs in as u1 first. */
const SCRIPTS: { name: string; login: boolean; commands: string[] }[] = [
  { name: 'three bad before login', login: false, commands: ['1 X', '2 Y', '3 Z', '4 NOOP'] },
  { name: 'a good one between bad ones before login', login: false, commands: ['1 X', 'g NOOP', '2 Y', '3 Z', '4 NOOP'] },
  { name: 'twenty unknown after login', login: true, commands: [...unknown(20, 'f'), 'z NOOP'] },
  { name: 'a BAD No mailbox selected resets the count', login: true, commands: [...unknown(10, 'f'), 'n FETCH 1 FLAGS', ...unknown(15, 'g'), 'z NOOP'] },
  { name: 'a NO resets the count', login: true, commands: [...unknown(10, 'f'), 'n SELECT nosuch', ...unknown(15, 'g'), 'z NOOP'] },
  { name: 'argument errors count', login: true, commands: [...Array.from({ length: 20 }, (_, i) => `s${i} SELECT`), 'z NOOP'] },
  { name: 'an empty mailbox\'s invalid message sets count', login: true, commands: ['s SELECT INBOX', ...Array.from({ length: 20 }, (_, i) => `m${i} FETCH 99 FLAGS`), 'z NOOP'] },
];

/** Runs `script` and returns the replies (untagged lines that depend on the mailbox left out) up to the end or the close. */
async function run(port: number, script: (typeof SCRIPTS)[number]): Promise<string[]> {
  const c = await TestClient.connect(port);
  try {
    if (script.login) await c.login();
    const out: string[] = [];
    for (const line of script.commands) {
      const tag = line.split(' ')[0]!;
      c.send(`${line}\r\n`);
      let l: string | undefined;
      do {
        // A read that fails is the server closing the connection.
        l = await c.line(5000).catch(() => undefined);
        out.push(l === undefined ? '(closed)' : untimed(l));
      } while (l !== undefined && !l.startsWith(`${tag} `));
      if (l === undefined) break;
    }
    return out.filter((l) => !/^\* (OK|FLAGS|[0-9]+ (EXISTS|RECENT))/.test(l));
  } finally {
    c.close();
  }
}

/** A private Dovecot with imap-login, user u1 (password secret), Dovecot's upstream greeting as the harness's. */
function realDovecot(t: Parameters<typeof startTestServer>[0]) {
  return startImapDovecot(t, ['disable_plaintext_auth = no', 'login_greeting = Dovecot ready.']);
}

test('invalid-command limits: the same replies and the same disconnects as Dovecot 2.3', { skip }, async (t) => {
  const real = await realDovecot(t);
  const ours = await startTestServer(t);
  for (const script of SCRIPTS) {
    const want = await run(real.port, script);
    assert.ok(want.length > 0, script.name);
    assert.deepEqual(await run(ours.port, script), want, script.name);
  }
});

/** Session a selects Work, session b deletes it, then a sends `commands`: a's replies up to the close. */
async function deletedUnder(port: number, commands: readonly string[]): Promise<string[]> {
  const a = await TestClient.connect(port);
  const b = await TestClient.connect(port);
  try {
    await a.login();
    await b.login();
    const m = 'Subject: x\r\n\r\nhello\r\n';
    await a.cmd('c', 'CREATE Work');
    await a.cmd('p', `APPEND Work {${m.length}+}\r\n${m}`);
    await a.cmd('s', 'SELECT Work');
    assert.match((await b.cmd('d', 'DELETE Work')).at(-1)!, /^d OK /);
    const out: string[] = [];
    for (const [i, command] of commands.entries()) {
      a.send(`n${i} ${command}\r\n`);
      let l: string | undefined;
      do {
        l = await a.line(5000).catch(() => undefined);
        out.push(l === undefined ? '(closed)' : untimed(l).replace(/UIDVALIDITY [0-9]+/, 'UIDVALIDITY V'));
      } while (l !== undefined && !l.startsWith(`n${i} `));
      if (l === undefined) break;
    }
    return out;
  } finally {
    a.close();
    b.close();
  }
}

/**
 * What the session that had the mailbox selected sends next. Known differences, left out: Dovecot
 * ends a FETCH with `* BYE FETCH failed: …` even when the answer came from its index (we answer a
 * FETCH of flags from the session's snapshot and end the session at the next command; a FETCH of a
 * body gets the same BYE, but Dovecot first sends a bare `* 1 FETCH (UID 1)`), and ends a SEARCH's
 * or STATUS's session right after it (we at the next command).
 */
const AFTER_DELETE: readonly (readonly string[])[] = [
  ['NOOP'],
  ['STORE 1 +FLAGS (\\Seen)', 'NOOP'],
  ['EXPUNGE', 'NOOP'],
  ['COPY 1 INBOX', 'NOOP'],
  ['CLOSE', 'NOOP'],
  ['SELECT INBOX', 'NOOP'],
  ['IDLE'],
];

test('the selected mailbox deleted by another session: the next commands end the session as in Dovecot 2.3', { skip }, async (t) => {
  const real = await realDovecot(t);
  const ours = await startTestServer(t);
  for (const commands of AFTER_DELETE) {
    const want = await deletedUnder(real.port, commands);
    assert.ok(want.some((l) => l.startsWith('* BYE ')) || commands[0] === 'SELECT INBOX', `Dovecot, ${commands.join(', ')}: ${want.join(' | ')}`);
    assert.deepEqual(await deletedUnder(ours.port, commands), want, commands.join(', '));
  }
  const logged = (log: string): string[] => [...log.matchAll(/Disconnected: ((?:IMAP session state is inconsistent|FETCH failed)[^\n]*?) in=/g)].map((m) => m[1]!).sort();
  assert.equal(logged(real.log()).length, AFTER_DELETE.length - 1);
  // The last session's line follows its close.
  for (let i = 0; i < 100 && logged(ours.logs.join('\n')).length < AFTER_DELETE.length - 1; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(logged(ours.logs.join('\n')), logged(real.log()));
});
