/*
 * Sessions sharing one store (as a user's sessions in a mail worker do, mda/store-cache.ts) must
 * answer exactly as sessions with a store each (as sessions in separate processes, or Dovecot's
 * imap processes). A seeded random script of commands from three sessions of one user (SELECT,
 * EXAMINE, STORE, EXPUNGE, APPEND, MOVE, COPY, FETCH, SEARCH, STATUS, NOOP) and deliveries through
 * the storage API runs on both set-ups, one command at a time; the transcripts must be the same.
 * Then the three sessions send commands at once (interleaved on the shared objects, or racing on
 * the files with a store each): no command may fail on the server's side (this found two sessions
 * copying one message at once failing with NO [SERVERBUG], storage/maildir/ops.ts), and every
 * session must afterwards see what a new session sees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { msg, startTestServer, TestClient, untimed } from './harness.js';
import { rng } from '../../../helpers/rng.js';

/** Lines with what differs between two runs of the same script (UIDVALIDITY, timings) made equal. */
function normal(lines: string[]): string[] {
  return lines.map((l) => untimed(l)
    .replace(/\[(COPYUID|APPENDUID|UIDVALIDITY) [0-9]+/g, '[$1 V')
    .replace(/UIDVALIDITY [0-9]+/g, 'UIDVALIDITY V'));
}

function appendCmd(subject: string): string {
  const m = msg(subject);
  return `APPEND INBOX (\\Seen) {${Buffer.byteLength(m)}+}\r\n${m}`;
}

async function setUp(t: TestContext, sharedStores: boolean) {
  const s = await startTestServer(t, { sharedStores });
  const store = await s.store('u1');
  for (let i = 0; i < 6; i++) await store.deliver('INBOX', Buffer.from(msg(`m${i}`)));
  const clients: TestClient[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await TestClient.connect(s.port);
    t.after(() => c.close());
    await c.login();
    clients.push(c);
  }
  await clients[0]!.cmd('c0', 'CREATE Other');
  await clients[0]!.cmd('s0', 'SELECT INBOX');
  await clients[1]!.cmd('s1', 'SELECT INBOX');
  await clients[2]!.cmd('s2', 'EXAMINE INBOX');
  return { s, store, clients };
}

/** One random step: a command for session `k`, or (k = -1) a delivery. */
function step(r: () => number, n: number): { k: number; command: string } {
  const k = Math.floor(r() * 4) - 1;
  const seq = 1 + Math.floor(r() * 8);
  const range = r() < 0.5 ? `${seq}` : `${seq}:*`;
  const flag = ['\\Seen', '\\Flagged', '\\Answered', '$Work', '\\Deleted'][Math.floor(r() * 5)]!;
  const commands = [
    'NOOP',
    `STORE ${range} +FLAGS (${flag})`,
    `STORE ${range} -FLAGS.SILENT (${flag})`,
    `UID STORE ${seq}:* FLAGS (\\Seen)`,
    'EXPUNGE',
    appendCmd(`a${n}`),
    `MOVE ${seq} Other`,
    `COPY ${range} Other`,
    'FETCH 1:* (UID FLAGS MODSEQ)',
    'UID SEARCH UNSEEN',
    'SEARCH DELETED',
    'STATUS Other (MESSAGES UNSEEN UIDNEXT)',
    'SELECT INBOX',
    'EXAMINE INBOX',
  ];
  return { k, command: commands[Math.floor(r() * commands.length)]! };
}

async function script(t: TestContext, sharedStores: boolean, seed: number, steps: number): Promise<string[]> {
  const { s, store, clients } = await setUp(t, sharedStores);
  if (sharedStores) assert.equal(s.storesOpened(), 1, 'the sessions and the deliveries share one store');
  const r = rng(seed);
  const transcript: string[] = [];
  for (let i = 0; i < steps; i++) {
    const { k, command } = step(r, i);
    if (k < 0) {
      const res = await store.deliver('INBOX', Buffer.from(msg(`d${i}`)));
      transcript.push(`deliver -> uid ${res.uid}`);
      continue;
    }
    const lines = await clients[k]!.cmd(`t${i}`, command);
    transcript.push(`${k} ${command.split('\r\n')[0]}`, ...normal(lines));
  }
  return transcript;
}

for (const seed of [1, 2, 3]) {
  test(`seeded script ${seed}: a shared store answers as one store per session`, async (t) => {
    const own = await script(t, false, seed, 150);
    const shared = await script(t, true, seed, 150);
    // Not vacuous: the script changed flags, expunged and moved mail.
    assert.ok(own.some((l) => / EXPUNGE$/.test(l)) && own.some((l) => /FETCH \(.*FLAGS/.test(l)), own.join('\n'));
    assert.deepEqual(shared, own);
  });
}

for (const mode of [{ name: 'a store each', sharedStores: false }, { name: 'one shared store', sharedStores: true }]) test(`three sessions sending at once (${mode.name}): no server error, and each then sees what a new session sees`, async (t) => {
  const { s, store, clients } = await setUp(t, mode.sharedStores);
  const r = rng(42);
  let n = 0;
  const rounds = clients.map(async (c, k) => {
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { command } = step(r, n++);
      const tag = `p${k}x${i}`;
      sent.push(tag);
      c.send(`${tag} ${command}\r\n`);
    }
    const out = await c.until(sent.at(-1)!, 30_000);
    return out;
  });
  const deliveries = (async () => {
    for (let i = 0; i < 10; i++) await store.deliver('INBOX', Buffer.from(msg(`x${i}`)));
  })();
  const outs = await Promise.all(rounds);
  await deliveries;
  for (const out of outs) {
    // A random sequence number past the end is the client's mistake (BAD Invalid messageset); anything else is not.
    const bad = out.filter((l) => (/^p\S+ (BAD|NO \[SERVERBUG\])/.test(l) && !l.includes('Invalid messageset')) || l.startsWith('* BYE'));
    assert.deepEqual(bad, [], out.join('\n'));
  }
  const fresh = await TestClient.connect(s.port);
  t.after(() => fresh.close());
  await fresh.login();
  await fresh.cmd('f0', 'EXAMINE INBOX');
  const strip = (lines: string[]) => lines.filter((l) => l.startsWith('* ') && l.includes(' FETCH ')).map((l) => l.replace(/\\Recent ?/, '').replace(/ \)/, ')').replace(/^\* [0-9]+ /, '* '));
  const want = strip(await fresh.cmd('f1', 'UID FETCH 1:* (FLAGS)'));
  assert.ok(want.length > 0);
  for (const [k, c] of clients.entries()) {
    await c.cmd(`e${k}`, 'EXAMINE INBOX');
    assert.deepEqual(strip(await c.cmd(`f${k}`, 'UID FETCH 1:* (FLAGS)')), want, `session ${k}`);
  }
  assert.equal(s.storesOpened(), mode.sharedStores ? 1 : 5);
});
