/*
 * IMAP ENVELOPE (RFC 3501 §7.4.2) built like Dovecot 2.3 (message-part-data.c, imap-envelope.c):
 * the last Date/Subject/Message-ID/In-Reply-To wins while repeated address headers add up; Date, In-Reply-To and Message-ID are written as nstrings
 * without CR/LF; Subject and display names as "strings for humans"; Sender and Reply-To fall back
 * to From; an address header that yields no address is NIL.
 */
import { formatNstringNoLf, formatStringForHumans, type ByteString } from '../proto/formatter.js';
import { parseAddressList, type EnvelopeAddress } from './address.js';
import { lastField, type FieldList } from './header.js';

/** Every occurrence of an address header adds to the list (Dovecot appends duplicates). */
function addresses(h: FieldList, name: string): EnvelopeAddress[] | undefined {
  const lower = name.toLowerCase();
  const fields = h.fields.filter((f) => f.name.toLowerCase() === lower);
  if (fields.length === 0) return undefined;
  return fields.flatMap((f) => parseAddressList(f.value));
}

function writeAddresses(list: EnvelopeAddress[] | undefined): ByteString {
  if (!list || list.length === 0) return 'NIL';
  return `(${list
    .map((a) => `(${a.name === null ? 'NIL' : formatStringForHumans(a.name)} ${formatNstringNoLf(a.route)} ${formatNstringNoLf(a.mailbox)} ${formatNstringNoLf(a.domain)})`)
    .join('')})`;
}

export function buildEnvelope(h: FieldList): ByteString {
  const str = (name: string) => {
    const f = lastField(h, name);
    return f ? formatNstringNoLf(f.value) : 'NIL';
  };
  const subject = lastField(h, 'Subject');
  const from = addresses(h, 'From');
  const sender = addresses(h, 'Sender') ?? from;
  const replyTo = addresses(h, 'Reply-To') ?? from;
  return [
    str('Date'),
    subject ? formatStringForHumans(subject.value) : 'NIL',
    writeAddresses(from),
    writeAddresses(sender),
    writeAddresses(replyTo),
    writeAddresses(addresses(h, 'To')),
    writeAddresses(addresses(h, 'Cc')),
    writeAddresses(addresses(h, 'Bcc')),
    str('In-Reply-To'),
    str('Message-ID'),
  ].join(' ');
}
