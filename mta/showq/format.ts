/*
 * The two queue listings that administrators' scripts parse, as pure formatters:
 *  - `postqueue -p` / `mailq` / `sendmail -bp` (Postfix showq_compat.c layout, reference/postfix.md §5.2);
 *  - `postqueue -j`: one JSON object per message per line (showq_json.c; member order and spacing as
 *    Postfix 3.7 prints them, `forced_expire` being 3.7's member name).
 * Input is the queue's view of each message; nothing here reads the queue.
 */

export type QueueName = 'incoming' | 'active' | 'deferred' | 'hold' | 'maildrop';

export interface ShowqRecipient {
  address: string;
  /** Last delay reason; empty when none was recorded. */
  delayReason: string;
}

export interface ShowqMessage {
  queueName: QueueName;
  queueId: string;
  /** Seconds since the epoch. */
  arrivalTime: number;
  /** Header plus body, in bytes. */
  size: number;
  forcedExpire: boolean;
  /** Envelope sender; "" for the null sender. */
  sender: string;
  recipients: ShowqRecipient[];
}

const ASCTIME_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const ASCTIME_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** asctime(localtime(t)) without the newline: "Fri Nov 27 17:42:39 2026" (day space-padded). */
export function asctime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${ASCTIME_DAYS[d.getDay()]} ${ASCTIME_MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

function statusSuffix(m: ShowqMessage): string {
  const s = m.queueName === 'active' ? '*' : m.queueName === 'hold' ? '!' : '';
  return m.forcedExpire ? `${s}#` : s;
}

/** `postqueue -p` output. `longIds` follows enable_long_queue_ids (wider columns). */
export function formatMailq(messages: readonly ShowqMessage[], longIds = false): string {
  if (messages.length === 0) return 'Mail queue is empty\n';
  const [idW, sizeW, dateW] = longIds ? [17, 8, 19] : [11, 7, 20];
  const heading = longIds
    ? ['----Queue ID-----', '--Size--', '---Arrival Time----', '--Sender/Recipient------']
    : ['-Queue ID-', '--Size--', '----Arrival Time----', '-Sender/Recipient-------'];
  let out = `${heading[0]!.padEnd(idW)} ${heading[1]!.padStart(sizeW)} ${heading[2]!.padEnd(dateW)} ${heading[3]}\n`;
  let totalBytes = 0;
  for (const m of messages) {
    totalBytes += m.size;
    const sender = m.sender === '' ? 'MAILER-DAEMON' : m.sender;
    const when = asctime(m.arrivalTime).slice(0, dateW).padEnd(dateW);
    out += `${(m.queueId + statusSuffix(m)).padEnd(idW)} ${String(m.size).padStart(sizeW)} ${when} ${sender}\n`;
    let previous = '';
    for (const r of m.recipients) {
      if (r.delayReason !== previous) {
        const reason = r.delayReason === '' ? 'reason unavailable' : r.delayReason;
        out += `${' '.repeat(Math.max(0, 76 - reason.length))}(${reason})\n`;
        previous = r.delayReason;
      }
      out += `${' '.repeat(41)}${r.address}\n`;
    }
    out += '\n';
  }
  const n = messages.length;
  out += `-- ${Math.floor(totalBytes / 1024)} Kbytes in ${n} Request${n === 1 ? '' : 's'}.\n`;
  return out;
}

/** JSON string quoting as Postfix's showq_json: \" \\ \b \f \n \r \t, other controls as \u00XX. */
export function jsonQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** One `postqueue -j` line (without the newline). */
export function formatJsonLine(m: ShowqMessage): string {
  const rcpts = m.recipients
    .map((r) =>
      r.delayReason === ''
        ? `{"address": ${jsonQuote(r.address)}}`
        : `{"address": ${jsonQuote(r.address)}, "delay_reason": ${jsonQuote(r.delayReason)}}`,
    )
    .join(', ');
  return (
    `{"queue_name": ${jsonQuote(m.queueName)}, "queue_id": ${jsonQuote(m.queueId)}, ` +
    `"arrival_time": ${m.arrivalTime}, "message_size": ${m.size}, "forced_expire": ${m.forcedExpire}, ` +
    `"sender": ${jsonQuote(m.sender)}, "recipients": [${rcpts}]}`
  );
}
