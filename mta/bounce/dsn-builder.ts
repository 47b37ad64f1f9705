/*
 * The RFC 3464 notice builder (pure): (queue record + the recipients to report + original content)
 * → the notice's bytes, in Postfix 3.7's format (reference/postfix.md §6.6, compared line by line
 * with a real Postfix bounce in test/mta/bounce/postfix-interop.test.ts):
 *   top-level Date/From/Subject/To/Auto-Submitted/MIME-Version/Content-Type (boundary
 *   `<QID>.<unix time>/<myhostname>`)/Content-Transfer-Encoding (cleanup adds Message-Id);
 *   part 1 `Notification` (template text, then `<rcpt>: reason` per recipient, folded as
 *   line_wrap(79, 4)); part 2 `Delivery report` (Reporting-MTA, Original-Envelope-Id, X-Postfix-Queue-ID,
 *   X-Postfix-Sender, Arrival-Date, then per recipient Final-Recipient, Original-Recipient,
 *   Action, Status, Remote-MTA, Diagnostic-Code); part 3 the returned message: `message/rfc822`,
 *   or `text/rfc822-headers` for RET=HDRS, above bounce_size_limit, and for delay/success notices.
 * Lines end in CRLF. The original content is read from `content` and copied as is.
 */
import type { QueueRecord, RecipientRecord } from '../queue/types.js';
import { mailDate } from '../cleanup/mail-date.js';
import { parseHeaderBlock } from '../cleanup/headers.js';
import { fillTemplate, TEMPLATES, type NoticeKind } from './templates.js';
import { lineWrap } from './line-wrap.js';

export interface DsnBuildInput {
  kind: NoticeKind;
  /** The original message's record. */
  record: QueueRecord;
  /** The recipients this notice reports on. */
  recipients: readonly RecipientRecord[];
  /** The original message content (CRLF lines, as stored). */
  content: Buffer;
  /** Notice recipient for the To: header. */
  to: string;
  /** Postmaster copy: the postmaster subject and headers only. */
  postmaster?: boolean;
  myhostname: string;
  myorigin: string;
  /** Notice creation time (Date: and the boundary's unix time). */
  now: Date;
  bounceSizeLimit: number;
  /** utf-8 when smtputf8_enable (Postfix's default), else us-ascii. */
  charset: string;
  delayWarningHours?: number;
  maximalQueueLifetimeDays?: number;
}

const ACTION: Record<NoticeKind, string> = { failure: 'failed', delay: 'delayed', success: 'delivered' };

/** `host mx[1.2.3.4] said: 550 5.1.1 … (in reply to RCPT TO command)` → the remote MTA and the reply. */
export function parseRemoteReason(reason: string): { mta: string; reply: string } | undefined {
  const m = /^host (\S+?)\[[^\]]*\](?::\d+)? said: (\d{3}[ -].*?)(?: \(in reply to [^)]*\))?$/s.exec(reason);
  return m ? { mta: m[1]!, reply: m[2]!.replace(/\s*\n\s*/g, ' ') } : undefined;
}

/** The text of one recipient in the notification part: `<final> (expanded from <orig>): reason`. */
export function recipientLine(r: RecipientRecord): string {
  const orig = r.originalAddress !== undefined && r.originalAddress !== r.address ? ` (expanded from <${r.originalAddress}>)` : '';
  return `<${r.address}>${orig}: ${r.reason ?? ''}`;
}

/** The per-recipient block of the delivery-status part (without the trailing blank line). */
export function recipientReport(kind: NoticeKind, r: RecipientRecord): string[] {
  const lines = [`Final-Recipient: rfc822; ${r.address}`];
  if (r.orcpt !== undefined) lines.push(`Original-Recipient: ${r.orcpt}`);
  else lines.push(`Original-Recipient: rfc822;${r.originalAddress ?? r.address}`);
  lines.push(`Action: ${ACTION[kind]}`);
  lines.push(`Status: ${r.dsnStatus ?? (kind === 'success' ? '2.0.0' : kind === 'delay' ? '4.0.0' : '5.0.0')}`);
  const remote = r.reason !== undefined ? parseRemoteReason(r.reason) : undefined;
  if (remote) {
    lines.push(`Remote-MTA: dns; ${remote.mta}`);
    lines.push(...lineWrap(`Diagnostic-Code: smtp; ${remote.reply}`));
  } else if (r.reason !== undefined && r.reason !== '') {
    lines.push(...lineWrap(`Diagnostic-Code: X-Postfix; ${r.reason}`));
  }
  return lines;
}

