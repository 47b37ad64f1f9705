/*
 * Maildir fixtures written directly as files (no server involved), so both peers get identical
 * copies: `<time>.M<n>P<user>.bench,S=<size>,W=<size>:2,<flags>` in cur/ (CRLF bytes, so the
 * virtual size equals the file size). Every third message is \Seen, every seventh \Flagged.
 * A template tree is written once and copied for each run with `cp -a`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function flagsFor(i: number): string {
  return `${i % 7 === 0 ? 'F' : ''}${i % 3 === 0 ? 'S' : ''}`;
}

/** Creates `<root>/<user>/Maildir` with `count` messages taken round-robin from `bodies`. */
export function writeMaildir(root: string, user: string, userNo: number, count: number, bodies: readonly Buffer[]): string {
  const md = join(root, user, 'Maildir');
  for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(md, d), { recursive: true });
  const t0 = 1_700_000_000;
  for (let i = 0; i < count; i++) {
    const b = bodies[i % bodies.length]!;
    writeFileSync(join(md, 'cur', `${t0 + i}.M${i}P${userNo}.bench,S=${b.length},W=${b.length}:2,${flagsFor(i)}`), b);
  }
  return md;
}

/** Copies the contents of `from` into the existing directory `to`, keeping modes and times. */
export function copyTree(from: string, to: string): void {
  const r = spawnSync('cp', ['-a', `${from}/.`, to], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr}`);
}

/**
 * Empty INBOX maildirs for users 1..n (existing mailboxes, the steady state). Also keeps first
 * deliveries from racing to create the same maildir, which our MDA loses today (ENOENT on tmp/).
 */
export function createEmptyMaildirs(root: string, names: readonly string[]): void {
  for (const u of names) for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(root, u, 'Maildir', d), { recursive: true });
}
