/*
 * The log tools administrators point at a mail server, run on the logs an e2e mix produced:
 * pflogsumm (Debian's) on the MTA's maillog, and fail2ban-regex with fail2ban's stock filters
 * (/etc/fail2ban/filter.d/postfix.conf in mode=aggressive, dovecot.conf) on the MTA's and the
 * MDA's logs. The expected numbers are what scenario.ts did: 3 messages received (submission and
 * submissions), 4 deliveries (bob, alice and bob through info@, carol), 3 RCPT rejects and 1 SMTP
 * AUTH failure from 127.0.0.2, 1 IMAP and 1 POP3 login failure from 127.0.0.2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OUTSIDE } from './scenario.js';

export interface PflogsummTotals {
  received: number;
  delivered: number;
  deferred: number;
  bounced: number;
  rejected: number;
}

/** The "Grand Totals" message counts of a pflogsumm report. */
export function parsePflogsumm(report: string): PflogsummTotals {
  const get = (name: string): number => {
    const m = new RegExp(`^\\s*(\\d+)\\s+${name}\\b`, 'm').exec(report);
    if (!m) throw new Error(`pflogsumm report has no "${name}" count:\n${report}`);
    return Number(m[1]);
  };
  return { received: get('received'), delivered: get('delivered'), deferred: get('deferred'), bounced: get('bounced'), rejected: get('rejected') };
}

export function runPflogsumm(logText: string): string {
  const file = join(tmpdir(), `postern-pflogsumm-${process.pid}-${Date.now()}.log`);
  writeFileSync(file, logText);
  const r = spawnSync('pflogsumm', ['--no-no-msg-size', file], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`pflogsumm failed: ${r.stderr}`);
  return r.stdout;
}

export async function checkPflogsumm(log: () => string): Promise<void> {
  // Deliveries are logged when LMTP answers; the scenario already waited for the maildir files,
  // so only the log write may lag: poll for the last status=sent line.
  const end = Date.now() + 30_000;
  while ((log().match(/ status=sent /g) ?? []).length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  const report = runPflogsumm(log());
  assert.deepEqual(parsePflogsumm(report), { received: 3, delivered: 4, deferred: 0, bounced: 0, rejected: 3 }, `${report}\n--- log ---\n${log()}`);
}

export interface Fail2banResult {
  matched: number;
  /** The IP of every matched line, as the filter's <HOST> captured it. */
  ips: string[];
  output: string;
}

/** fail2ban-regex LOG FILTER, printing the captured IP of each failure (`-o ip`). */
export function fail2banRegex(logFile: string, filter: string): Fail2banResult {
  const r = spawnSync('fail2ban-regex', ['-o', 'ip', logFile, filter], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`fail2ban-regex ${filter} failed (${r.status}): ${r.stdout}${r.stderr}`);
  const ips = r.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[0-9a-f.:]+$/i.test(l) && l.includes('.'));
  const stats = spawnSync('fail2ban-regex', ['--print-all-matched', logFile, filter], { encoding: 'utf8', timeout: 120_000 });
  const m = /^Lines: \d+ lines, \d+ ignored, (\d+) matched/m.exec(stats.stdout);
  if (!m) throw new Error(`fail2ban-regex summary not understood:\n${stats.stdout}${stats.stderr}`);
  return { matched: Number(m[1]), ips, output: stats.stdout };
}

export async function checkFail2banPostfix(maillog: string): Promise<void> {
  const r = fail2banRegex(maillog, '/etc/fail2ban/filter.d/postfix.conf[mode=aggressive]');
  assert.equal(r.matched, 4, r.output);
  assert.deepEqual(r.ips, [OUTSIDE, OUTSIDE, OUTSIDE, OUTSIDE], r.output);
}

export async function checkFail2banDovecot(dovecotLog: string): Promise<void> {
  const r = fail2banRegex(dovecotLog, '/etc/fail2ban/filter.d/dovecot.conf');
  assert.equal(r.matched, 2, r.output);
  assert.deepEqual(r.ips, [OUTSIDE, OUTSIDE], r.output);
}
