/*
 * Shared pieces of the real-Dovecot interop tests: the corpus loaded from manifest.json, a Dovecot
 * instance and a Postern server over the same maildir (Dovecot runs first and writes
 * dovecot-uidlist, so both number messages alike; file times are preserved so INTERNALDATE
 * agrees), and a comparison of per-command replies modulo the timing suffix.
 */
import assert from 'node:assert/strict';
import { chmodSync, cpSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { createDovecotInstance, type DovecotInstance } from '../../../helpers/dovecot-instance.js';
import { startTestServer, TestClient, untimed, type TestServer } from './harness.js';

const top = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../..');
export const corpusDir = process.env['POSTERN_CORPUS'] ?? resolve(top, '../shared/corpus');

export interface CorpusMessage {
  readonly base: string;
  readonly bytes: Buffer;
  readonly thread: string | null;
}

export function loadCorpus(filter?: (m: CorpusMessage) => boolean): CorpusMessage[] {
  const manifest = JSON.parse(readFileSync(join(corpusDir, 'manifest.json'), 'utf8')) as { messages: { file: string; thread: string | null }[] };
  const all = manifest.messages.map((m) => ({
    base: m.file.replace(/^messages\//, '').replace(/\.eml$/, ''),
    bytes: readFileSync(join(corpusDir, m.file)),
    thread: m.thread,
  }));
  return filter ? all.filter(filter) : all;
}

export interface Reply {
  untagged: string[];
  tagged: string;
}

/** Splits a transcript into replies by tag; untagged lines belong to the next tagged line. */
export function splitByTag(lines: string[]): Map<string, Reply> {
  const out = new Map<string, Reply>();
  let pending: string[] = [];
  for (const l of lines) {
    const m = /^([A-Za-z0-9]+) (OK|NO|BAD)/.exec(l);
    if (m) {
      out.set(m[1]!, { untagged: pending, tagged: untimed(l).replace(/^[A-Za-z0-9]+ /, '') });
      pending = [];
    } else if (l.startsWith('* ')) pending.push(l);
  }
  return out;
}

/** Response lines of a byte string, literals kept inside their line. */
export function responseLines(s: string): string[] {
  const out: string[] = [];
  let pos = 0;
  let start = 0;
  while (pos < s.length) {
    const nl = s.indexOf('\r\n', pos);
    if (nl < 0) break;
    const m = /\{([0-9]+)\}$/.exec(s.slice(pos, nl));
    if (m) {
      pos = nl + 2 + Number(m[1]);
      continue;
    }
    out.push(s.slice(start, nl));
    pos = nl + 2;
    start = pos;
  }
  return out;
}

/** Dovecot with the messages in INBOX, each file with its own mtime (one minute apart, shuffled). */
export function dovecotWithCorpus(t: TestContext, messages: readonly CorpusMessage[]): DovecotInstance {
  const dc = createDovecotInstance(t);
  dc.addMessages(messages.map((m) => ({ base: m.base, bytes: m.bytes })));
  const cur = join(dc.maildir, 'cur');
  const base = Date.UTC(2024, 0, 1) / 1000;
  for (const f of readdirSync(cur)) {
    // A fixed pseudo-random permutation, with some equal times to exercise the tie-break.
    let h = 0;
    for (const ch of f) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    const when = base + (h % 97) * 60;
    utimesSync(join(cur, f), when, when);
  }
  return dc;
}

/** One Dovecot imap run per command (no interleaving), after `prelude` lines. */
export function dovecotReplies(dc: DovecotInstance, prelude: readonly string[], script: readonly string[]): Map<string, Reply> {
  const theirs = new Map<string, Reply>();
  script.forEach((cmd, i) => {
    const pre = prelude.map((p, j) => `p${j} ${p}\r\n`).join('');
    const r = dc.imap(Buffer.from(`${pre}t${i} ${cmd}\r\nz LOGOUT\r\n`, 'utf8'));
    const rep = splitByTag(responseLines(r.stdout.toString('latin1'))).get(`t${i}`);
    assert.ok(rep, `dovecot gave no reply to ${cmd}: ${r.stderr}`);
    theirs.set(`t${i}`, rep);
  });
  return theirs;
}

/** Postern over a copy of Dovecot's home, logged in. */
export async function posternOver(t: TestContext, dc: DovecotInstance): Promise<{ server: TestServer; client: TestClient }> {
  const server = await startTestServer(t);
  cpSync(dc.home, join(server.dir, 'home', 'u1'), { recursive: true, preserveTimestamps: true });
  chmodSync(join(server.dir, 'home', 'u1'), 0o755);
  const client = await TestClient.connect(server.port);
  t.after(() => client.close());
  await client.login();
  return { server, client };
}

/** Runs `script` on our side and returns the differences not excused by `known`. */
export async function compareScript(c: TestClient, prelude: readonly string[], script: readonly string[], theirs: Map<string, Reply>, known: Record<string, string> = {}): Promise<string[]> {
  for (let j = 0; j < prelude.length; j++) await c.cmd(`p${j}`, Buffer.from(prelude[j]!, 'utf8').toString('latin1'));
  const diffs: string[] = [];
  for (let i = 0; i < script.length; i++) {
    const ours = splitByTag(await c.cmd(`t${i}`, Buffer.from(script[i]!, 'utf8').toString('latin1'))).get(`t${i}`)!;
    const want = theirs.get(`t${i}`)!;
    if (JSON.stringify(want) !== JSON.stringify(ours) && known[script[i]!] === undefined) {
      const wl = want.untagged;
      const ol = ours.untagged;
      const first = Math.max(0, wl.findIndex((l, j) => l !== ol[j]));
      diffs.push(`${script[i]}\n  dovecot(${wl.length}) ${want.tagged}: ${JSON.stringify(wl[first])?.slice(0, 400)}\n  postern(${ol.length}) ${ours.tagged}: ${JSON.stringify(ol[first])?.slice(0, 400)}`);
    }
  }
  return diffs;
}
