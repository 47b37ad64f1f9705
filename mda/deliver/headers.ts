/*
 * The header lines Dovecot 2.3's LMTP prepends to a delivered message (lmtp-local.c,
 * lmtp_local_add_headers / smtp_server_transaction_write_trace_record), byte for byte as observed
 * (reference/transcripts.md §5.2):
 *
 *   Return-Path: <sender>
 *   Delivered-To: rcpt                      (one recipient only; lmtp_hdr_delivery_address)
 *   Received: from <lhlo>[ ([<client ip>])] (the IP only over TCP)
 *   \tby <hostname> with LMTP
 *   \tid <transaction id>
 *   \t(envelope-from <sender>)[
 *   \tfor <rcpt>]; <RFC 5322 date>           (`for` only with one recipient)
 *
 * Also extracts the Message-ID for the log line (`msgid=<…>`, `unspecified` when absent). Pure;
 * the message header is distrusted: the Message-ID is unfolded, stripped of control characters
 * and shortened before it reaches a log.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** RFC 5322 date-time in local time: `Fri, 27 Nov 2026 17:41:14 +0000`. */
export function rfc5322Date(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${DAYS[d.getDay()]}, ${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

export interface TraceHeaderInput {
  readonly sender: string;
  /** Set when there is exactly one recipient (and the header is wanted). */
  readonly deliveredTo: string | undefined;
  /** The single recipient for the `for` clause, undefined with several. */
  readonly forRcpt: string | undefined;
  readonly lhloName: string;
  readonly remoteIp: string | undefined;
  readonly hostname: string;
  readonly transactionId: string;
  readonly addReceived: boolean;
  readonly date: Date;
}

/** The prepended header block, CRLF line ends (storage turns them into LF). */
export function traceHeaders(i: TraceHeaderInput): string {
  const lines = [`Return-Path: <${i.sender}>`];
  if (i.deliveredTo !== undefined) lines.push(`Delivered-To: ${i.deliveredTo}`);
  if (i.addReceived) {
    const from = `${i.lhloName !== '' ? i.lhloName : 'unknown'}${i.remoteIp !== undefined ? ` ([${i.remoteIp}])` : ''}`;
    lines.push(`Received: from ${from}`, `\tby ${i.hostname} with LMTP`, `\tid ${i.transactionId}`);
    const date = rfc5322Date(i.date);
    if (i.forRcpt !== undefined) lines.push(`\t(envelope-from <${i.sender}>)`, `\tfor <${i.forRcpt}>; ${date}`);
    else lines.push(`\t(envelope-from <${i.sender}>); ${date}`);
  }
  return lines.map((l) => `${l}\r\n`).join('');
}

/** The Message-ID for logs: `<id@host>` as written, or `unspecified`. */
export function messageIdForLog(message: Uint8Array): string {
  const buf = Buffer.from(message.buffer, message.byteOffset, Math.min(message.byteLength, 64 * 1024));
  const text = buf.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const header = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  for (const line of header.split(/\r?\n/)) {
    const m = /^message-id:\s*(.*)$/i.exec(line);
    if (m) {
      const v = m[1]!.replace(/[\x00-\x1f\x7f]/g, '').trim();
      if (v !== '') return v.length > 200 ? `${v.slice(0, 197)}...` : v;
    }
  }
  return 'unspecified';
}
