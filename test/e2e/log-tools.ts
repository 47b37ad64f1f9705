/*
 * The log tools administrators point at a mail server, run on the logs an e2e mix produced:
 * pflogsumm (Debian's) on the MTA's maillog, and fail2ban-regex with fail2ban's stock filters
 * (/etc/fail2ban/filter.d/postfix.conf in mode=aggressive, dovecot.conf) on the MTA's and the
 * MDA's logs. The expected numbers are what scenario.ts did: 3 messages received (submission and
 * submissions), 4 deliveries (bob, alice and bob through info@, carol), 3 RCPT rejects and 1 SMTP
 * AUTH failure from 127.0.0.2, 1 IMAP and 1 POP3 login failure from 127.0.0.2. After the
 * undeliverable step (undeliverable.ts): 2 more received, 1 deferred, 1 bounced, 1 more delivered
 * (the non-delivery notice to alice), and pflogsumm's "message deferral detail" and "message
 * bounce detail (by relay)" sections list the two failures with Postfix's reasons.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OUTSIDE } from './scenario.js';
import { UNREACHABLE, type Undeliverable } from './undeliverable.js';

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
  try {
    const r = spawnSync('pflogsumm', ['--no-no-msg-size', file], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`pflogsumm failed: ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(file, { force: true });
  }
}

export async function checkPflogsumm(log: () => string): Promise<void> {
  // Deliveries are logged when LMTP answers; the scenario already waited for the maildir files,
  // so only the log write may lag: poll for the last status=sent line.
  const end = Date.now() + 30_000;
  while ((log().match(/ status=sent /g) ?? []).length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  const report = runPflogsumm(log());
  assert.deepEqual(parsePflogsumm(report), { received: 3, delivered: 4, deferred: 0, bounced: 0, rejected: 3 }, `${report}\n--- log ---\n${log()}`);
}

export interface PflogsummGroup {
  /** The group line ("smtp", or a relay such as "host[addr]:25"). */
  group: string;
  total: number;
  /** [count, reason] lines under it. */
  items: [number, string][];
}

/** One of pflogsumm's "problems" sections (`message deferral detail`, …) as groups of counted reasons. */
export function pflogsummSection(report: string, title: string): PflogsummGroup[] {
  const lines = report.split('\n');
  const at = lines.findIndex((l) => l === title || l === `${title}: none`);
  if (at < 0) throw new Error(`pflogsumm report has no "${title}" section:\n${report}`);
  const out: PflogsummGroup[] = [];
  for (const l of lines.slice(at + 2)) {
    if (l.trim() === '') break;
    const g = /^ {2}(\S.*) \(total: (\d+)\)$/.exec(l);
    if (g) {
      out.push({ group: g[1]!, total: Number(g[2]), items: [] });
      continue;
    }
    const i = /^\s+(\d+)\s+(.*)$/.exec(l);
    if (i && out.length > 0) out[out.length - 1]!.items.push([Number(i[1]), i[2]!]);
  }
  return out;
}

/** pflogsumm's said_string_trimmer(): drop "... said: " and leading "xxx: " fields, then cut with "...". */
export function saidStringTrimmer(text: string, max: number): string {
  let s = text;
  while (s.length > max) {
    if (/^.* said: /.test(s)) s = s.replace(/^.* said: /, '');
    else if (/^.*: */.test(s)) s = s.replace(/^.*?: */, '');
    else return `${s.slice(0, max - 3)}...`;
  }
  return s;
}

/**
 * After the undeliverable step: the grand totals count the deferral and the bounce, and the detail
 * sections list them under the smtp program and the refusing relay, with the reasons as Postfix
 * words them (and as pflogsumm trims them).
 */
export async function checkPflogsummUndeliverable(log: () => string, u: Undeliverable): Promise<void> {
  const end = Date.now() + 60_000;
  const ready = (): boolean => {
    const text = log();
    return (text.match(/ status=sent /g) ?? []).length >= 5 && text.includes(`to=<${u.deferredTo}>`) && / status=deferred /.test(text) && / status=bounced /.test(text);
  };
  while (!ready() && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  const report = runPflogsumm(log());
  const why = `${report}\n--- log ---\n${log()}`;
  assert.deepEqual(parsePflogsumm(report), { received: 5, delivered: 5, deferred: 1, bounced: 1, rejected: 3 }, why);
  assert.match(report, /^\s+1\s+deferred\s+\(1\s+deferrals\)$/m, why);
  const deferral = `connect to ${UNREACHABLE}[${UNREACHABLE}]:25: Connection refused`;
  assert.deepEqual(pflogsummSection(report, 'message deferral detail'), [
    { group: 'smtp', total: 1, items: [[1, deferral.replace(/^connect to /, '')]] },
  ], why);
  const bounce = `host ${u.refuser}[${u.refuser}] said: ${u.refusal} (in reply to RCPT TO command)`;
  assert.deepEqual(pflogsummSection(report, 'message bounce detail (by relay)'), [
    { group: `${u.refuser}[${u.refuser}]:25`, total: 1, items: [[1, saidStringTrimmer(bounce, 66).replace(/^\d{3} /, '')]] },
  ], why);
  // The per-recipient log lines pflogsumm read, in Postfix's words.
  assert.match(log(), new RegExp(`: to=<${esc(u.deferredTo)}>, relay=none, delay=[0-9.]+, delays=[0-9./]+, dsn=4\\.4\\.1, status=deferred \\(${esc(deferral)}\\)`), why);
  assert.match(log(), new RegExp(`: to=<${esc(u.bouncedTo)}>, relay=${esc(u.refuser)}\\[${esc(u.refuser)}\\]:25, delay=[0-9.]+, delays=[0-9./]+, dsn=5\\.1\\.1, status=bounced \\(${esc(bounce)}\\)`), why);
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
