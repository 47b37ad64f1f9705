/*
 * The header fields cleanup (and the programs in front of it) add, as Postfix 3.7 writes them
 * (pure; observed against real Postfix, reference/postfix.md §5.4, §6.2, §11):
 *   smtpd:  Received: from <helo> (<name> [<addr>])\n\tby <host> (Postfix) with <proto> id <QID>\n\tfor <rcpt>; <date>
 *           (no recipient or several: `…id <QID>;\n\t<date>`; smtpd_tls_received_header adds `\t(using …)`)
 *   pickup: Received: by <host> (Postfix, from userid <uid>)\n\tid <QID>; <date>
 *   bounce: Received: by <host> (Postfix)\n\tid <QID>; <date>   (Postfix's post_mail)
 *   Message-Id: <YYYYMMDDHHMMSS.QID@myhostname> (short IDs, UTC stamp) or <QID@myhostname> (long IDs)
 *   Date: <mail_date>;  From: <Full Name> <sender> (or the bare sender; MAILER-DAEMON for "")
 * Fields are returned as text with folded lines joined by `\n`.
 */
import type { ClientInfo, MessageOrigin } from './api.js';
import { mailDate, messageIdStamp } from './mail-date.js';

export interface ReceivedInput {
  origin: MessageOrigin;
  myhostname: string;
  mailName: string;
  queueId: string;
  date: Date;
  client?: ClientInfo;
  localUid?: number;
  /** Envelope recipients as received (the `for` clause only when there is exactly one). */
  recipients: readonly string[];
}

/** The Received field for a message entering through `origin`; undefined for requeued mail. */
export function receivedHeader(i: ReceivedInput): string | undefined {
  const date = mailDate(i.date);
  if (i.origin === 'requeue') return undefined;
  if (i.origin === 'pickup') {
    return `Received: by ${i.myhostname} (${i.mailName}, from userid ${i.localUid ?? 0})\n\tid ${i.queueId}; ${date}`;
  }
  if (i.origin === 'bounce' || i.client === undefined) {
    return `Received: by ${i.myhostname} (${i.mailName})\n\tid ${i.queueId}; ${date}`;
  }
  const c = i.client;
  const addr = c.addr.includes(':') ? `IPv6:${c.addr}` : c.addr;
  const lines = [`Received: from ${c.helo ?? c.name} (${c.name} [${addr}])`];
  if (c.tls !== undefined) lines.push(`\t(using ${c.tls})`);
  if (i.recipients.length === 1) {
    lines.push(`\tby ${i.myhostname} (${i.mailName}) with ${c.protocol} id ${i.queueId}`);
    lines.push(`\tfor <${i.recipients[0]}>; ${date}`);
  } else {
    lines.push(`\tby ${i.myhostname} (${i.mailName}) with ${c.protocol} id ${i.queueId};`);
    lines.push(`\t${date}`);
  }
  return lines.join('\n');
}

export function generatedMessageId(queueId: string, myhostname: string, arrival: Date, longQueueIds: boolean): string {
  return longQueueIds ? `<${queueId}@${myhostname}>` : `<${messageIdStamp(arrival)}.${queueId}@${myhostname}>`;
}

const SPECIALS = /[()<>[\]:;@\\,."]/;

/** A display name as a phrase: quoted when it holds specials, RFC 2047-encoded when not ASCII. */
export function phrase(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[^\x20-\x7e]/.test(name)) return `=?utf-8?B?${Buffer.from(name, 'utf8').toString('base64')}?=`;
  if (SPECIALS.test(name)) return `"${name.replace(/(["\\])/g, '\\$1')}"`;
  return name;
}

/** From: for a message that has none (local submission). */
export function fromHeader(sender: string, fullName: string | undefined): string {
  if (sender === '') return 'From: MAILER-DAEMON';
  if (fullName !== undefined && fullName !== '') return `From: ${phrase(fullName)} <${sender}>`;
  return `From: ${sender}`;
}