/** True when the whole original goes back (message/rfc822), false for headers only. */
export function returnsFullMessage(kind: NoticeKind, rec: QueueRecord, bounceSizeLimit: number, postmaster: boolean): boolean {
  if (kind !== 'failure' || postmaster) return false;
  if (rec.ret === 'HDRS') return false;
  return rec.size <= bounceSizeLimit;
}

export function boundaryOf(queueId: string, now: Date, myhostname: string): string {
  return `${queueId}.${Math.floor(now.getTime() / 1000)}/${myhostname}`;
}

export function buildDsn(i: DsnBuildInput): Buffer {
  const t = TEMPLATES[i.kind];
  const rec = i.record;
  const boundary = boundaryOf(rec.id, i.now, i.myhostname);
  const head: string[] = [
    `Date: ${mailDate(i.now)}`,
    `From: Mail Delivery System <MAILER-DAEMON@${i.myorigin}>`,
    `Subject: ${i.postmaster && t.postmasterSubject ? t.postmasterSubject : t.subject}`,
    `To: ${i.to}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status;',
    `\tboundary="${boundary}"`,
    'Content-Transfer-Encoding: 8bit',
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    `Content-Type: text/plain; charset=${i.charset}`,
    'Content-Transfer-Encoding: 8bit',
    '',
    ...fillTemplate(t.text, {
      myhostname: i.myhostname,
      delay_warning_time_hours: String(i.delayWarningHours ?? 0),
      maximal_queue_lifetime_days: String(i.maximalQueueLifetimeDays ?? 5),
    }),
    '',
  ];
  for (const r of i.recipients) head.push(...lineWrap(recipientLine(r)), '');
  head.push(`--${boundary}`, 'Content-Description: Delivery report', 'Content-Type: message/delivery-status', '');
  head.push(`Reporting-MTA: dns; ${i.myhostname}`);
  if (rec.envid !== undefined) head.push(`Original-Envelope-Id: ${rec.envid}`);
  head.push(`X-Postfix-Queue-ID: ${rec.id}`, `X-Postfix-Sender: rfc822; ${rec.sender}`, `Arrival-Date: ${mailDate(new Date(rec.arrivalTime))}`, '');
  for (const r of i.recipients) head.push(...recipientReport(i.kind, r), '');

  const full = returnsFullMessage(i.kind, rec, i.bounceSizeLimit, i.postmaster ?? false);
  const what = i.kind === 'success' ? 'Delivered Message' : 'Undelivered Message';
  head.push(`--${boundary}`);
  head.push(full ? `Content-Description: ${what}` : `Content-Description: ${what} Headers`);
  head.push(full ? 'Content-Type: message/rfc822' : 'Content-Type: text/rfc822-headers');
  head.push('Content-Transfer-Encoding: 8bit', '', `Return-Path: <${rec.sender}>`);
  let original = i.content;
  if (!full) {
    const { bodyOffset } = parseHeaderBlock(i.content, Number.MAX_SAFE_INTEGER);
    original = i.content.subarray(0, bodyOffset);
    // The header block without its terminating empty line.
    const s = original.toString('latin1');
    if (s.endsWith('\r\n\r\n')) original = original.subarray(0, original.length - 2);
    else if (s.endsWith('\n\n')) original = original.subarray(0, original.length - 1);
  }
  const tail: string[] = [];
  if (original.length > 0 && original[original.length - 1] !== 0x0a) tail.push('');
  tail.push('', `--${boundary}--`, '');
  return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n', 'utf8'), original, Buffer.from(tail.join('\r\n'), 'utf8')]);
}
